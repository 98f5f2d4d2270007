"""Split a received message into its header fields and body, in time linear in its size and
within caps on the header section, so that no message can make parsing the slow part.

The result is exactly what dkimpy's `rfc822_parse` returns for the same bytes (a list of
[name, value] pairs whose values keep their folding and end in CRLF, and the body with every
line ending made CRLF), because dkimpy hashes those values: the verifiers are handed this
parse instead of parsing the message again for every signature. dkimpy's own parser joins
folded lines by repeated concatenation, which is quadratic in the number of continuation
lines; here the pieces of each field are collected and joined once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["HeaderLimitError", "HeaderSyntaxError", "ParsedMessage", "parse_message"]

_NAME = re.compile(rb"[\x21-\x7e]+")  # RFC 5322 §2.2 printable US-ASCII, as dkimpy reads it
Header = list[bytes]  # [name, value]: a list, as dkimpy's parser gives (and ARC signing edits)


class HeaderLimitError(Exception):
    """The header section is over a limit; `what` says which, for the verdict."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class HeaderSyntaxError(Exception):
    """A header line is neither 'name: value', a continuation, nor an mbox 'From ' line."""


@dataclass(frozen=True)
class ParsedMessage:
    headers: list[Header]
    body: bytes  # CRLF line endings, as dkimpy canonicalizes it

    def header_pairs(self) -> list[tuple[bytes, bytes]]:
        return [(h[0], h[1]) for h in self.headers]


def _header_end(raw: bytes, search_limit: int) -> tuple[int, int] | None:
    """(where the header section ends, where the body starts) for the first empty line
    within `search_limit` bytes, or None when there is none there."""
    if raw.startswith(b"\n"):
        return 0, 1
    if raw.startswith(b"\r\n"):
        return 0, 2
    candidates = []
    lf_lf = raw.find(b"\n\n", 0, search_limit)
    if lf_lf != -1:
        candidates.append((lf_lf + 1, lf_lf + 2))
    lf_crlf = raw.find(b"\n\r\n", 0, search_limit)
    if lf_crlf != -1:
        candidates.append((lf_crlf + 1, lf_crlf + 3))
    return min(candidates) if candidates else None


def _crlf(body: bytes) -> bytes:
    """Every LF or CRLF becomes CRLF (a lone CR stays), like `re.sub(b"\\r?\\n", b"\\r\\n")`."""
    return body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def parse_message(raw: bytes, max_fields: int, max_header_bytes: int) -> ParsedMessage:
    """Raises HeaderLimitError past `max_fields` header fields or `max_header_bytes` of header
    section, HeaderSyntaxError for a line that is no header. Pure; never reads past the
    header limit to find where the header section ends."""
    end = _header_end(raw, max_header_bytes + 3)
    if end is None:
        if len(raw) > max_header_bytes:
            raise HeaderLimitError(f"header section larger than {max_header_bytes} bytes")
        block, body = raw, b""
        lines = block.split(b"\n")
        last = lines.pop()  # the unterminated tail (b"" when raw ends with LF)
        lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
        if last:
            lines.append(last)
    else:
        head_end, body_start = end
        if head_end > max_header_bytes:
            raise HeaderLimitError(
                f"header section of {head_end} bytes, over the limit of {max_header_bytes}"
            )
        block, body = raw[:head_end], _crlf(raw[body_start:])
        lines = block.split(b"\n")
        lines.pop()  # the block ends with LF: the last piece is empty
        lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]

    fields: list[tuple[bytes, list[bytes]]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not fields:
                raise HeaderSyntaxError("the first header line is a continuation line")
            fields[-1][1].append(line + b"\r\n")
            continue
        colon = line.find(b":", 1)  # a name has at least one character, even ':' itself
        name = line[:colon] if colon > 0 else b""
        if name and _NAME.fullmatch(name):
            if len(fields) >= max_fields:
                raise HeaderLimitError(f"more than {max_fields} header fields")
            fields.append((name, [line[colon + 1 :] + b"\r\n"]))
        elif line.startswith(b"From "):
            continue
        else:
            shown = line[:60].decode("ascii", "backslashreplace")
            raise HeaderSyntaxError(f"unexpected characters in header line: {shown!r}")
    return ParsedMessage([[name, b"".join(parts)] for name, parts in fields], body)
