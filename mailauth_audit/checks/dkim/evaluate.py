"""The DKIM check's judgement (RFC 6376 §3.6.1, RFC 8301, RFC 8463): pure functions of the
collected facts, per selector's key record and for the domain as a whole."""

from __future__ import annotations

import re

from ...changes import ChangeAction, RecordChange
from ...findings import dkim as F
from ...findings.clip import clip_finding, is_clipped, records_count
from ...model import Finding, Severity
from ...options import fact_date, suggested_dkim_selector
from ...records.dkim import LIBRARY_MAX_RSA_BITS
from ...records.taglist import edit_tag_list
from ...records.zonefile import DEFAULT_TTL, zone_line
from ..base import EvaluationContext
from ..crosscheck import sends_no_mail
from .result import DkimResult, DkimSelectorResult, DkimSelectorStatus
from .selectors import describe_lists

RFC_MAX_VERIFIED_BITS = 4096  # RFC 8301 §3.2: verifiers must handle 1024 to 4096 bits
PUBLIC_KEY = "<base64 public key>"  # a new key only its owner can generate


def new_key_change(name: str) -> RecordChange:
    """A new key under a new selector: its p= is the owner's to fill in."""
    return RecordChange(
        ChangeAction.ADD,
        name,
        "TXT",
        DEFAULT_TTL,
        proposed=f"v=DKIM1; k=rsa; p={PUBLIC_KEY}",
        placeholders=(PUBLIC_KEY,),
    )


_ED25519_TAG = re.compile(r"(?:^|;)\s*k\s*=\s*ed25519\s*(?:;|$)", re.IGNORECASE)


def republish_change(s: DkimSelectorResult) -> tuple[RecordChange, ...]:
    """dkim.invalid_record's change: the unusable record replaced by a whole one, whose key
    only the owner has. None when the record lives in another zone (reached through a
    CNAME) or was clipped (it cannot be matched in the zone)."""
    if s.record is None or s.cname_target or is_clipped(s.record):
        return ()
    key_type = "ed25519" if _ED25519_TAG.search(s.record) else "rsa"
    return (
        RecordChange(
            ChangeAction.REPLACE,
            s.name,
            "TXT",
            s.ttl or DEFAULT_TTL,
            current=s.record,
            proposed=f"v=DKIM1; k={key_type}; p={PUBLIC_KEY}",
            placeholders=(PUBLIC_KEY,),
        ),
    )


def _unusual_exponent(text: str | None) -> tuple[Severity | None, str] | None:
    """(severity, why) when an RSA exponent is not a small odd number, else None."""
    if text is None:
        return None
    if not text.isdigit():
        return None, "one this large makes every verification slow, and verifiers may refuse it."
    e = int(text)
    if e == 1 or e % 2 == 0:
        return Severity.HIGH, "this one cannot make a working RSA key, or makes an insecure one."
    if e > 2**32:
        return None, "one this large makes every verification slow, and verifiers may refuse it."
    return None


def usable(s: DkimSelectorResult) -> bool:
    """A key a verifier could check a signature with."""
    return (
        s.status is DkimSelectorStatus.KEY
        and not s.revoked
        and s.error is None
        and s.key_type in ("rsa", "ed25519")
        and _hash_ok(s.hash_algorithms)
        and _service_ok(s.service_types)
    )


def _hash_ok(hashes: tuple[str, ...]) -> bool:
    return not hashes or "sha256" in hashes


def _service_ok(services: tuple[str, ...]) -> bool:
    return not services or "*" in services or "email" in services


def _txt_line(name: str, text: str) -> str:
    return zone_line(name, "TXT", text)


def _fix(
    s: DkimSelectorResult,
    *,
    drop_testing: bool = False,
    drop_hashes: bool = False,
    drop_services: bool = False,
) -> tuple[str, tuple[RecordChange, ...]]:
    """The selector's record with one problem removed, as a zone-file line and a change.

    Only the tag at fault changes: every other tag the owner wrote is kept as written. A
    record reached through a CNAME lives in someone else's zone: no change is proposed."""
    if s.record is None:
        return _fixed_record(s, drop_testing, drop_hashes, drop_services), ()
    edits: dict[str, str | None] = {}
    if drop_hashes:
        edits["h"] = None
    if drop_services:
        edits["s"] = None
    if drop_testing:
        edits["t"] = "s" if s.strict_subdomains else None
    fixed = edit_tag_list(s.record, edits)
    if s.cname_target:
        return _txt_line(s.name, fixed), ()
    change = RecordChange(
        ChangeAction.REPLACE, s.name, "TXT", s.ttl or DEFAULT_TTL, current=s.record, proposed=fixed
    )
    return _txt_line(s.name, fixed), (change,)


