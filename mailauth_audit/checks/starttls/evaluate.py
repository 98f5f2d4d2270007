"""The pure judgement of the starttls check: facts per MX address in, findings out.

One finding per code, naming every address it applies to (a provider's four addresses
with one certificate problem are one problem). Certificate dates are judged against the
time the probes ran (`StarttlsResult.probed_at`), so saved facts re-judge the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from ...findings import starttls as F
from ...findings.base import FindingSpec
from ...model import CheckError, ErrorReason, Finding, Severity
from ...probes.results import CertificateSummary, TlsSession
from .result import MxAddressTls, StarttlsResult

EXPIRY_WARNING_DAYS = 14  # a certificate expiring this soon is a warning (issue 12)
MIN_RSA_BITS = 2048
MIN_EC_BITS = 224
MIN_DH_BITS = 2048  # finite-field groups, RFC 7919 / NIST SP 800-57 (112-bit strength)
_LEGACY = ("TLSv1", "TLSv1.1", "SSLv3")
_WEAK_HASHES = ("sha1", "md5", "md2")
_MAX_NAMED = 6  # addresses named in one finding's detail; evidence lists them all


def addresses(result: StarttlsResult) -> Iterator[MxAddressTls]:
    for host in result.hosts:
        yield from host.addresses


def where(a: MxAddressTls) -> str:
    return f"{a.host} [{a.address}]"


def tested(a: MxAddressTls) -> bool:
    """The server answered far enough for a verdict: a probe result, or a handshake that
    failed after STARTTLS was accepted (that is a verdict on the server, not a lost test)."""
    if a.probe is not None:
        return True
    return a.error is not None and a.error.reason is ErrorReason.TLS_HANDSHAKE_FAILED


def not_judged(result: StarttlsResult) -> CheckError | str | None:
    """`error` when no address could be tested and some could not; `skipped` when nothing
    was probed at all (no MX address, every address refused by the target rule, or
    --no-probes), with the reason."""
    every = list(addresses(result))
    if any(tested(a) for a in every):
        return None
    errors = [a for a in every if a.error is not None]
    if errors:
        first = errors[0].error
        assert first is not None
        more = f" (and {len(errors) - 1} more MX address(es))" if len(errors) > 1 else ""
        return CheckError(reason=first.reason, message=first.message + more)
    if not every:
        return "no MX address to probe"
    reasons = list(dict.fromkeys(a.not_probed or "not probed" for a in every))
    return "; ".join(reasons[:3]) + (f"; and {len(reasons) - 3} more" if len(reasons) > 3 else "")


def _named(items: list[MxAddressTls]) -> str:
    shown = ", ".join(where(a) for a in items[:_MAX_NAMED])
    return shown + (f" and {len(items) - _MAX_NAMED} more" if len(items) > _MAX_NAMED else "")


def _evidence(items: list[MxAddressTls], what: Callable[[MxAddressTls], str]) -> tuple[str, ...]:
    return tuple(f"{where(a)}: {what(a)}" for a in items)


def _when(result: StarttlsResult) -> datetime:
    if result.probed_at:
        try:
            return datetime.fromisoformat(result.probed_at.replace("Z", "+00:00"))
        except ValueError:
            pass
    return datetime.now(UTC)


def _leaf(tls: TlsSession) -> CertificateSummary | None:
    return tls.chain[0] if tls.chain and tls.chain_der else None


def _weak_key(leaf: CertificateSummary) -> str | None:
    bits = leaf.key_bits or 0
    if leaf.key_type in ("rsa", "dsa") and bits < MIN_RSA_BITS:
        return f"{bits}-bit {leaf.key_type.upper()}"
    if leaf.key_type == "ec" and bits < MIN_EC_BITS:
        return f"{bits}-bit EC"
    return None


def _weak_group(tls: TlsSession) -> str | None:
    """The group as the finding names it, when it is below the bar; None for a strong or
    unknown group (an unreported group is never judged)."""
    if tls.group is None or tls.group_bits is None:
        return None
    finite_field = tls.group == "DHE" or tls.group.startswith("ffdhe")
    if tls.group_bits >= (MIN_DH_BITS if finite_field else MIN_EC_BITS):
        return None
    if tls.group == "DHE":
        return f"a {tls.group_bits}-bit DHE prime"
    return f"{tls.group} ({tls.group_bits} bits)"


def evaluate_starttls(result: StarttlsResult) -> list[Finding]:
    every = list(addresses(result))
    judged = [a for a in every if tested(a)]
    groups: dict[FindingSpec, list[MxAddressTls]] = {}

    def add(spec: FindingSpec, a: MxAddressTls) -> None:
        groups.setdefault(spec, []).append(a)

    now = _when(result)
    for a in judged:
        probe = a.probe
        if probe is None:
            add(F.HANDSHAKE_FAILED, a)
            continue
        if not probe.starttls_offered:
            add(F.NOT_OFFERED, a)
            continue
        tls = probe.tls
        if tls is None:
            add(F.REFUSED, a)
            continue
        if tls.version in _LEGACY:
            add(F.OLD_VERSION, a)
        if a.legacy_tls_accepted:
            add(F.LEGACY_ACCEPTED, a)
        if not tls.trusted:
            add(F.UNTRUSTED, a)
        if not tls.hostname_matches:
            add(F.NAME_MISMATCH, a)
        if _weak_group(tls):
            add(F.WEAK_GROUP, a)
        leaf = _leaf(tls)
        if leaf is None:
            continue
        days = (leaf.not_after - now).days
        if leaf.not_after <= now:
            add(F.EXPIRED, a)
        elif days <= EXPIRY_WARNING_DAYS:
            add(F.EXPIRING, a)
        if _weak_key(leaf):
            add(F.WEAK_KEY, a)
        if any(h in leaf.signature_algorithm.lower() for h in _WEAK_HASHES):
            add(F.WEAK_SIGNATURE, a)

    findings = [_finding(spec, items, now, judged) for spec, items in groups.items()]
    findings += _coverage(every, judged, result)
    return findings


def _finding(
    spec: FindingSpec, items: list[MxAddressTls], now: datetime, judged: list[MxAddressTls]
) -> Finding:
    first = items[0]
    values: dict[str, object] = {"where": _named(items), "host": first.host}
    severity: Severity | None = None
    probe = first.probe
    tls = probe.tls if probe is not None else None
    leaf = _leaf(tls) if tls is not None else None
    evidence: tuple[str, ...] = tuple(where(a) for a in items)
    if spec is F.NOT_OFFERED:
        offering = len(judged) - len(items)
        if offering == 0:
            severity = Severity.HIGH
            values["scope_note"] = " No MX of the domain accepts mail over TLS."
        else:
            values["scope_note"] = f" {offering} other MX address(es) do offer it."
        evidence = _evidence(items, lambda a: a.probe.ehlo_greeting if a.probe else "")
    elif spec is F.REFUSED:
        reply = probe.starttls_reply if probe is not None else None
        values["reply"] = f"{reply.code} {reply.text[:120]}" if reply else "no reply"
    elif spec is F.HANDSHAKE_FAILED:
        values["reason"] = first.error.message if first.error else "unknown"
        evidence = _evidence(items, lambda a: a.error.message if a.error else "")
    elif spec is F.OLD_VERSION and tls is not None:
        values["version"] = tls.version
    elif spec is F.LEGACY_ACCEPTED:
        values["version"] = first.legacy_tls_accepted
        evidence = _evidence(items, lambda a: f"accepted {a.legacy_tls_accepted}")
    elif spec is F.UNTRUSTED and tls is not None:
        values["trust_store"] = tls.trust_store
        values["reason"] = tls.trust_error or "untrusted"
    elif spec is F.NAME_MISMATCH and leaf is not None:
        names = leaf.dns_names or ((leaf.common_name,) if leaf.common_name else ())
        values["names"] = ", ".join(names[:5]) or "no DNS name"
    elif spec in (F.EXPIRED, F.EXPIRING) and leaf is not None:
        values["not_after"] = leaf.not_after.strftime("%Y-%m-%d %H:%M UTC")
        values["days"] = abs((leaf.not_after - now).days)
    elif spec is F.WEAK_KEY and leaf is not None:
        values["key"] = _weak_key(leaf)
    elif spec is F.WEAK_GROUP and tls is not None:
        values["group"] = _weak_group(tls)
        evidence = _evidence(
            items, lambda a: (_weak_group(a.probe.tls) or "") if a.probe and a.probe.tls else ""
        )
    elif spec is F.WEAK_SIGNATURE and leaf is not None:
        values["algorithm"] = leaf.signature_algorithm
    if leaf is not None and spec in (F.UNTRUSTED, F.NAME_MISMATCH, F.EXPIRED, F.EXPIRING):
        evidence = tuple(
            f"{where(a)}: subject {lf.subject}; issuer {lf.issuer}; "
            f"not after {lf.not_after:%Y-%m-%d}"
            for a in items
            if a.probe and a.probe.tls and (lf := _leaf(a.probe.tls)) is not None
        )
    return spec(values, evidence=evidence, severity=severity)


def _coverage(
    every: list[MxAddressTls], judged: list[MxAddressTls], result: StarttlsResult
) -> list[Finding]:
    """The addresses a verdict does not cover, said once each way (never silent)."""
    out: list[Finding] = []
    lost = [a for a in every if a.error is not None and not tested(a)]
    if lost and judged:
        out.append(
            F.NOT_TESTED(
                count=len(lost),
                addresses=_named(lost),
                tested=len(judged),
                evidence=_evidence(lost, lambda a: a.error.message if a.error else ""),
            )
        )
    skipped = [a for a in every if a.not_probed is not None]
    if skipped and judged:
        reasons = list(dict.fromkeys(a.not_probed or "" for a in skipped))
        out.append(
            F.NOT_PROBED(
                count=len(skipped),
                reasons="; ".join(reasons[:3]),
                evidence=_evidence(skipped, lambda a: a.not_probed or ""),
            )
        )
    return out
