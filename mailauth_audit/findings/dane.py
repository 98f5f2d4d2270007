"""Findings of the DANE check: TLSA records for SMTP (RFC 7672, RFC 7671, RFC 6698)."""

from __future__ import annotations

from ..model import CheckId, Severity
from .base import FindingSpec

_C = CheckId.DANE

NOT_DEPLOYED = FindingSpec(
    code="dane.not_deployed",
    severity=Severity.INFO,
    check=_C,
    title="DANE not deployed",
    detail="No MX host of {domain} publishes a TLSA record at _25._tcp.<host> ({hosts}), so "
    "senders cannot authenticate its TLS certificate with DANE.",
    remediation="Optional. With DNSSEC on the MX hosts' zones, publish a TLSA record per host, "
    "e.g. `_25._tcp.<mx-host>. IN TLSA 3 1 1 <SHA-256 of the certificate's public key>`.",
    references=("RFC 7672 §2.2",),
)

AUTHENTICATED = FindingSpec(
    code="dane.authenticated",
    severity=Severity.INFO,
    check=_C,
    title="TLSA records match the certificate the MX presents",
    detail="{host}: the TLSA record(s) {records} match the certificate chain presented at "
    "{addresses}.",
    remediation="Nothing to change. Publish the next key's TLSA record before each key change.",
    references=("RFC 7672 §3.1", "RFC 7671 §8"),
)

INSECURE_TLSA = FindingSpec(
    code="dane.tlsa_insecure",
    severity=Severity.MEDIUM,
    check=_C,
    title="TLSA records in a zone without DNSSEC are ignored",
    detail="{host} publishes TLSA records at {tlsa_name}, but their zone is not validated "
    "as secure ({why}), so DANE senders ignore them.",
    remediation="Sign the zone of {tlsa_name} and publish its DS at the parent, or remove "
    "the TLSA records.",
    references=("RFC 7672 §2.2", "RFC 6698 §4.1"),
)

BOGUS_TLSA = FindingSpec(
    code="dane.tlsa_bogus",
    severity=Severity.HIGH,
    check=_C,
    title="TLSA lookup is bogus: DANE senders defer mail",
    detail="{host}: a validating resolver answers SERVFAIL for {tlsa_name} TLSA and answers "
    "only with checking disabled ({what}).{ede} DANE senders cannot tell whether the host "
    "has TLSA records, so they defer mail to it.",
    remediation="Fix the DNSSEC chain of {tlsa_name}'s zone (see the dnssec check's "
    "findings): re-sign it, or make the DS at the parent match the zone's key.",
    references=("RFC 7672 §2.2.1", "RFC 4035 §5.5"),
)

PKIX_USAGE = FindingSpec(
    code="dane.pkix_usage",
    severity=Severity.LOW,
    check=_C,
    title="TLSA usage 0 or 1 is unusable for SMTP",
    detail="{host}: {records} use PKIX-TA(0) or PKIX-EE(1), which SMTP clients ignore "
    "(RFC 7672 §3.1.3).",
    remediation="Replace them with DANE-EE: `{tlsa_name}. IN TLSA {suggested}`.",
    references=("RFC 7672 §3.1.3",),
)

UNUSABLE_RECORDS = FindingSpec(
    code="dane.unusable_records",
    severity=Severity.LOW,
    check=_C,
    title="TLSA records with parameters no RFC defines",
    detail="{host}: {records} cannot be used ({reasons}).",
    remediation="Replace them with `{tlsa_name}. IN TLSA {suggested}`.",
    references=("RFC 7672 §3.1.3", "RFC 6698 §2.1"),
)

NO_MATCH = FindingSpec(
    code="dane.no_match",
    severity=Severity.CRITICAL,
    check=_C,
    title="No TLSA record matches the MX certificate: DANE senders will not deliver",
    detail="{host} at {addresses}: no usable TLSA record at {tlsa_name} ({records}) matches "
    "the certificate chain presented{why}. DANE senders refuse to deliver mail to it.",
    remediation="Publish the record for the certificate the MX presents now (keep the old one "
    "until caches expire): `{tlsa_name}. IN TLSA {suggested}`",
    references=("RFC 7672 §3.1", "RFC 7671 §5"),
)

NO_TLS = FindingSpec(
    code="dane.no_tls",
    severity=Severity.CRITICAL,
    check=_C,
    title="TLSA published but the MX offers no working TLS",
    detail="{host} at {addresses} publishes usable TLSA records but {why}. DANE senders "
    "require TLS and will not deliver mail to it.",
    remediation="Enable STARTTLS on {host} with the certificate the TLSA records describe, "
    "or remove the TLSA records at {tlsa_name}.",
    references=("RFC 7672 §2.2",),
)

FULL_CERTIFICATE = FindingSpec(
    code="dane.full_certificate",
    severity=Severity.LOW,
    check=_C,
    title="TLSA `3 0 x` breaks at every certificate renewal",
    detail="{host}: {records} hash the whole certificate, which changes at every renewal "
    "even when the key is kept.",
    remediation="Publish the public-key form instead: `{tlsa_name}. IN TLSA {suggested}`.",
    references=("RFC 7671 §5.1", "RFC 7672 §3.1.1"),
)

SINGLE_RECORD = FindingSpec(
    code="dane.single_record",
    severity=Severity.INFO,
    check=_C,
    title="One TLSA record, no rollover scheme",
    detail="{host} publishes a single `3 1 1` record: the next key's record must be "
    "published before the key changes, or DANE senders defer mail during the change.",
    remediation="Publish a second record before a key change (the next key's `3 1 1`), or a "
    "`2 1 1` record for the issuing CA's key (RFC 7671 §8.1).",
    references=("RFC 7671 §8.1",),
)

MX_INSECURE = FindingSpec(
    code="dane.mx_insecure",
    severity=Severity.MEDIUM,
    check=_C,
    title="TLSA records unused: the domain's MX records are not DNSSEC-validated",
    detail="{domain}'s MX records validate as {verdict}, so DANE senders do not look for "
    "TLSA records of its MX hosts ({hosts}).",
    remediation="Sign {domain}'s zone and publish its DS at the parent.",
    references=("RFC 7672 §2.2.1",),
)

CHAIN_NOT_CHECKED = FindingSpec(
    code="dane.chain_not_checked",
    severity=Severity.LOW,
    check=_C,
    title="TLSA records not matched: the MX could not be probed",
    detail="{host}: the TLSA records could not be matched against the certificate: {why}. "
    "Whether DANE senders can deliver is not known.",
    remediation="Run the audit from a network that reaches {host} on port 25.",
    references=("RFC 7672 §3.1",),
)

RECORDS_NOT_CHECKED = FindingSpec(
    code="dane.records_not_checked",
    severity=Severity.LOW,
    check=_C,
    title="Some TLSA records were not checked",
    detail="{host} publishes {total} TLSA records; the first {checked} were checked "
    "(Limits.max_tlsa_records), {unchecked} were not.",
    remediation="Keep one or two records per key in use; remove stale ones.",
    references=("RFC 7671 §8",),
)

UNREADABLE_RECORDS = FindingSpec(
    code="dane.unreadable_records",
    severity=Severity.HIGH,
    check=_C,
    title="TLSA records that cannot be parsed",
    detail="{host}: TLSA records at {tlsa_name} cannot be read ({reasons}). DANE senders "
    "treat them as unusable.",
    remediation="Replace them with `{tlsa_name}. IN TLSA {suggested}`.",
    references=("RFC 6698 §2.1", "RFC 7672 §2.2"),
)
