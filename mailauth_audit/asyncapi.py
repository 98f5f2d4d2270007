"""The async originals of the public API. `api.py` mirrors them for synchronous callers."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .engine.auditor import Auditor
from .model import AuditRun, DomainReport
from .options import AuditOptions
from .resolver.base import Resolver

if TYPE_CHECKING:
    from .fix.runner import FixOutcome


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


async def fix_domain(
    domain: str,
    options: AuditOptions | None = None,
    *,
    zone_file: str | Path | None = None,
    zone_text: str | None = None,
    origin: str | None = None,
    resolver: Resolver | None = None,
    allow_placeholders: bool = False,
) -> FixOutcome:
    """The combined change set for `domain`, applied and audited again.

    With `zone_file` or `zone_text` the zone is corrected and the corrected text is audited
    (`outcome.corrected_zone`); otherwise live DNS is audited with the changes laid over it.
    Changes holding a value only the owner knows are held back unless `allow_placeholders`.
    Render with `render_fix`, diff with `zone_diff`, write with `write_corrected_zone`."""
    from .fix.runner import fix_domain as run_fix  # imported when used: `check` needs none

    return await run_fix(
        domain,
        options,
        zone_file=zone_file,
        zone_text=zone_text,
        origin=origin,
        resolver=resolver,
        allow_placeholders=allow_placeholders,
    )


def render_fix(outcome: FixOutcome) -> str:
    """`fix`'s text: the change set per name, what needs input, grades before and after."""
    from .fix.render import render_fix as render

    return render(outcome)


def zone_diff(outcome: FixOutcome, name: str = "zone") -> str:
    """A unified diff of the zone file against the corrected zone ("" without one)."""
    from .fix.render import zone_diff as diff

    return diff(outcome, name)


def write_corrected_zone(outcome: FixOutcome, path: str | Path) -> None:
    """Write `outcome.corrected_zone` to `path` atomically (symbolic links refused)."""
    from .fix.runner import write_corrected_zone as write

    write(outcome, path)
