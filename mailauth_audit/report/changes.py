"""A finding's record changes as people read them: "replace X with Y", "add", "remove".

Read from `Finding.changes`, never parsed back out of the remediation prose; the zone lines
come from the one zone-line function (`records.zonefile.zone_line`). Used by the text
report, the HTML report and `fix`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..changes import ChangeAction, RecordChange
from ..records.zonefile import DEFAULT_TTL, zone_line

__all__ = [
    "ChangeBlock",
    "ProposingFinding",
    "change_lines",
    "change_summary",
    "current_line",
    "finding_blocks",
    "proposed_line",
    "prose_parts",
    "quoted_lines",
    "remediation_lines",
]


class ProposingFinding(Protocol):
    """What presenting a fix needs of a finding: a domain's `Finding` or a message's
    `MessageFinding`, both with their remediation prose and typed changes."""

    @property
    def remediation(self) -> str: ...

    @property
    def changes(self) -> tuple[RecordChange, ...]: ...


def current_line(change: RecordChange) -> str | None:
    if change.current is None:
        return None
    return zone_line(change.name, change.rtype, change.current, change.ttl)


def proposed_line(change: RecordChange) -> str | None:
    if change.proposed is None:
        return None
    return zone_line(change.name, change.rtype, change.proposed, change.ttl)


def quoted_lines(change: RecordChange) -> set[str]:
    """How remediation prose may quote the proposed record: with the change's TTL (the one
    the record was answered with) or the default TTL of a proposal."""
    if change.proposed is None:
        return set()
    return {
        zone_line(change.name, change.rtype, change.proposed, ttl)
        for ttl in (change.ttl, DEFAULT_TTL)
    }


def change_summary(change: RecordChange) -> str:
    """One heading: what to do with which record."""
    verb = {
        ChangeAction.ADD: "Add",
        ChangeAction.REPLACE: "Replace",
        ChangeAction.REMOVE: "Remove",
    }[change.action]
    article = "a" if change.action is ChangeAction.ADD else "the"
    return f"{verb} {article} {change.rtype} record at {change.name}"


def change_lines(change: RecordChange) -> list[str]:
    """The change in plain text, never a bare line to append."""
    current, proposed = current_line(change), proposed_line(change)
    if change.action is ChangeAction.REPLACE:
        lines = [f"replace  {current}", f"   with  {proposed}"]
    elif change.action is ChangeAction.ADD:
        lines = [f"add      {proposed}"]
    else:
        lines = [f"remove   {current}"]
    if change.placeholders:
        lines.append(f"   needs your input: {', '.join(change.placeholders)}")
    return lines


@dataclass(frozen=True)
class ChangeBlock:
    """One block of a finding's "How to fix": prose (`text`, `code` parts) or a change."""

    kind: str  # "text" (prose with inline code) or "change"
    parts: tuple[tuple[str, str], ...] = ()  # ("text" | "code", string), for kind text
    change: RecordChange | None = None  # for kind change
    summary: str = ""  # for kind change: change_summary
    current: str | None = None  # for kind change: the current record as a zone line
    proposed: str | None = None  # for kind change: the proposed record as a zone line


def _change_block(change: RecordChange) -> ChangeBlock:
    return ChangeBlock(
        "change",
        change=change,
        summary=change_summary(change),
        current=current_line(change),
        proposed=proposed_line(change),
    )


def prose_parts(text: str) -> tuple[tuple[str, str], ...]:
    """Prose as ("text" | "code", string) parts: inline code is what stands between
    backticks. Our own markup, split on one character; nothing is parsed back out of it."""
    return tuple(
        ("code" if j % 2 else "text", part) for j, part in enumerate(text.split("`")) if part
    )


def finding_blocks(finding: ProposingFinding) -> tuple[ChangeBlock, ...]:
    """The remediation prose with each of the finding's changes in its place.

    A proposed record's zone line in the prose is exactly `proposed_line` of its change (both
    come from `zone_line`), so it is found by comparing strings, not by parsing: that line
    becomes the change's block; the rest stays prose, inline code between backticks. Changes
    the prose does not quote (removals) follow the prose."""
    by_line = {line: c for c in finding.changes for line in quoted_lines(c)}
    placed: set[int] = set()
    blocks: list[ChangeBlock] = []
    prose: list[tuple[str, str]] = []

    def flush() -> None:
        text = "".join(s for _, s in prose).strip(" \n")
        if text and text.strip(" .;,:\n"):
            blocks.append(ChangeBlock("text", tuple(prose)))
        prose.clear()

    after_change = False
    for i, line in enumerate(finding.remediation.split("\n")):
        if i and not after_change:
            prose.append(("text", "\n"))
        for j, part in enumerate(line.split("`")):
            change = by_line.get(part.strip())
            if change is not None:
                if prose and prose[-1][0] == "text":
                    # "… under a new selector (`record`), then …": the block replaces the
                    # parenthesis, so neither half of it stays behind
                    kind, before = prose.pop()
                    if before.rstrip().endswith("("):
                        before = before.rstrip()[:-1]
                    prose.append((kind, before))
                flush()
                blocks.append(_change_block(change))
                placed.add(id(change))
                after_change = True
                continue
            if after_change and not j % 2:
                # "…: `record`; keep …" reads as a sentence of its own after the block
                part = part.lstrip().lstrip(").,;:").lstrip()
                part = part[:1].upper() + part[1:]
            if part:
                prose.append(("code" if j % 2 else "text", part))
                after_change = False
    flush()
    blocks += [_change_block(c) for c in finding.changes if id(c) not in placed]
    return tuple(blocks)


def remediation_lines(finding: ProposingFinding) -> list[tuple[str, str]]:
    """The fix as lines for a terminal: ("fix", prose line) and ("change", change line).

    Without changes, the remediation's own lines. With them, the prose around each change
    (its own quoted copy of the record left out) and the change itself, whose zone line
    carries the TTL the record was answered with."""
    if not finding.changes:
        return [("fix", line) for line in finding.remediation.splitlines()]
    out: list[tuple[str, str]] = []
    for block in finding_blocks(finding):
        if block.change is not None:
            out += [("change", line) for line in change_lines(block.change)]
            continue
        text = "".join(f"`{s}`" if kind == "code" else s for kind, s in block.parts)
        out += [("fix", line.strip()) for line in text.strip().splitlines() if line.strip()]
    return out
