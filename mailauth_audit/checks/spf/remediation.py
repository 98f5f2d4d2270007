"""Corrected SPF records for remediation: zone-file lines, term edits, merges, typo fixes.

Pure text work on the records of the SPF check; a proposal is only made when the result is
itself a valid record.
"""

from __future__ import annotations

import difflib

from ...changes import ChangeAction, RecordChange
from ...findings.clip import CLIP_MARKER
from ...records.errors import RecordSyntaxError
from ...records.spf import SpfMechanismKind, SpfModifier, SpfRecord, parse_spf
from ...records.zonefile import DEFAULT_TTL, zone_line
from ...records.zonefile import TXT_STRING_LIMIT as TXT_STRING_LIMIT  # checks.spf re-exports


def zone_txt_line(owner: str, text: str, ttl: int = DEFAULT_TTL) -> str:
    """The zone-file line publishing `text` (the one zone-line function, records/zonefile)."""
    return zone_line(owner, "TXT", text, ttl)


def valid(text: str) -> bool:
    try:
        parse_spf(text)
    except RecordSyntaxError:
        return False
    return True


def proposal(owner: str, text: str) -> str:
    """A "Corrected record: …" sentence when `text` is a valid record, else nothing: we
    never propose a record that would itself be a syntax error."""
    return f" Corrected record: `{zone_txt_line(owner, text)}`" if valid(text) else ""


def change(owner: str, current: str, fixed: str | None) -> tuple[RecordChange, ...]:
    """The record `current` at `owner` replaced by `fixed`, when that is a valid record.

    An equal text is still a change when the strings must be re-split (spf.string_too_long):
    the zone line written for it splits at 255 bytes."""
    if fixed is None or not valid(fixed):
        return ()
    return (
        RecordChange(
            ChangeAction.REPLACE, owner, "TXT", DEFAULT_TTL, current=current, proposed=fixed
        ),
    )


def merged_changes(owner: str, records: tuple[str, ...], merged: str) -> list[RecordChange]:
    """Several SPF records at one name made one: the first replaced, the others removed."""
    out = list(change(owner, records[0], merged))
    out += [
        RecordChange(ChangeAction.REMOVE, owner, "TXT", DEFAULT_TTL, current=text)
        for text in records[1:]
    ]
    return out


def replace_term(text: str, position: int, old: str, new: str) -> str:
    """Replace one term in place; with `new` empty, also drop the space before it."""
    if new:
        return text[:position] + new + text[position + len(old) :]
    start = position
    while start > 0 and text[start - 1] == " ":
        start -= 1
    return text[:start] + text[position + len(old) :]


def context(text: str, position: int) -> str:
    start = max(0, position - 10)
    end = min(len(text), position + 20)
    snippet = text[start:end]
    return ("…" if start else "") + snippet + ("…" if end < len(text) else "")


def with_all(record: SpfRecord, qualifier: str) -> str:
    """The record with its first `all` replaced, or `all` appended when it has none."""
    mech = record.all
    if mech is None:
        return record.text.rstrip(" ") + f" {qualifier}all"
    return replace_term(record.text, mech.position, mech.text, f"{qualifier}all")


def typo_fix(text: str, position: int, message: str) -> str | None:
    """For `unknown mechanism 'inclde'`, the record with the closest mechanism name."""
    if not message.startswith("unknown mechanism"):
        return None
    end = text.find(" ", position)
    term = text[position : end if end >= 0 else len(text)]
    qualifier = term[0] if term[:1] in "+-~?" else ""
    body = term[len(qualifier) :]
    name = body.split(":", 1)[0].split("/", 1)[0]
    names = [k.value for k in SpfMechanismKind]
    close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
    if not close:
        return None
    fixed = replace_term(text, position, term, qualifier + close[0] + body[len(name) :])
    return fixed if valid(fixed) else None


def repaired(text: str) -> str:
    """The record with a mistyped mechanism name corrected, when that is its only fault."""
    try:
        parse_spf(text)
    except RecordSyntaxError as exc:
        return typo_fix(text, exc.position, exc.message) or text
    return text


def merge(records: tuple[str, ...]) -> str | None:
    """One record holding the terms of several, or None when a term makes that unsafe.

    A record whose only fault is a mistyped mechanism name (`inclde:`) is merged as it was
    meant; any other syntax error makes the merge unsafe."""
    records = tuple(repaired(r) for r in records)
    terms: list[str] = []
    final = "-all"
    for text in records:
        try:
            rec = parse_spf(text)
        except RecordSyntaxError:
            return None
        for t in rec.terms:
            if isinstance(t, SpfModifier):
                if t.name in ("redirect", "exp"):
                    return None
                continue
            if t.kind is SpfMechanismKind.ALL:
                continue
            if t.text.lower() not in (x.lower() for x in terms):
                terms.append(t.text)
    merged = " ".join(["v=spf1", *terms, final])
    return merged if valid(merged) else None


def parsed(text: str | None) -> SpfRecord | None:
    """The record, or None when it does not parse. A tree node's record clipped for the
    report is parsed without its marker: what is left keeps the `all` that decides."""
    if text is None:
        return None
    try:
        # every marker holds "…"; the pattern's optional leading space makes `sub` test each
        # position of the text, so texts without one (nearly all) skip it
        unclipped = CLIP_MARKER.sub(" ", text) if "…" in text else text
        return parse_spf(unclipped.rstrip(" "))
    except RecordSyntaxError:
        return None
