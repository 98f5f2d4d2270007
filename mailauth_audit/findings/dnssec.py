"""Findings of the DNSSEC check (RFC 4033, RFC 4035; RFC 8914 extended errors).

Verdicts come from a validating resolver's AD bit; a bogus chain is explained from the
records fetched with CD and checked with dnspython's `dns.dnssec`.
"""

from __future__ import annotations

from ..model import CheckId, Severity
from .base import FindingSpec

_C = CheckId.DNSSEC

SECURE = FindingSpec(
    code="dnssec.secure",
    severity=Severity.INFO,
    check=_C,
    title="Signed and validated with DNSSEC",
    detail="Validated as secure (the resolver set the AD bit): {names}.",
    remediation="Nothing to change. Keep the zones' signatures refreshed and roll keys with "
    "the DS at the parent in step.",
    references=("RFC 4035 §3.2.3", "RFC 4033 §5"),
)

INSECURE = FindingSpec(
    code="dnssec.insecure",
    # info: most zones are unsigned; unsigned is a missing protection, not a fault
    severity=Severity.INFO,
    check=_C,
    title="Not protected by DNSSEC",
    detail="Insecure (answers not signed): {names}. A resolver cannot tell a forged answer "
    "for these names from a real one, and DANE cannot be used for them.",
    remediation="Sign the zone(s) holding {first} (most DNS hosts offer it as one switch), "
    "then publish the DS record they give you at the registrar of the parent zone.",
    references=("RFC 4033 §4", "RFC 4035 §2", "RFC 7672 §2.2"),
)

SIGNED_NOT_ANCHORED = FindingSpec(
    code="dnssec.signed_not_anchored",
    severity=Severity.LOW,
    check=_C,
    title="Signed, but no chain of trust reaches the zone",
    detail="{name} ({role}) carries signatures from zone {zone}, but the validating resolver "
    "treats it as insecure: no DS record at the parent links the zone to the root, so nobody "
    "validates these signatures.",
    remediation="Publish the zone's DS record at the registrar of the parent zone. From its "
    "current key it is: {ds_line}",
    references=("RFC 4035 §5", "RFC 4033 §3.1"),
)

BOGUS = FindingSpec(
    code="dnssec.bogus",
    severity=Severity.CRITICAL,
    check=_C,
    title="DNSSEC validation fails (bogus)",
    detail="{name} ({role}) is bogus: a validating resolver answers SERVFAIL for {rdtype}, "
    "and gives the records only with checking disabled.{ede} Why: {why}. Every validating "
    "resolver refuses these answers, so mail {effect}.",
    remediation="{fix}",
    references=("RFC 4035 §5.5", "RFC 8914 §4.7"),
)

BOGUS_MX = FindingSpec(
    code="dnssec.mx_bogus",
    severity=Severity.HIGH,
    check=_C,
    title="An MX host's DNSSEC validation fails (bogus)",
    detail="MX host {name} is bogus: a validating resolver answers SERVFAIL for its {rdtype} "
    "records and gives them only with checking disabled.{ede} Why: {why}. Senders behind "
    "validating resolvers cannot find this host's address.",
    remediation="{fix}",
    references=("RFC 4035 §5.5", "RFC 8914 §4.7"),
)
