"""Edits of `tag=value; tag=value` records (DMARC RFC 9989 §4.7, DKIM RFC 6376 §3.2) that
change only the tags at fault.

A fix that rebuilds the whole record from what one finding cares about drops whatever else
the owner wrote (`fo=1`, a second `rua=` address); an edit here keeps every other tag as it
was written, in its place. Pure text work: nothing is judged here.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["edit_tag_list", "tag_edits", "tag_pairs"]


def tag_pairs(text: str) -> list[tuple[str, str | None]]:
    """The record's (tag, value) pairs in order; names lower-cased, values stripped.

    Lenient: a segment without "=" is kept as (segment, None) so an edit never loses it
    silently; an empty segment (`;;`, a trailing `;`) is skipped."""
    pairs: list[tuple[str, str | None]] = []
    for segment in text.split(";"):
        segment = segment.strip(" \t\r\n")
        if not segment:
            continue
        name, sep, value = segment.partition("=")
        pairs.append((name.strip().lower(), value.strip()) if sep else (segment, None))
    return pairs


def _join(pairs: list[tuple[str, str | None]]) -> str:
    return "; ".join(n if v is None else f"{n}={v}" for n, v in pairs)


def edit_tag_list(
    text: str, edits: Mapping[str, str | None], *, right_after_version: tuple[str, ...] = ()
) -> str:
    """`text` with each tag of `edits` set to its value (None: removed), all else kept.

    A tag the record does not have is appended, except tags in `right_after_version`
    (DMARC's p=), which go right after the first pair (v=): RFC 7489 §6.4 expects p= there."""
    pairs = tag_pairs(text)
    seen: set[str] = set()
    out: list[tuple[str, str | None]] = []
    for name, value in pairs:
        if name in edits:
            if name in seen:  # a repeated tag: the edit speaks for the first copy only
                continue
            seen.add(name)
            new = edits[name]
            if new is not None:
                out.append((name, new))
            continue
        out.append((name, value))
    for name, new in edits.items():
        if name in seen or new is None:
            continue
        if name in right_after_version and out:
            out.insert(1, (name, new))
        else:
            out.append((name, new))
    return _join(out)


def tag_edits(current: str, proposed: str) -> dict[str, str | None]:
    """What `proposed` changes in `current`, tag by tag (None: the tag is removed)."""
    before = dict(reversed(tag_pairs(current)))  # the first copy of a repeated tag counts
    after = dict(reversed(tag_pairs(proposed)))
    edits: dict[str, str | None] = {n: v for n, v in after.items() if before.get(n) != v}
    edits.update({n: None for n in before if n not in after})
    return edits
