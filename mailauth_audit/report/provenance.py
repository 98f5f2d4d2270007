"""The words every output format uses to say where a report's answers came from."""

from __future__ import annotations

from ..model import DnsSource, Provenance, SourceKind, SourceMode

__all__ = ["banner", "source_text", "sources_line"]


def source_text(source: DnsSource) -> str:
    """One source in one line: "resolver 127.0.0.1:53", "zone file a.zone (sha256 ab12…)"."""
    if source.kind is SourceKind.ZONE_FILE:
        return f"zone file {source.path} (sha256 {source.sha256})"
    if source.kind is SourceKind.ZONE_TEXT:
        return "zone text given to the API"
    if source.kind is SourceKind.AUTHORITATIVE:
        zone = ", ".join(z or "." for z in source.zones)
        answered = f", answered {source.answers}" if source.answers is not None else ""
        return f"authoritative server {source.address} for {zone}{answered}"
    return f"resolver {source.address}"


def sources_line(p: Provenance) -> str:
    """ "answers from resolver 127.0.0.1:53 at 2026-…Z; mailauth-audit 1.2.3" and a note."""
    where = "; ".join(source_text(s) for s in p.sources) or "unknown sources"
    if p.mode is SourceMode.SAMPLE and all(s.kind is SourceKind.ZONE_TEXT for s in p.sources):
        where = "the bundled demo zone"
    text = f"answers from {where}, collected {p.collected_at}, mailauth-audit {p.tool_version}"
    if p.mode is SourceMode.SAMPLE:
        text = "sample data: " + text
    if p.note:
        text += f" ({p.note})"
    return text


def banner(p: Provenance | None) -> str | None:
    """The warning a page leads with when its answers are not live DNS; None when live."""
    if p is None or p.mode is SourceMode.LIVE:
        return None
    if p.mode is SourceMode.SAMPLE:
        return "Sample data — made-up domains from the bundled demo zone, not from live DNS"
    files = [s.path for s in p.sources if s.kind is SourceKind.ZONE_FILE and s.path]
    if files:
        return f"DRAFT — audited from zone file {', '.join(files)}, not from live DNS"
    return "DRAFT — audited from zone text, not from live DNS"
