"""TLS-RPT findings (RFC 8460): the `_smtp._tls` TXT record that tells senders where to
report TLS failures (of MTA-STS and DANE policies among others)."""

from __future__ import annotations

from ..model import CheckId, Severity
from .base import FindingSpec

_C = CheckId.TLS_RPT
_NO_REPORTS = "Senders then send no TLS reports: nobody hears about failed deliveries."

MISSING = FindingSpec(
    code="tls_rpt.missing",
    severity=Severity.LOW,
    check=_C,
    title="No TLS-RPT record although a TLS policy (MTA-STS or DANE) is deployed",
    detail=(
        "{domain} deploys {mechanisms} but publishes no TLS-RPT record at {txt_name}. "
        + _NO_REPORTS
    ),
    remediation="Publish a TLS-RPT record with a mailbox that reads the reports:\n{zone_line}",
    references=("RFC 8460 §3", "RFC 8461 §6"),
)

RECORD_IGNORED = FindingSpec(
    code="tls_rpt.record_ignored",
    severity=Severity.MEDIUM,
    check=_C,
    title="TLS-RPT record ignored: it does not begin with v=TLSRPTv1",
    detail=(
        "{txt_name} holds {record!r}, which looks like a TLS-RPT record, but senders discard "
        "records that do not begin with exactly 'v=TLSRPTv1'. " + _NO_REPORTS
    ),
    remediation="Replace it with\n{zone_line}",
    references=("RFC 8460 §3",),
)

MULTIPLE_RECORDS = FindingSpec(
    code="tls_rpt.multiple_records",
    severity=Severity.MEDIUM,
    check=_C,
    title="More than one TLS-RPT record",
    detail=(
        "{txt_name} publishes {count} records beginning with v=TLSRPTv1; senders then "
        "treat the domain as having none. " + _NO_REPORTS
    ),
    remediation="Keep exactly one, e.g.\n{zone_line}",
    references=("RFC 8460 §3",),
)

SYNTAX_ERROR = FindingSpec(
    code="tls_rpt.syntax_error",
    severity=Severity.MEDIUM,
    check=_C,
    title="TLS-RPT record syntax error",
    detail="{txt_name}: {message} (at character {position}). " + _NO_REPORTS,
    remediation="Publish a valid record, e.g.\n{zone_line}",
    references=("RFC 8460 §3",),
)

NO_SUPPORTED_RUA = FindingSpec(
    code="tls_rpt.no_supported_rua",
    severity=Severity.MEDIUM,
    check=_C,
    title="TLS-RPT record names no mailto: or https: destination",
    detail="{txt_name}: rua lists only {uris}. " + _NO_REPORTS,
    remediation="Give a mailto: or https: destination, e.g.\n{zone_line}",
    references=("RFC 8460 §3",),
)

UNSUPPORTED_SCHEME = FindingSpec(
    code="tls_rpt.unsupported_scheme",
    severity=Severity.LOW,
    check=_C,
    title="TLS-RPT destination of an unsupported scheme",
    detail="{txt_name}: {uris} is neither mailto: nor https:; senders skip it.",
    remediation="Remove it or replace it with a mailto: or https: destination.",
    references=("RFC 8460 §3",),
)

RECORD_NOTES = FindingSpec(
    code="tls_rpt.record_notes",
    severity=Severity.INFO,
    check=_C,
    title="TLS-RPT record has fields senders ignore",
    detail="{txt_name}: {notes}. Senders ignore these.",
    remediation="Nothing is required.",
    references=("RFC 8460 §3",),
)
