"""Synchronous mirror of `asyncapi`, with the same names, for scripts and notebooks.

Each call runs its own event loop, so do not call these from inside a running loop: await
the functions in `mailauth_audit.asyncapi` there instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from . import asyncapi
from .model import AuditRun, DomainReport
from .options import AuditOptions
from .resolver.base import Resolver


def audit_domain(
    domain: str, options: AuditOptions | None = None, *, resolver: Resolver | None = None
) -> DomainReport:
    """See `asyncapi.audit_domain`."""
    return asyncio.run(asyncapi.audit_domain(domain, options, resolver=resolver))


def audit_domains(
    domains: Iterable[str], options: AuditOptions | None = None, *, resolver: Resolver | None = None
) -> AuditRun:
    """See `asyncapi.audit_domains`."""
    return asyncio.run(asyncapi.audit_domains(domains, options, resolver=resolver))
