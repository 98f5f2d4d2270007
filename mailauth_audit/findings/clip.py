"""Bounded text in reports: what strangers publish is shown, but never without limit.

A TXT record can be 65,535 bytes, and one record can be quoted by many findings and tree
nodes, so every string a check copies from DNS into a result or a finding goes through
`clip_text`. The marker says how much was cut, so a reader never mistakes a clipped text for
the whole of it, and `CLIP_MARKER` finds it again (the SPF tree strips it before re-parsing).
"""

from __future__ import annotations

import dataclasses
import re

from ..model import Finding

CLIP_MARKER = re.compile(r" ?…\[[0-9,]+ characters not shown\]… ?")
# the ASCII characters JSON escapes (with \x7f, which `json_cost` counts as one too)
ESCAPED_BYTES = bytes(range(0x20)) + b'\x7f"\\'
# every byte to itself, but those to 0: a 0 in the translation means something to escape
_FLAG_ESCAPED = bytes(0 if b in ESCAPED_BYTES else b for b in range(256))


def marker(cut: int) -> str:
    return f"…[{cut:,} characters not shown]…"


def clip_text(text: str, limit: int) -> str:
    """`text` when it has at most `limit` characters, else its head and a marker."""
    if len(text) <= limit:
        return text
    return text[:limit] + marker(len(text) - limit)


def is_clipped(text: str | None) -> bool:
    return text is not None and CLIP_MARKER.search(text) is not None


def json_cost(text: str) -> int:
    """Bytes `text` takes in a JSON string (before quotes): control characters, quotes and
    backslashes are escaped, and escapes are what make hostile text larger than it looks.

    Each escaped character is one ASCII byte of the UTF-8 text (no byte of a multi-byte
    character is below 0x80), so the bytes are searched and counted in C, not the text."""
    data = text.encode() if text.isascii() else text.encode("utf-8", "surrogatepass")
    if 0 not in data.translate(_FLAG_ESCAPED):
        return len(data)  # nothing to escape: the usual record
    return len(data) + 5 * (len(data) - len(data.translate(None, ESCAPED_BYTES)))


def clip_finding(finding: Finding, limit: int, max_evidence: int = 8) -> Finding:
    """The finding with its detail, remediation and each evidence string clipped, and at most
    `max_evidence` evidence strings (the last one then says how many were left out)."""
    if (
        len(finding.evidence) <= max_evidence
        and max(map(len, finding.evidence), default=0) <= limit
        and len(finding.detail) <= limit
        and len(finding.remediation) <= limit
    ):
        return finding  # nothing to clip: the usual finding, without copying its evidence
    evidence = tuple(clip_text(e, limit) for e in finding.evidence[:max_evidence])
    extra = len(finding.evidence) - max_evidence
    if extra > 0:
        evidence = (*evidence, f"…[{extra:,} more not shown]…")
    detail = clip_text(finding.detail, limit)
    remediation = clip_text(finding.remediation, limit)
    if (
        evidence == finding.evidence
        and detail is finding.detail
        and remediation is finding.remediation
    ):
        return finding
    # clipped sentences no longer follow from the template values (which are unclipped)
    unchanged = detail is finding.detail and remediation is finding.remediation
    params = finding.params if unchanged else ()
    return dataclasses.replace(
        finding, detail=detail, remediation=remediation, evidence=evidence, params=params
    )


def listed(items: list[str], limit: int = 20) -> str:
    """`a, b, c`, or the first `limit` items and how many more: a finding's detail names
    terms of a tree that can hold thousands."""
    shown = ", ".join(items[:limit])
    more = len(items) - limit
    return f"{shown} and {more:,} more" if more > 0 else shown


_MORE_RECORDS = re.compile(r"…\[([0-9,]+) more records not shown\]…")


def more_records(count: int) -> str:
    """The line that stands for `count` records left out of a list of records."""
    return f"…[{count:,} more records not shown]…"


def records_count(found: tuple[str, ...]) -> int:
    """How many records a list stands for, counting those a cap left out."""
    more = _MORE_RECORDS.fullmatch(found[-1]) if found else None
    return len(found) - 1 + int(more.group(1).replace(",", "")) if more else len(found)
