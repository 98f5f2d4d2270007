"""The TXT field grammar RFC 8461 §3.1 (MTA-STS) and RFC 8460 §3 (TLS-RPT) share.

    record = version 1*(delim field) [delim];  delim = *WSP ";" *WSP
    field  = name "=" value;  name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
    value  = 1*(%x21-3A / %x3C / %x3E-7E)   ; no "=", ";", SP or CTL

Pure; the version string is case-sensitive (RFC 7405 `%s`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import RecordSyntaxError

__all__ = [
    "EXT_NAME",
    "MultipleRecordsError",
    "TxtField",
    "only_record",
    "show",
    "split_txt_fields",
]

_WSP = " \t"
EXT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}")
_EXT_VALUE_BAD = re.compile(r"[^\x21-\x3a\x3c\x3e-\x7e]")
_LIST_VALUE_BAD = re.compile(r"[^\x21-\x7e \t]")
_NAME_STOP = frozenset(";= \t")


class MultipleRecordsError(RecordSyntaxError):
    """More than one TXT record of the kind where exactly one is required (RFC 8461 §3.1,
    RFC 8460 §3): senders then ignore them all. A subclass so a check can say "N records"
    rather than "invalid record"; `count` is how many."""

    def __init__(self, message: str, position: int = 0, count: int = 2) -> None:
        super().__init__(message, position)
        self.count = count

    def __reduce__(self) -> tuple[type[MultipleRecordsError], tuple[str, int, int]]:
        return (type(self), (self.message, self.position, self.count))


def show(text: str, limit: int = 40) -> str:
    """A stranger's text quoted in an error message, cut short."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


@dataclass(frozen=True)
class TxtField:
    name: str
    value: str
    position: int  # offset of the name in the record text


def split_txt_fields(
    text: str, version: str, list_fields: frozenset[str] = frozenset()
) -> tuple[list[TxtField], bool]:
    """The fields after `version` in an RFC 8461 / RFC 8460 style TXT record, and whether
    whitespace trails the last field without a closing `;` (outside the grammar, harmless).

    Grammar: version 1*(*WSP ";" *WSP field) [*WSP ";" *WSP], field = name "=" value.
    Fields named in `list_fields` hold comma lists with optional WSP around the commas
    (RFC 8460 `rua`): their value runs to the next `;` and may hold any printable ASCII
    and WSP; the caller parses the list.
    """
    if not text.startswith(version):
        raise RecordSyntaxError(f"record must begin with {version!r}", 0)
    pos = len(version)
    n = len(text)
    if pos < n and text[pos] != ";" and text[pos] not in _WSP:
        raise RecordSyntaxError(f"record must begin with {version!r} followed by ';'", pos)
    fields: list[TxtField] = []
    trailing_ws = False
    while pos < n:
        while pos < n and text[pos] in _WSP:
            pos += 1
        if pos == n:
            trailing_ws = True
            break
        if text[pos] != ";":
            raise RecordSyntaxError(f"expected ';' before {text[pos]!r}", pos)
        pos += 1
        while pos < n and text[pos] in _WSP:
            pos += 1
        if pos == n:
            break  # the optional closing delimiter
        if text[pos] == ";":
            raise RecordSyntaxError("empty field (two ';' in a row)", pos)
        end = pos
        while end < n and text[end] not in _NAME_STOP:
            end += 1
        name = text[pos:end]
        if end == n or text[end] != "=":
            shown = text[pos : max(end, pos + 1)]
            raise RecordSyntaxError(f"field {show(shown)} has no '=' (expected name=value)", pos)
        if not EXT_NAME.fullmatch(name):
            raise RecordSyntaxError(f"invalid field name {show(name or '(empty)')}", pos)
        start = end + 1
        if name in list_fields:
            # a URI list: WSP is allowed around its commas, so it runs to the next ';'
            end = text.find(";", start)
            end = n if end < 0 else end
            value = text[start:end].rstrip(_WSP)
            bad = _LIST_VALUE_BAD.search(value)
        else:
            end = start
            while end < n and text[end] != ";" and text[end] not in _WSP:
                end += 1
            value = text[start:end]
            bad = _EXT_VALUE_BAD.search(value)
        if not value:
            raise RecordSyntaxError(f"field {name!r} has an empty value", start)
        if bad is not None:
            raise RecordSyntaxError(
                f"character {bad.group()!r} is not allowed in the value of {name!r}",
                start + bad.start(),
            )
        end = start + len(value)
        fields.append(TxtField(name, value, pos))
        pos = end
    if not fields:
        raise RecordSyntaxError("record has no fields after the version", len(text))
    return fields, trailing_ws


def only_record(texts: Iterable[str], version: str, rule: str) -> str | None:
    """The one TXT record (each already concatenated) that begins with `version` followed by
    its end, ';' or white space; None when there is none (absence is not a syntax error).
    RFC 8461 §3.1 and RFC 8460 §3 discard records not beginning with the version; the grammar
    allows white space before its ';', and a record of the version alone is kept so that it
    is reported invalid rather than ignored.
    More than one raises MultipleRecordsError, `rule` saying what the RFC requires of that."""
    candidates = [
        t
        for t in texts
        if t.startswith(version) and t[len(version) : len(version) + 1] in ("", ";", " ", "\t")
    ]
    if len(candidates) > 1:
        raise MultipleRecordsError(
            f"{len(candidates)} TXT records begin with {version}; {rule}", 0, len(candidates)
        )
    return candidates[0] if candidates else None
