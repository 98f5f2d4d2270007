"""Audit a domain, combine its findings' changes, apply them, and audit the result.

The re-audit is the point: a change set is only as good as the audit of the zone it
produces, so `fix` shows the grade before and after and which findings remain, from the
same checks that found them. With a zone file the corrected text itself is audited (through
the same zone-file resolver as the first audit); with live DNS, the live answers with the
change set laid over them (`OverlayResolver`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from ..changes import RecordChange
from ..engine.auditor import Auditor
from ..errors import ConfigurationError
from ..model import DomainReport, Finding
from ..options import AuditOptions
from ..outputs import write_output
from ..resolver.base import Resolver
from ..resolver.factory import make_resolver
from ..resolver.selection import zone_file_resolver
from ..resolver.zonefiles import ZoneFile, ZoneSet, parse_zone_text, read_zone_bytes
from .merge import ChangeKey, change_key, merge_changes
from .overlay import OverlayResolver
from .zone import ZoneEdit, apply_changes

__all__ = ["FixOutcome", "FixPlan", "fix_domain", "plan_fixes", "write_corrected_zone"]


@dataclass(frozen=True)
class FixPlan:
    """The change set of one audit: one change per record."""

    changes: tuple[RecordChange, ...]  # everything proposed, merged
    to_apply: tuple[RecordChange, ...]  # merged again without the changes that need input
    # the records as they will be once the owner fills in the placeholders (everything
    # merged), `fixes` naming only what the held-back changes fix
    needs_input: tuple[RecordChange, ...]


# record types whose value is text: a placeholder there still parses (allow_placeholders);
# in an address or a host name it would make the corrected zone unreadable
_TEXT_TYPES = frozenset({"TXT"})


def plan_fixes(report: DomainReport, *, allow_placeholders: bool = False) -> FixPlan:
    raw = [c for f in report.findings for c in f.changes]
    everything = merge_changes(raw)

    def held_back(c: RecordChange) -> bool:
        return bool(c.placeholders) and not (allow_placeholders and c.rtype.upper() in _TEXT_TYPES)

    applicable = merge_changes(c for c in raw if not held_back(c))
    held: dict[ChangeKey, set[str]] = {}
    for c in raw:
        if held_back(c):
            held.setdefault(change_key(c), set()).update(c.fixes)
    needs = tuple(
        replace(c, fixes=tuple(sorted(held[change_key(c)])))
        for c in everything
        if c.placeholders and change_key(c) in held
    )
    return FixPlan(everything, applicable, needs)


@dataclass(frozen=True)
class FixOutcome:
    domain: str
    source: str  # "zone file PATH" or "live DNS"
    before: DomainReport
    after: DomainReport  # the audit of the corrected zone (or of live DNS with the changes)
    plan: FixPlan
    applied: tuple[RecordChange, ...]  # what was written (zone file) or laid over (live)
    zone_text: str | None = None  # set with a zone file: as read
    corrected_zone: str | None = None  # set with a zone file: with `applied`
    edit: ZoneEdit | None = None  # set with a zone file

    @property
    def claimed(self) -> frozenset[str]:
        """The finding codes the applied changes say they fix."""
        return frozenset(code for c in self.applied for code in c.fixes)

    @property
    def fixed(self) -> tuple[Finding, ...]:
        after = {f.code for f in self.after.findings}
        return tuple(f for f in self.before.findings if f.code not in after)

    @property
    def came_back(self) -> tuple[Finding, ...]:
        """Findings a change claimed to fix that the re-audit still reports."""
        return tuple(f for f in self.after.findings if f.code in self.claimed)

    @property
    def new(self) -> tuple[Finding, ...]:
        before = {f.code for f in self.before.findings}
        return tuple(f for f in self.after.findings if f.code not in before)


async def _audit(
    domain: str, options: AuditOptions, resolver: Resolver, *, close: bool = True
) -> DomainReport:
    """One audit; `close` closes `resolver` after it (the Auditor leaves a given one open)."""
    try:
        async with Auditor(options, resolver) as auditor:
            return await auditor.audit_domain(domain)
    finally:
        if close:
            await resolver.aclose()


def _zone_resolver(text: str, source: str, options: AuditOptions, origin: str | None) -> Resolver:
    rrsets, info = parse_zone_text(text, origin=origin, source=source)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    zone = ZoneFile(path=source, sha256=digest, origin=info.origin, zones=info.zones)
    return zone_file_resolver(ZoneSet((zone,), tuple(rrsets)), options)


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
    """The change set for `domain`, applied and audited again.

    With `zone_file` (or `zone_text`) the zone is edited and the corrected text audited;
    otherwise live DNS (`resolver`, or the options' nameservers) is audited with the change
    set laid over it. Names outside the zone file are asked of the options' nameservers when
    given, as `check --zone-file` does."""
    options = options or AuditOptions()
    if zone_file is not None:
        raw = read_zone_bytes(zone_file, options.limits.max_zone_file_bytes)
        try:
            zone_text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigurationError(f"zone file {zone_file} is not UTF-8 text") from None
    if zone_text is None:
        return await _fix_live(domain, options, resolver, allow_placeholders)
    source = str(zone_file) if zone_file is not None else "<zone>"
    before = await _audit(domain, options, _zone_resolver(zone_text, source, options, origin))
    plan = plan_fixes(before, allow_placeholders=allow_placeholders)
    _, info = parse_zone_text(zone_text, origin=origin, source=source)
    edit = apply_changes(zone_text, plan.to_apply, zones=info.zones, origin=info.origin)
    if not allow_placeholders:
        _refuse_placeholders(edit.text, plan.changes)
    after_source = f"{source} (corrected)"
    after = await _audit(domain, options, _zone_resolver(edit.text, after_source, options, origin))
    return FixOutcome(
        domain=before.domain,
        source=f"zone file {source}",
        before=before,
        after=after,
        plan=plan,
        applied=edit.applied,
        zone_text=zone_text,
        corrected_zone=edit.text,
        edit=edit,
    )


async def _fix_live(
    domain: str, options: AuditOptions, resolver: Resolver | None, allow_placeholders: bool
) -> FixOutcome:
    inner = resolver or make_resolver(options)
    try:
        before = await _audit(domain, options, inner, close=False)
        plan = plan_fixes(before, allow_placeholders=allow_placeholders)
        overlay = OverlayResolver(inner, plan.to_apply)
        after = await _audit(domain, options, overlay, close=False)
    finally:
        if resolver is None:
            await inner.aclose()
    return FixOutcome(before.domain, "live DNS", before, after, plan, plan.to_apply)


def _refuse_placeholders(text: str, changes: tuple[RecordChange, ...]) -> None:
    """The corrected zone never holds a value only the owner can fill in (a bug if it did:
    the changes holding one are held back)."""
    held = {p for c in changes for p in c.placeholders}
    found = sorted(p for p in held if p in text)
    if found:
        raise ConfigurationError(
            f"the corrected zone would hold placeholders ({', '.join(found)}); fill them in "
            "or pass --allow-placeholders"
        )


def write_corrected_zone(outcome: FixOutcome, path: str | Path) -> None:
    """Write the corrected zone (atomically; a symbolic link is refused, see outputs)."""
    if outcome.corrected_zone is None:
        raise ConfigurationError("there is no corrected zone: fix was run without a zone file")
    write_output(path, outcome.corrected_zone)
