"""Synchronous mirror of `asyncapi`, with the same names, for scripts and notebooks.

Each call runs its own event loop, so do not call these from inside a running loop: await
the functions in `mailauth_audit.asyncapi` there instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from . import asyncapi
from .model import AuditRun, DomainReport
from .options import AuditOptions
from .resolver.base import Resolver

if TYPE_CHECKING:
    from .fix.runner import FixOutcome

# not async: the same functions
render_fix = asyncapi.render_fix
zone_diff = asyncapi.zone_diff
write_corrected_zone = asyncapi.write_corrected_zone


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


def fix_domain(
    domain: str,
    options: AuditOptions | None = None,
    *,
    zone_file: str | Path | None = None,
    zone_text: str | None = None,
    origin: str | None = None,
    resolver: Resolver | None = None,
    allow_placeholders: bool = False,
) -> FixOutcome:
    """See `asyncapi.fix_domain`."""
    return asyncio.run(
        asyncapi.fix_domain(
            domain,
            options,
            zone_file=zone_file,
            zone_text=zone_text,
            origin=origin,
            resolver=resolver,
            allow_placeholders=allow_placeholders,
        )
    )
