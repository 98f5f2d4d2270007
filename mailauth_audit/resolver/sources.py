"""Where a run's answers came from: the provenance every report states.

A verdict read from a draft zone file, from a resolver's cache or from the zone's own
servers means three different things; the report has to say which, and with what (the
servers' addresses, the files' SHA-256), so that a reader can tell a draft from the live
zone and repeat the audit.
"""

from __future__ import annotations

from ..model import DnsSource, Provenance, SourceKind, SourceMode
from ..version import __version__
from .base import Resolver
from .static import StaticResolver
from .transport import format_server
from .wire import WireResolver

__all__ = ["dns_sources", "run_provenance"]

_MAX_DEPTH = 8  # wrappers (cache, pacing, fallthrough) around the resolver that asks


def dns_sources(resolver: Resolver | None, _depth: int = 0) -> tuple[DnsSource, ...]:
    """The sources behind `resolver`, looking through caches and other wrappers. A resolver
    may describe itself with a `dns_sources()` method (zone files, authoritative servers)."""
    if resolver is None or _depth > _MAX_DEPTH:
        return ()
    own = getattr(resolver, "dns_sources", None)
    if callable(own):
        return tuple(own())
    if isinstance(resolver, WireResolver):
        return tuple(
            DnsSource(kind=SourceKind.RESOLVER, address=format_server(s))
            for s in resolver.nameservers
        )
    if isinstance(resolver, StaticResolver):
        return (DnsSource(kind=SourceKind.ZONE_TEXT),)
    return dns_sources(getattr(resolver, "inner", None), _depth + 1)


def run_provenance(
    resolver: Resolver | None, collected_at: str, *, mode: SourceMode | None = None
) -> Provenance:
    """`mode` None: draft when any answer can come from zone text, else live."""
    sources = dns_sources(resolver)
    kinds = {s.kind for s in sources}
    drafted = kinds & {SourceKind.ZONE_FILE, SourceKind.ZONE_TEXT}
    if mode is None:
        mode = SourceMode.DRAFT if drafted else SourceMode.LIVE
    note = None
    asked = [s.address for s in sources if s.kind is not SourceKind.ZONE_FILE and s.address]
    if SourceKind.ZONE_FILE in kinds:
        note = (
            "names outside the zone file(s) were asked from " + ", ".join(asked)
            if asked
            else "names outside the zone file(s) were not checked"
        )
    notes = [note] if note else []
    notes += _notes(resolver)
    return Provenance(
        mode=mode,
        sources=sources,
        collected_at=collected_at,
        tool_version=__version__,
        note="; ".join(notes) or None,
    )


def _notes(resolver: Resolver | None) -> list[str]:
    out: list[str] = []
    for _ in range(_MAX_DEPTH):
        if resolver is None:
            break
        say = getattr(resolver, "dns_note", None)
        text = say() if callable(say) else None
        if text:
            out.append(text)
        resolver = getattr(resolver, "inner", None) or getattr(resolver, "upstream", None)
    return out
