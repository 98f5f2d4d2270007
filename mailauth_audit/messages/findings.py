"""Findings of a verified message: the pure step after collection (`verify.verify_message`),
each from the message catalogue with its stable code."""

from __future__ import annotations

import ipaddress

from ..changes import ChangeAction, RecordChange
from ..model import Severity
from ..records.zonefile import DEFAULT_TTL, zone_line
from . import catalogue as F
from .keys import RECOMMENDED_RSA_BITS
from .model import (
    ArcResult,
    AuthResult,
    BodyHashResult,
    DkimSignatureResult,
    DmarcDisposition,
    DmarcEvaluation,
    HygieneResult,
    MessageFinding,
    SpfEvaluation,
)

__all__ = ["arc_findings", "dkim_findings", "dmarc_findings", "hygiene_findings", "spf_findings"]

_KEY_PLACEHOLDER = "<base64 public key>"


def _add_txt(name: str, value: str, placeholders: tuple[str, ...] = ()) -> RecordChange:
    """A TXT record to publish where none is, at the TTL of a proposal."""
    return RecordChange(
        ChangeAction.ADD, name, "TXT", DEFAULT_TTL, proposed=value, placeholders=placeholders
    )


def _line(change: RecordChange) -> str:
    """The proposed record's zone line for the prose: written by the one zone-line function,
    so renderers find it there by comparing strings and show the change in its place."""
    return zone_line(change.name, change.rtype, change.proposed or "", change.ttl)


