"""mailauth-audit: audit a domain's email authentication (MX, SPF, DKIM, DMARC).

>>> from mailauth_audit import audit_domain
>>> report = audit_domain("example.com")
>>> report.checks["spf"].status
"""

from __future__ import annotations

__version__ = "0.1.0"

from .api import audit_domain, audit_domains
from .model import (
    AuditRun,
    CheckId,
    CheckOutcome,
    CheckStatus,
    DomainReport,
    DomainStatus,
    ErrorReason,
    Finding,
    Severity,
)
from .options import AuditOptions, Limits

__all__ = [
    "AuditOptions",
    "AuditRun",
    "CheckId",
    "CheckOutcome",
    "CheckStatus",
    "DomainReport",
    "DomainStatus",
    "ErrorReason",
    "Finding",
    "Limits",
    "Severity",
    "__version__",
    "audit_domain",
    "audit_domains",
]
