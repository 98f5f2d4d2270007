"""Every finding's changes for one record combined into one change (pure).

Why: each finding proposes a whole record for its name; applied one after another, a later
fix undoes an earlier one (the np= fix puts back p=none), and appended they publish a
second record. Here the edits are taken apart again against the record they change
(tag by tag for DMARC and DKIM, term by term for SPF) and put together on that record once,
so every fix survives and every tag or mechanism that was not at fault is kept.

Conflicts are resolved deterministically: the strictest policy (p, sp, np) and the strictest
`all` win; report addresses are united; a removal of any other tag wins over a new value
(each removal is the tag at fault); otherwise the change of the first finding code in
sorted order wins.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from ..changes import ChangeAction, RecordChange
from ..records.taglist import edit_tag_list, tag_edits, tag_pairs

__all__ = ["ChangeKey", "change_key", "merge_changes"]

_POLICY_RANK = {"none": 0, "quarantine": 1, "reject": 2}
_POLICY_TAGS = frozenset({"p", "sp", "np"})
_URI_TAGS = frozenset({"rua", "ruf"})
_ALL_RANK = {"+": 0, "?": 1, "~": 2, "-": 3}  # how strict an `all` is


@dataclass(frozen=True, order=True)
class ChangeKey:
    """The record a change is about: an existing one (its value) or a new one at a name."""

    name: str  # lower case, no trailing dot
    rtype: str
    current: str  # "" for an addition


def change_key(change: RecordChange) -> ChangeKey:
    current = change.current if change.action is not ChangeAction.ADD else None
    return ChangeKey(change.name.rstrip(".").lower(), change.rtype.upper(), current or "")


def _kind(text: str) -> str:
    head = text.lstrip()[:8].lower()
    if head.startswith("v=dmarc1") or head.startswith("v=dkim1"):
        return "tags"
    if head.startswith("v=spf1"):
        return "spf"
    return "other"


def _merge_tag_values(tag: str, values: list[str | None]) -> str | None:
    kept = [v for v in values if v is not None]
    if tag in _POLICY_TAGS and kept:
        return max(kept, key=lambda v: _POLICY_RANK.get(v.lower(), -1))
    if tag in _URI_TAGS:
        uris = [u.strip() for v in kept for u in v.split(",") if u.strip()]
        return ",".join(dict.fromkeys(uris)) or None
    if len(kept) < len(values):
        return None
    return kept[0]


def _merge_tags(base: str, proposals: list[str]) -> str:
    per_tag: dict[str, list[str | None]] = {}
    for proposed in proposals:
        for tag, value in tag_edits(base, proposed).items():
            per_tag.setdefault(tag, []).append(value)
    edits = {tag: _merge_tag_values(tag, values) for tag, values in per_tag.items()}
    if not base:  # a new record: its version tag first, as every proposal writes it
        version = next((p for p in proposals if tag_pairs(p)), "")
        first = tag_pairs(version)[0] if version else ("v", None)
        base = f"{first[0]}={first[1]}"
        edits.pop(first[0], None)
    return edit_tag_list(base, edits, right_after_version=("p",))


def _all_rank(term: str) -> int | None:
    """How strict `term` is when it is an `all` mechanism, else None."""
    t = term.lower()
    qualifier = t[0] if t[:1] in _ALL_RANK else "+"
    body = t[1:] if t[:1] in _ALL_RANK else t
    return _ALL_RANK[qualifier] if body == "all" else None


def _merge_spf(base: str, proposals: list[str]) -> str:
    """Term edits of every proposal against `base`, applied to it once."""
    terms = base.split()
    deleted: set[int] = set()
    inserted: dict[int, list[str]] = {}
    in_bucket: dict[int, set[str]] = {}
    for proposed in proposals:
        new = proposed.split()
        matcher = difflib.SequenceMatcher(None, terms, new, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                continue
            deleted.update(range(i1, i2))
            bucket, seen = inserted.setdefault(i1, []), in_bucket.setdefault(i1, set())
            for term in new[j1:j2]:
                if term.lower() not in seen:
                    seen.add(term.lower())
                    bucket.append(term)
    out: list[str] = []
    for i in range(len(terms) + 1):
        out.extend(inserted.get(i, ()))
        if i < len(terms) and i not in deleted:
            out.append(terms[i])
    # one `all`, the strictest proposed, where the last one stood
    alls = [(i, rank) for i, t in enumerate(out) if (rank := _all_rank(t)) is not None]
    if len(alls) > 1:
        best = out[max(alls, key=lambda x: x[1])[0]]
        last = alls[-1][0]
        out = [
            best if i == last else t for i, t in enumerate(out) if i == last or _all_rank(t) is None
        ]
    unique: list[str] = []
    kept: set[str] = set()
    for term in out:
        if term.lower() not in kept:
            kept.add(term.lower())
            unique.append(term)
    return " ".join(unique)


def _merge_group(group: list[RecordChange]) -> RecordChange:
    group = sorted(group, key=lambda c: (c.fixes, c.proposed or ""))
    first = group[0]
    fixes = tuple(sorted({code for c in group for code in c.fixes}))
    placeholders = tuple(dict.fromkeys(p for c in group for p in c.placeholders))
    if len(group) == 1:
        return first
    if any(c.action is ChangeAction.REMOVE for c in group):
        return RecordChange(
            ChangeAction.REMOVE, first.name, first.rtype, first.ttl, first.current, None, (), fixes
        )
    base = first.current or "" if first.action is ChangeAction.REPLACE else ""
    proposals = [c.proposed or "" for c in group]
    kind = _kind(base or proposals[0]) if first.rtype.upper() == "TXT" else "other"
    if kind == "tags":
        proposed = _merge_tags(base, proposals)
    elif kind == "spf":
        proposed = _merge_spf(base, proposals)
    else:
        proposed = proposals[0]
    placeholders = tuple(p for p in placeholders if p in proposed)
    return RecordChange(
        first.action,
        first.name,
        first.rtype,
        first.ttl,
        first.current,
        proposed,
        placeholders,
        fixes,
    )


def merge_changes(changes: Iterable[RecordChange]) -> tuple[RecordChange, ...]:
    """One change per record: combined as the module says, sorted by name, type and value."""
    groups: dict[ChangeKey, list[RecordChange]] = {}
    for change in changes:
        groups.setdefault(change_key(change), []).append(change)
    merged = [_merge_group(groups[key]) for key in sorted(groups)]
    # several additions of one kind at one name (two starter DMARC records) are one record
    return tuple(merged)
