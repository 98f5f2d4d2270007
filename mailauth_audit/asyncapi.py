"""The async originals of the public API. `api.py` mirrors them for synchronous callers."""

from __future__ import annotations

from collections.abc import Iterable

from .engine.auditor import Auditor
from .model import AuditRun, DomainReport
from .options import AuditOptions
from .resolver.base import Resolver


async def audit_domain(
    domain: str, options: AuditOptions | None = None, *, resolver: Resolver | None = None
) -> DomainReport:
    """Audit one domain. Invalid names give a report with status `invalid`, not an exception.

    Pass `resolver` (e.g. a `StaticResolver` over zone text) to audit without the network.
    """
    async with Auditor(options, resolver) as auditor:
        return await auditor.audit_domain(domain)


async def audit_domains(
    domains: Iterable[str], options: AuditOptions | None = None, *, resolver: Resolver | None = None
) -> AuditRun:
    """Audit several domains sharing one DNS cache; reports come back in input order."""
    async with Auditor(options, resolver) as auditor:
        return await auditor.audit_domains(domains)
