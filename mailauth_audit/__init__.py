"""mailauth-audit: audit a domain's email authentication (MX, SPF, DKIM, DMARC).

>>> from mailauth_audit import audit_domain
>>> report = audit_domain("example.com")
>>> report.checks["spf"].status
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
from .version import __version__

if TYPE_CHECKING:
    from .api import audit_domain, audit_domains


def __getattr__(name: str) -> object:
    """Import the API lazily: `import mailauth_audit.records.spf` must not load every check."""
    if name in ("audit_domain", "audit_domains"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'mailauth_audit' has no attribute {name!r}")


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
