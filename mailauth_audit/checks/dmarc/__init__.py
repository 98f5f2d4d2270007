"""DMARC (RFC 9989, which obsoletes RFC 7489; report authorisation RFC 9990), one module per
concern: `result` (the facts), `discovery` (which record and policy apply: the RFC 9989 tree
walk, which message verification calls too), `check` (collect), `reports` (report-address
authorisation, bounded per domain), `evaluate` (the pure judgement), `remediation` (records to
propose)."""

from .check import DmarcCheck
from .discovery import PolicyDiscovery, discover_policy, effective_policy
from .remediation import propose_record, zone_txt_line
from .result import DmarcLookup, DmarcRecordIssue, DmarcReportDestination, DmarcResult

__all__ = [
    "DmarcCheck",
    "DmarcLookup",
    "DmarcRecordIssue",
    "DmarcReportDestination",
    "DmarcResult",
    "PolicyDiscovery",
    "discover_policy",
    "effective_policy",
    "propose_record",
    "zone_txt_line",
]
