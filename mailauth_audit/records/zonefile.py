"""The one way this tool writes a DNS record as a zone-file line.

Remediation prose, the HTML report, `dkim keygen` and the `fix` command all print records a
person pastes into a zone (or that `fix` writes into one), so they must agree on the details
that break records silently: a TXT character-string holds at most 255 BYTES (RFC 1035
§3.3.14), not characters, and a split must not cut a UTF-8 character in two; quotes and
backslashes are escaped; bytes a zone file cannot hold literally are written as `\\DDD`.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_TTL",
    "TXT_STRING_LIMIT",
    "quote_txt",
    "split_txt",
    "zone_line",
]

TXT_STRING_LIMIT = 255  # bytes in one character-string (RFC 1035 §3.3.14)
DEFAULT_TTL = 3600  # a proposed record's TTL when nothing better is known


def split_txt(text: str, limit: int = TXT_STRING_LIMIT) -> tuple[bytes, ...]:
    """The record's UTF-8 bytes as character-strings of at most `limit` bytes each.

    A split never falls inside a multi-byte character (a resolver joins the strings again,
    but a person reading one string should not see a broken character); the empty text is
    one empty string, as a TXT record needs at least one."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return (data,)  # the usual record: one string (the empty text too)
    chunks: list[bytes] = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        # step back over continuation bytes (10xxxxxx) so a character stays whole
        while end < len(data) and end > start and data[end] & 0xC0 == 0x80:
            end -= 1
        if end == start:  # a limit smaller than one character: cut anyway
            end = min(start + limit, len(data))
        chunks.append(data[start:end])
        start = end
    return tuple(chunks) or (b"",)


# every byte to itself, but the ASCII a zone file cannot hold literally (control bytes, DEL,
# quote, backslash) to 0: a 0 in the translation means something to escape
_FLAG_ESCAPED = bytes(0 if b < 0x20 or b in b'\x7f"\\' else b for b in range(256))


def _escape(chunk: bytes) -> str:
    # the usual case, printable ASCII without a quote or backslash, is written as it is
    if chunk.isascii() and 0 not in chunk.translate(_FLAG_ESCAPED):
        return chunk.decode("ascii")
    text = chunk.decode("utf-8", "surrogateescape")
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8
            out.append(f"\\{code - 0xDC00:03d}")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\{code:03d}")
        else:
            out.append(ch)
    return "".join(out)


def quote_txt(text: str, limit: int = TXT_STRING_LIMIT) -> str:
    """TXT rdata as a zone file writes it: quoted strings of at most `limit` bytes."""
    chunks = split_txt(text, limit)
    if len(chunks) == 1:  # the usual record
        return '"' + _escape(chunks[0]) + '"'
    return " ".join('"' + _escape(c) + '"' for c in chunks)


def zone_line(name: str, rtype: str, value: str, ttl: int = DEFAULT_TTL) -> str:
    """`name. TTL IN TYPE rdata`: the owner fully qualified, TXT values quoted and split,
    other types' values (`10 mx1.example.com.`, an address) written as given."""
    owner = name.rstrip(".") + "."
    rdata = quote_txt(value) if rtype.upper() == "TXT" else value
    return f"{owner} {ttl} IN {rtype.upper()} {rdata}"