def _fixed_record(
    s: DkimSelectorResult,
    drop_testing: bool = False,
    drop_hashes: bool = False,
    drop_services: bool = False,
) -> str:
    """The selector's record rebuilt with one problem removed, as a zone-file line."""
    tags = ["v=DKIM1", f"k={s.key_type or 'rsa'}"]
    if s.hash_algorithms and not drop_hashes:
        tags.append("h=" + ":".join(s.hash_algorithms))
    if s.service_types and not drop_services:
        tags.append("s=" + ":".join(s.service_types))
    flags = [
        f for f, on in (("y", s.testing and not drop_testing), ("s", s.strict_subdomains)) if on
    ]
    if flags:
        tags.append("t=" + ":".join(flags))
    tags.append(f"p={s.public_key or ''}")
    return _txt_line(s.name, "; ".join(tags))


def selector_findings(
    s: DkimSelectorResult,
    domain: str,
    usable_keys: list[DkimSelectorResult],
    no_mail: bool,
    new_selector: str,
) -> list[Finding]:
    """One selector's findings. `new_selector` is the name suggested for a replacement key."""
    ev = tuple(t for t in (s.record, *s.other_records) if t is not None)
    values = {
        "domain": domain,
        "selector": s.selector,
        "name": s.name,
        "new_selector": new_selector,
    }
    out: list[Finding] = []
    new_key = (new_key_change(f"{new_selector}._domainkey.{domain}"),)
    if s.other_records:
        out.append(
            F.MULTIPLE_RECORDS(values, count=1 + records_count(s.other_records), evidence=ev)
        )
    if s.status is DkimSelectorStatus.CNAME_LOOP:
        out.append(F.CNAME_LOOP(values, chain=s.error or "", evidence=ev))
        return out
    if s.status is DkimSelectorStatus.DANGLING_CNAME:
        out.append(F.DANGLING_CNAME(values, target=s.cname_target, evidence=ev))
        return out
    if s.status is DkimSelectorStatus.INVALID:
        note = f" (at character {s.error_position})" if s.error_position is not None else ""
        out.append(
            F.INVALID_RECORD(
                values,
                error=s.error,
                position_note=note,
                evidence=ev,
                changes=republish_change(s),
            )
        )
        return out
    if s.status is not DkimSelectorStatus.KEY:
        return out

    if s.revoked:
        alone = not usable_keys
        only = (
            f" No usable key was found at the other selectors probed, so mail from {domain} "
            "cannot be verified with any key found."
            if alone and not no_mail
            else ""
        )
        severity = Severity.MEDIUM if alone and not no_mail else None
        out.append(
            F.REVOKED_KEY(values, only_note=only, severity=severity, evidence=ev, changes=new_key)
        )
        return out
    if s.key_type not in ("rsa", "ed25519"):
        out.append(F.UNKNOWN_KEY_TYPE(values, key_type=s.key_type, evidence=ev))
        return out
    if s.error is not None:
        out.append(
            F.INVALID_RECORD(
                values, error=s.error, position_note="", evidence=ev, changes=republish_change(s)
            )
        )
        return out

    if s.key_type == "rsa" and s.key_bits is not None:
        if s.key_bits < 1024:
            out.append(F.KEY_TOO_SHORT(values, bits=s.key_bits, evidence=ev, changes=new_key))
        elif s.key_bits < 2048:
            out.append(F.KEY_1024(values, bits=s.key_bits, evidence=ev, changes=new_key))
        elif s.key_bits > RFC_MAX_VERIFIED_BITS:
            severity = Severity.HIGH if s.key_bits > LIBRARY_MAX_RSA_BITS else None
            out.append(F.KEY_TOO_LONG(values, bits=s.key_bits, severity=severity, evidence=ev))
    unusual = _unusual_exponent(s.key_exponent)
    if unusual is not None:
        severity, why = unusual
        out.append(
            F.UNUSUAL_EXPONENT(
                values, exponent=s.key_exponent, why=why, severity=severity, evidence=ev
            )
        )
    if s.hash_algorithms and "sha256" not in s.hash_algorithms:
        spec = F.SHA1_ONLY if "sha1" in s.hash_algorithms else F.NO_SUPPORTED_HASH
        fixed, changes = _fix(s, drop_hashes=True)
        out.append(
            spec(
                values,
                hashes=":".join(s.hash_algorithms),
                fixed_record=fixed,
                evidence=ev,
                changes=changes,
            )
        )
    if not _service_ok(s.service_types):
        fixed, changes = _fix(s, drop_services=True)
        out.append(
            F.SERVICE_TYPE_EXCLUDES_EMAIL(
                values,
                services=":".join(s.service_types),
                fixed_record=fixed,
                evidence=ev,
                changes=changes,
            )
        )
    if s.testing:
        fixed, changes = _fix(s, drop_testing=True)
        out.append(F.TESTING_MODE(values, fixed_record=fixed, evidence=ev, changes=changes))
    return out


