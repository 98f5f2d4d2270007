"""Records the DMARC check proposes: built from what receivers accept, never copied verbatim.

A record is written by whoever controls the zone, possibly an attacker, and a proposal is
pasted by a person into a zone: so a proposal is rebuilt tag by tag from the parsed record,
and a report URI is carried over only when it is a mailto: with a valid address. Anything
else (`javascript:`, `data:`, `https:` ...) is left out, and the finding about that URI
says so.
"""

from __future__ import annotations

import re

from ...records.dmarc import (
    DmarcDuplicateTagError,
    DmarcRecord,
    DmarcReportUri,
    parse_dmarc_lenient,
)
from ...records.errors import RecordSyntaxError
from .parsing import value

__all__ = ["ZONE_TTL", "proposable", "propose_record", "repair", "zone_txt_line"]

ZONE_TTL = 3600


def proposable(uri: DmarcReportUri) -> bool:
    """A report URI fit to copy into a proposed record: mailto: (the parser has checked its
    address). Receivers must support mailto: and may ignore every other scheme."""
    return uri.scheme == "mailto" and uri.address is not None


def zone_txt_line(name: str, text: str, ttl: int = ZONE_TTL) -> str:
    """A zone-file line a person can paste: quotes and backslashes escaped, strings split at
    255 characters (RFC 1035 §3.3.14: one character-string holds at most 255)."""
    escaped = [
        '"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"'
        for chunk in (text[i : i + 255] for i in range(0, max(len(text), 1), 255))
    ]
    return f"{name}. {ttl} IN TXT {' '.join(escaped)}"


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
