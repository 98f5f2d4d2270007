"""DNSSEC (RFC 4033, RFC 4035, RFC 8914), one module per concern: `result` (the facts),
`lookup` (a validating resolver's verdict, shared with DANE), `chain` (why a chain is bogus,
with `dns.dnssec`), `collect`, `evaluate`, `remediation`, `check`."""

from .check import DnssecCheck
from .result import BogusExplanation, BogusKind, DnssecName, DnssecResult, DnssecVerdict

__all__ = [
    "BogusExplanation",
    "BogusKind",
    "DnssecCheck",
    "DnssecName",
    "DnssecResult",
    "DnssecVerdict",
]