def _ip_mechanism(ip: str) -> str | None:
    """`ip4:` or `ip6:` for the client address (RFC 7208 §5.6); None when it is not one."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return f"ip{address.version}:{address.compressed}"


def hygiene_findings(
    h: HygieneResult, signatures: tuple[DkimSignatureResult, ...], mime_scan_limit: int
) -> list[MessageFinding]:
    out: list[MessageFinding] = []
    if h.from_header_count == 0:
        out.append(F.NO_FROM())
    elif h.from_header_count > 1 or len(h.from_addresses) > 1:
        out.append(
            F.MULTIPLE_FROM(
                headers=h.from_header_count,
                count=len(h.from_addresses),
                addresses=", ".join(h.from_addresses[:5]),
                evidence=h.from_addresses[:5],
            )
        )
    elif h.from_domain is None:
        address = h.from_addresses[0] if h.from_addresses else ""
        out.append(F.FROM_NO_DOMAIN(address=address))
    if h.date is None:
        out.append(F.MISSING_DATE())
    elif not h.date_valid:
        out.append(F.INVALID_DATE(date=h.date, evidence=[h.date]))
    if h.message_id is None:
        out.append(F.MISSING_MESSAGE_ID())
    elif not h.message_id_valid:
        out.append(F.INVALID_MESSAGE_ID(message_id=h.message_id, evidence=[h.message_id]))
    for name in h.duplicate_headers:
        if name != "from":  # already message.multiple_from
            out.append(F.DUPLICATE_HEADER(header=name, count="several"))
    if h.mime_defects:
        out.append(F.MIME_DEFECT(defects=", ".join(h.mime_defects)))
    if h.mime_not_checked_lines is not None:
        out.append(F.MIME_NOT_CHECKED(lines=h.mime_not_checked_lines, limit=mime_scan_limit))
    if h.non_ascii_headers:
        out.append(F.NON_ASCII_HEADER(headers=", ".join(h.non_ascii_headers[:10])))
    if not h.one_click:
        out.append(F.NO_UNSUBSCRIBE())
    elif not h.unsubscribe_signed and not any(
        {"list-unsubscribe", "list-unsubscribe-post"} <= set(s.signed_headers) for s in signatures
    ):  # when a failing signature covers them, the DKIM finding already names the cause
        out.append(F.UNSUBSCRIBE_UNSIGNED())
    return out


def dkim_findings(sigs: tuple[DkimSignatureResult, ...]) -> list[MessageFinding]:
    if not sigs:
        return [F.DKIM_NONE()]
    out: list[MessageFinding] = []
    any_pass = any(s.result is AuthResult.PASS for s in sigs)
    skipped = [s for s in sigs if s.result is AuthResult.POLICY]
    if skipped:
        out.append(
            F.DKIM_NOT_VERIFIED(
                count=len(skipped),
                total=len(sigs),
                reason=(skipped[0].reason or "").removeprefix("not verified: "),
            )
        )
    for s in sigs:
        if s.result is AuthResult.POLICY:
            continue
        values = {
            "index": s.index,
            "domain": s.domain or "?",
            "selector": s.selector or "?",
            "reason": s.reason or "",
            "key_name": s.key_record_name or "?",
            "expiration": s.expiration,
            "bits": s.key_bits,
            "length": s.body_length,
        }
        # a broken extra signature does not matter much when another one passes
        downgrade = Severity.MEDIUM if any_pass else None
        evidence = [s.key_record] if s.key_record else []
        reason = s.reason or ""
        if s.result is AuthResult.FAIL:
            if reason == "signature expired":
                out.append(F.DKIM_EXPIRED(values, severity=downgrade))
            elif s.body_hash is BodyHashResult.FAIL:
                out.append(F.DKIM_BODY_HASH(values, severity=downgrade))
            else:
                out.append(F.DKIM_FAIL(values, severity=downgrade, evidence=evidence))
        elif s.result is AuthResult.PERMERROR:
            if reason.startswith("no key"):
                key = _key_change(s)
                out.append(
                    F.DKIM_KEY_MISSING(
                        values,
                        severity=downgrade,
                        changes=(key,) if key else (),
                        zone_line=_line(key) if key else "a DKIM key record at the selector",
                    )
                )
            elif reason.startswith("key not acceptable"):
                out.append(
                    F.DKIM_KEY_NOT_ACCEPTABLE(
                        values, severity=downgrade, evidence=[(s.key_record or "")[:200]]
                    )
                )
            elif reason.startswith("inappropriate key algorithm"):
                out.append(
                    F.DKIM_KEY_ALGORITHM_MISMATCH(values, severity=downgrade, evidence=evidence)
                )
            elif reason.startswith("key revoked"):
                out.append(F.DKIM_KEY_REVOKED(values, severity=downgrade, evidence=evidence))
            else:
                out.append(F.DKIM_PERMERROR(values, severity=downgrade, evidence=evidence))
        elif s.result is AuthResult.TEMPERROR:
            out.append(F.DKIM_TEMPERROR(values))
        if s.domain is None:
            continue
        if s.key_type == "rsa" and s.key_bits and s.key_bits < RECOMMENDED_RSA_BITS:
            out.append(F.DKIM_WEAK_KEY(values, evidence=evidence))
        if s.algorithm == "rsa-sha1":
            out.append(F.DKIM_SHA1(values))
        if s.body_length is not None:
            out.append(F.DKIM_BODY_LENGTH(values))
        if s.signed_headers and not s.covers_from:
            out.append(F.DKIM_FROM_UNSIGNED(values))
    return out


def _key_change(s: DkimSignatureResult) -> RecordChange | None:
    """The key record the signature's selector lacks, its public key left to the owner."""
    if s.key_record_name is None:
        return None
    key_type = "ed25519" if (s.algorithm or "").startswith("ed25519") else "rsa"
    value = f"v=DKIM1; k={key_type}; p={_KEY_PLACEHOLDER}"
    return _add_txt(s.key_record_name, value, (_KEY_PLACEHOLDER,))


_SPF_SPECS = {
    AuthResult.FAIL: F.SPF_FAIL,
    AuthResult.SOFTFAIL: F.SPF_SOFTFAIL,
    AuthResult.NEUTRAL: F.SPF_NEUTRAL,
    AuthResult.NONE: F.SPF_NONE,
    AuthResult.PERMERROR: F.SPF_PERMERROR,
    AuthResult.TEMPERROR: F.SPF_TEMPERROR,
}