def evaluate_dkim(facts: DkimResult, ctx: EvaluationContext) -> list[Finding]:
    """Findings about the keys found (and not found), purely. Reads the MX, SPF and DMARC
    outcomes so that a domain that sends no mail is not told to add DKIM."""
    domain = ctx.domain
    findings: list[Finding] = []
    sels = facts.selectors
    keys = [s for s in sels if s.status is DkimSelectorStatus.KEY]
    attempted = keys + [s for s in sels if s.status is DkimSelectorStatus.INVALID]
    no_mail = sends_no_mail(ctx.outcomes)
    # the audit's date is a fact; facts saved before it was kept are judged on today's
    today = fact_date(facts.audit_date) if facts.audit_date else ctx.options.today
    new_selector = suggested_dkim_selector(today)

    if not attempted:
        probed = ", ".join(facts.selectors_probed) or "none"
        if no_mail:
            findings.append(
                F.NOT_NEEDED_NO_MAIL(domain=domain, selectors=probed, new_selector=new_selector)
            )
        else:
            findings.append(_no_selector_found(facts, domain, probed, new_selector))
    if facts.selectors_not_probed_count:
        shown = facts.selectors_not_probed
        rest = facts.selectors_not_probed_count - len(shown)
        findings.append(
            F.SELECTORS_NOT_PROBED(
                domain=domain,
                count=facts.selectors_not_probed_count,
                limit=len(facts.selectors_probed),
                selectors=", ".join(shown) + (f" and {rest} more" if rest > 0 else ""),
            )
        )

    usable_keys = [s for s in keys if usable(s)]
    for s in sels:
        findings += selector_findings(s, domain, usable_keys, no_mail, new_selector)

    not_keys = [s for s in sels if s.status is DkimSelectorStatus.NOT_A_KEY]
    if not_keys:
        findings.append(
            F.NOT_A_KEY_RECORD(
                domain=domain,
                selectors=", ".join(s.selector for s in not_keys),
                name=not_keys[0].name,
                evidence=tuple(dict.fromkeys(s.record or "" for s in not_keys)),
            )
        )

    ed = [s for s in usable_keys if s.key_type == "ed25519"]
    if ed and not any(s.key_type == "rsa" for s in usable_keys):
        findings.append(
            F.ED25519_WITHOUT_RSA(
                domain=domain,
                selectors=", ".join(s.selector for s in ed),
                new_selector=new_selector,
                evidence=tuple(s.record or "" for s in ed),
            )
        )
    limit = ctx.options.limits.max_dkim_text_chars
    return [clip_finding(f, limit, limit + 2048) for f in findings]


def _no_selector_found(facts: DkimResult, domain: str, probed: str, new_selector: str) -> Finding:
    """dkim.no_selector_found, saying which lists were probed and what may be missing."""
    lists = describe_lists(facts.selector_lists, facts.providers) or probed
    notes = []
    if facts.domainkey_nxdomain:
        notes.append(
            f"_domainkey.{domain} does not exist (NXDOMAIN), so no selector can exist below it "
            "(RFC 8020)."
        )
    for p in facts.providers:
        if not p.selectors:
            notes.append(f"{p.title} was detected ({p.matched}): {p.note}")
    if facts.provider_lookup_error:
        notes.append(
            f"The MX or SPF record could not be read ({facts.provider_lookup_error}), so the "
            "selectors of a mail provider named there may not have been probed."
        )
    if facts.selectors_not_probed_count:
        notes.append(
            f"{facts.selectors_not_probed_count} more selector names were not probed (at most "
            f"{len(facts.selectors_probed)} per domain)."
        )
    return F.NO_SELECTOR_FOUND(
        domain=domain,
        count=len(facts.selectors_probed),
        selectors=probed,
        lists=lists,
        nxdomain_note="".join(" " + n for n in notes),
        new_selector=new_selector,
        changes=[new_key_change(f"{new_selector}._domainkey.{domain}")],
    )
