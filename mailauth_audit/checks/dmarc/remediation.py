"""Records the DMARC check proposes: built from what receivers accept, never copied verbatim.

A record is written by whoever controls the zone, possibly an attacker, and a proposal is
pasted by a person into a zone: so a proposal is rebuilt tag by tag from the parsed record,
and a report URI is carried over only when it is a mailto: with a valid address. Anything
else (`javascript:`, `data:`, `https:` ...) is left out, and the finding about that URI
says so.
"""

from __future__ import annotations

import re

from ...changes import ChangeAction, RecordChange
from ...records.dmarc import (
    DmarcDuplicateTagError,
    DmarcRecord,
    DmarcReportUri,
    parse_dmarc_lenient,
)
from ...records.errors import RecordSyntaxError
from ...records.taglist import edit_tag_list
from ...records.zonefile import DEFAULT_TTL, zone_line
from .parsing import value

__all__ = [
    "REPORT_MAILBOX",
    "ZONE_TTL",
    "add_change",
    "edited",
    "one_of_many",
    "proposable",
    "propose_record",
    "repair",
    "replace_change",
    "zone_txt_line",
]

ZONE_TTL = DEFAULT_TTL
# a report mailbox only the owner can name: a proposal holding it cannot be applied as is
REPORT_MAILBOX = "<your-report-mailbox>"


def edited(text: str, edits: dict[str, str | None]) -> str:
    """`text` with only the tags in `edits` changed: every other tag the owner wrote stays."""
    return edit_tag_list(text, edits, right_after_version=("p",))


def _placeholders(text: str) -> tuple[str, ...]:
    return (REPORT_MAILBOX,) if REPORT_MAILBOX in text else ()


def replace_change(
    name: str, current: str, proposed: str, ttl: int | None = None
) -> tuple[RecordChange, ...]:
    """`current` replaced by `proposed`, keeping the TTL `current` was answered with."""
    if proposed == current:
        return ()
    return (
        RecordChange(
            ChangeAction.REPLACE,
            name,
            "TXT",
            ttl or ZONE_TTL,
            current=current,
            proposed=proposed,
            placeholders=_placeholders(proposed),
        ),
    )


def add_change(name: str, proposed: str, fixes: tuple[str, ...] = ()) -> RecordChange:
    return RecordChange(
        ChangeAction.ADD,
        name,
        "TXT",
        ZONE_TTL,
        proposed=proposed,
        placeholders=_placeholders(proposed),
        fixes=fixes,
    )


def proposable(uri: DmarcReportUri) -> bool:
    """A report URI fit to copy into a proposed record: mailto: (the parser has checked its
    address). Receivers must support mailto: and may ignore every other scheme."""
    return uri.scheme == "mailto" and uri.address is not None


def zone_txt_line(name: str, text: str, ttl: int = ZONE_TTL) -> str:
    """A zone-file line a person can paste (the one zone-line function, records/zonefile)."""
    return zone_line(name, "TXT", text, ttl)


_PROPOSAL_ORDER = ("p", "sp", "np", "adkim", "aspf", "t", "psd", "rua", "ruf", "fo")


def propose_record(
    record: DmarcRecord | None, overrides: dict[str, str | None] | None = None
) -> str:
    """A clean record built from what receivers accepted in `record`, with `overrides`
    applied (a value of None removes the tag). Invalid values, unknown tags, the tags
    RFC 9989 removed and report URIs other than mailto: are left out, so the proposal parses
    without issues and carries nothing a stranger wrote but mailbox addresses."""
    values: dict[str, str | None] = {}
    if record is not None:
        values = {
            "p": value(record.policy),
            "sp": value(record.subdomain_policy),
            "np": value(record.nonexistent_subdomain_policy),
            "adkim": value(record.adkim),
            "aspf": value(record.aspf),
            "t": "y" if record.testing else None,
            "psd": value(record.psd),
            "rua": ",".join(u.uri for u in record.rua if proposable(u)) or None,
            "ruf": ",".join(u.uri for u in record.ruf if proposable(u)) or None,
            "fo": ":".join(record.failure_options) or None,
        }
    values.update(overrides or {})
    if not values.get("p"):
        values["p"] = "none"
    if not values.get("ruf"):
        values["fo"] = None  # fo without ruf means nothing (RFC 9989 §4.7)
    parts = ["v=DMARC1"] + [f"{tag}={values[tag]}" for tag in _PROPOSAL_ORDER if values.get(tag)]
    return "; ".join(parts)


_VERSION_PREFIX = re.compile(r"\s*v\s*=\s*dmarc1\s*;?", re.IGNORECASE)


def repair(text: str) -> DmarcRecord | None:
    """The record as its author probably meant it: `v=dmarc1 p=reject` → `v=DMARC1; p=reject`,
    a repeated tag's later copies dropped.
    Only to build a proposal; never used to decide what receivers do."""
    match = _VERSION_PREFIX.match(text)
    rest = text[match.end() :] if match else text
    candidate = "v=DMARC1; " + rest.lstrip(" \t;")
    while True:  # each pass removes one segment, so this ends
        try:
            record, _ = parse_dmarc_lenient(candidate)
        except DmarcDuplicateTagError as exc:  # keep the first copy, drop the repeat
            end = candidate.find(";", exc.position)
            candidate = candidate[: exc.position] + (candidate[end + 1 :] if end >= 0 else "")
            continue
        except RecordSyntaxError:
            return None
        return record


def one_of_many(
    name: str, records: tuple[str, ...], ttl: int | None = None
) -> tuple[str, list[RecordChange]]:
    """One record in place of several: the first (repaired) with every tag of the others it
    lacks and their report addresses added, so no mailbox the owner set up is lost; the
    others removed."""
    first = repair(records[0]) if records else None
    if first is None:
        kept = propose_record(None)
    else:
        kept = records[0] if first.text == records[0] else propose_record(first)
    extra: dict[str, str | None] = {}
    for text in records[1:]:
        other = repair(text)
        if other is None:
            continue
        for tag in ("rua", "ruf"):
            have = [u.uri for u in (first.report_uris if first else ()) if u.tag == tag]
            more = [u.uri for u in other.report_uris if u.tag == tag and proposable(u)]
            merged = list(dict.fromkeys([*have, *more]))
            if merged and merged != have:
                extra[tag] = ",".join(merged)
    kept = edited(kept, extra) if extra else kept
    changes: list[RecordChange] = []
    if records:
        changes.extend(replace_change(name, records[0], kept, ttl))
        changes.extend(
            RecordChange(ChangeAction.REMOVE, name, "TXT", ttl or ZONE_TTL, current=text)
            for text in records[1:]
        )
    else:
        changes.append(add_change(name, kept))
    return kept, changes
