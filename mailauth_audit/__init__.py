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
    from .api import audit_batch, audit_domain, audit_domains, render, validate_options
    from .session import AuditSession

_API = ("audit_batch", "audit_domain", "audit_domains", "render", "validate_options")


def __getattr__(name: str) -> object:
    """Import the API lazily: `import mailauth_audit.records.spf` must not load every check."""
    if name in _API:
        from . import api

        return getattr(api, name)
    if name == "AuditSession":
        from .session import AuditSession

        return AuditSession
    raise AttributeError(f"module 'mailauth_audit' has no attribute {name!r}")


__all__ = [
    "AuditOptions",
    "AuditRun",
    "AuditSession",
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
    "audit_batch",
    "audit_domain",
    "audit_domains",
    "render",
    "validate_options",
]