def spf_findings(spf_eval: SpfEvaluation) -> list[MessageFinding]:
    if spf_eval.not_checked_reason is not None:
        return [F.SPF_NOT_CHECKED(reason=spf_eval.not_checked_reason)]
    identity = spf_eval.mail_from or spf_eval.helo
    if identity is None:
        return []
    spec = _SPF_SPECS.get(identity.result)
    if spec is None:
        return []
    ip = spf_eval.envelope.client_ip or "?"
    mechanism = _ip_mechanism(ip) or f"ip4:{ip}"
    # no record at all: the one to publish is known. A failing record is not known here,
    # so spf_auth.fail names the term to add rather than a whole record that would drop
    # the others
    publish = _add_txt(identity.domain, f"v=spf1 {mechanism} -all")
    return [
        spec(
            identity="MAIL FROM" if identity.identity == "mailfrom" else "HELO",
            domain=identity.domain,
            ip=ip,
            result=identity.result.value,
            explanation=identity.explanation,
            mechanism=mechanism,
            changes=(publish,) if spec is F.SPF_NONE and _ip_mechanism(ip) else (),
            zone_line=_line(publish),
        )
    ]


def dmarc_findings(d: DmarcEvaluation, h: HygieneResult) -> list[MessageFinding]:
    """With several From domains (RFC 7489 §6.6.1), each domain's own findings, and one
    saying which domains were not evaluated."""
    if not d.per_domain:
        return _dmarc_domain_findings(d)
    out = [f for e in d.per_domain for f in _dmarc_domain_findings(e)]
    if d.domains_not_evaluated:
        out.append(F.DMARC_NOT_CHECKED(reason=d.reason or ""))
    return out


def _dmarc_domain_findings(d: DmarcEvaluation) -> list[MessageFinding]:
    out: list[MessageFinding] = []
    domain = d.from_domain or "?"
    if d.result is AuthResult.PERMERROR:
        out.append(F.DMARC_NOT_CHECKED(reason=d.reason or "no From domain"))
        return out
    if d.result is AuthResult.TEMPERROR:
        out.append(F.DMARC_TEMPERROR(reason=d.reason or "", domain=domain))
        return out
    if d.result is AuthResult.NONE:
        monitor = _add_txt(f"_dmarc.{domain}", f"v=DMARC1; p=none; rua=mailto:dmarc@{domain}")
        out.append(F.DMARC_NONE(domain=domain, changes=(monitor,), zone_line=_line(monitor)))
    elif d.result is AuthResult.FAIL:
        severity = {
            DmarcDisposition.REJECT: Severity.CRITICAL,
            DmarcDisposition.QUARANTINE: Severity.HIGH,
        }.get(d.disposition, Severity.HIGH)
        spf_detail = f"passed for {d.spf_domain} (not aligned)" if d.spf_domain else "did not pass"
        dkim_detail = (
            f"passed for {', '.join(d.dkim_domains)} (not aligned)"
            if d.dkim_domains
            else "did not pass"
        )
        action = {"reject": "reject", "quarantine": "quarantine"}.get(
            d.disposition.value, "deliver (policy none)"
        )
        out.append(
            F.DMARC_FAIL(
                severity=severity,
                domain=domain,
                spf_detail=spf_detail,
                dkim_detail=dkim_detail,
                policy=d.policy,
                disposition=action,
                evidence=[d.record] if d.record else [],
            )
        )
    if d.spf_domain and not d.spf_aligned:
        out.append(
            F.DMARC_SPF_UNALIGNED(
                spf_domain=d.spf_domain,
                domain=domain,
                mode="strict" if d.aspf == "s" else "relaxed",
            )
        )
    if d.dkim_domains and not d.dkim_aligned:
        out.append(
            F.DMARC_DKIM_UNALIGNED(
                dkim_domains=", ".join(d.dkim_domains),
                domain=domain,
                mode="strict" if d.adkim == "s" else "relaxed",
            )
        )
    return out


def arc_findings(arc: ArcResult) -> list[MessageFinding]:
    if arc.result is AuthResult.FAIL:
        return [F.ARC_FAIL(reason=arc.reason)]
    if arc.result is AuthResult.POLICY:
        return [F.ARC_NOT_VERIFIED(reason=arc.reason)]
    return []
