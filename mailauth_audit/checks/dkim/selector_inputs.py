"""DKIM selectors given by the user: a file of names (`--selectors-file`) or a message they
sent (`--selectors-from`: the s= of its DKIM-Signature fields, RFC 6376 §3.5).

Both are read within bounds: a selectors file larger than `Limits.max_selectors_file_bytes`
is refused unread, and a message is read only as far as its header section may reach
(`MessageLimits.max_header_bytes`), parsed by the same bounded parser `verify` uses, with at
most `MessageLimits.max_dkim_signatures` signatures read. A bad name is a usage error with its
line number, never a query for a name that cannot exist.
"""

from __future__ import annotations

import re
from pathlib import Path

from ...errors import ConfigurationError
from ...options import Limits, MessageLimits

# one or more DNS labels; "_" allowed because providers use it (RFC 6376 §3.1: sub-domain)
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
SELECTOR_PATTERN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
MAX_SELECTOR_CHARS = 200  # leaves room for "._domainkey.<domain>" within 253 characters
_MESSAGE_LIMITS = MessageLimits()
_FILE_BYTES = Limits().max_selectors_file_bytes


class SelectorInputError(ConfigurationError):
    """A selectors file or message that cannot be used; the message says where and why."""


def valid_selector(text: str) -> str | None:
    """The selector in canonical form (lower case, no final dot), or None if it is not one."""
    selector = text.strip().lower().rstrip(".")
    if len(selector) > MAX_SELECTOR_CHARS or not SELECTOR_PATTERN.fullmatch(selector):
        return None
    return selector


def parse_selectors_text(text: str, source: str = "selectors file") -> tuple[str, ...]:
    """One selector per line; `#` starts a comment; blank lines are skipped; duplicates are
    folded. Pure. Raises SelectorInputError naming the first bad line."""
    out: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        selector = valid_selector(content)
        if selector is None:
            shown = content[:60]
            raise SelectorInputError(
                f"{source}, line {number}: {shown!r} is not a DKIM selector "
                "(DNS labels of a-z 0-9 - _)"
            )
        out[selector] = None
    return tuple(out)


def read_selectors_file(path: Path, max_bytes: int = _FILE_BYTES) -> tuple[str, ...]:
    """The selectors of a file, read at most `max_bytes` (a larger file is refused)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise SelectorInputError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise SelectorInputError(f"{path} is larger than {max_bytes} bytes: not a selectors list")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SelectorInputError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    return parse_selectors_text(text, str(path))


def selectors_from_message(
    raw: bytes, limits: MessageLimits = _MESSAGE_LIMITS, source: str = "message"
) -> tuple[str, ...]:
    """The s= of the message's DKIM-Signature fields, in order, each once. Pure. Raises
    SelectorInputError when the header cannot be parsed or names no selector."""
    # imported here: the tag parser comes with dkimpy, which `check` needs for nothing else
    from dkim.util import InvalidTagValueList, parse_tag_value

    from ...messages.dkim_verify import LIBRARY_ERRORS, dkim_signature_headers
    from ...messages.headers import HeaderLimitError, HeaderSyntaxError, parse_message

    try:
        parsed = parse_message(raw, limits.max_header_fields, limits.max_header_bytes)
    except (HeaderLimitError, HeaderSyntaxError) as exc:
        raise SelectorInputError(f"{source}: cannot read its header: {exc}") from None
    values = dkim_signature_headers(parsed.header_pairs())
    out: dict[str, None] = {}
    for value in values[: limits.max_dkim_signatures]:
        try:
            tags = parse_tag_value(value)
        except (InvalidTagValueList, *LIBRARY_ERRORS):
            continue  # a signature `verify` would call permerror: it names no usable selector
        s = tags.get(b"s")
        if s is None:
            continue
        selector = valid_selector(re.sub(r"\s+", "", s.decode("utf-8", "replace")))
        if selector is not None:
            out[selector] = None
    if not out:
        found = (
            f"none of its {len(values)} DKIM-Signature field(s) has a usable s= selector"
            if values
            else "it has no DKIM-Signature field"
        )
        raise SelectorInputError(f"{source}: no selector to probe: {found}")
    return tuple(out)


def read_message_selectors(path: Path, limits: MessageLimits = _MESSAGE_LIMITS) -> tuple[str, ...]:
    """The selectors that signed a saved message (.eml, mbox entry). Only the header section
    is read: at most `limits.max_header_bytes` (plus the blank line that ends it)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limits.max_header_bytes + 4)
    except OSError as exc:
        raise SelectorInputError(f"cannot read {path}: {exc.strerror}") from None
    return selectors_from_message(raw, limits, str(path))
