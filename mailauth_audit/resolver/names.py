"""Domain names inside a DNS message (RFC 1035 §4.1.4): decoded to text, or only stepped
over when nobody reads them. Pure: no I/O.

Every name a stranger's server sends is hostile: lengths are bounds-checked, compression
pointers must point strictly backwards (so loops cannot exist), names are capped at 255
octets, and any inconsistency raises `WireFormatError`. Decoding and skipping check a name
exactly alike, so a message is accepted or refused the same whichever sections are read.
"""

from __future__ import annotations

from .query import WireFormatError

__all__ = ["Memo", "read_name", "remember_question", "skip_name"]

# bytes that print as themselves in a name (dnspython's escaping rules, so names read the
# same as StaticResolver's): printable ASCII except the master-file specials and the dot
_PLAIN = bytes(c for c in range(0x21, 0x7F) if c not in b'"().;\\@$')
_PLAIN_LOWER_DOT = bytes(c for c in _PLAIN if not 0x41 <= c <= 0x5A) + b"."
_ESCAPED_PUNCT = frozenset(b'"().;\\@$.')


def _name_text(labels: list[bytes]) -> str:
    raw = b".".join(labels).lower()
    # only the separating dots survive deleting the plain bytes: no label needs escaping
    if len(raw.translate(None, _PLAIN)) == len(labels) - 1:
        return raw.decode("ascii")
    return ".".join(_escape_label(label.lower()) for label in labels)


def _escape_label(label: bytes) -> str:
    out = []
    for c in label:
        if c in _ESCAPED_PUNCT:
            out.append("\\" + chr(c))
        elif 0x20 < c < 0x7F:
            out.append(chr(c))
        else:
            out.append(f"\\{c:03d}")
    return "".join(out)


Memo = dict[int, tuple[str, int]]  # offset where a name was decoded -> (text, wire size)


def read_name(buf: bytes, off: int, memo: Memo) -> tuple[str, int]:
    """Decode the (maybe compressed) name at `off`; return it and the offset just after it.

    `memo` remembers the names decoded in this message by where they start, so the owner
    names that point back at the question (nearly all of them) are not decoded again.
    """
    if off + 1 < len(buf) and buf[off] >= 0xC0:  # the usual owner: one pointer to a name read
        target = ((buf[off] & 0x3F) << 8) | buf[off + 1]
        if target < off:
            known = memo.get(target)
            if known is not None:
                return known[0], off + 2
    labels: list[bytes] = []
    after, size, suffix = _walk(buf, off, memo, labels)
    if labels:
        text = _name_text(labels)
        if suffix:
            text = text + "." + suffix
    else:
        text = suffix or ""
    memo[off] = (text, size)
    return text, after


def skip_name(buf: bytes, off: int, memo: Memo) -> int:
    """The offset just after the name at `off`, for names whose text nobody reads (the
    owners of the authority and additional sections): checked exactly as `read_name`
    checks it, pointers followed to their end, but no label is copied or decoded."""
    return _walk(buf, off, memo, None)[0]


def _walk(
    buf: bytes, off: int, memo: Memo, labels: list[bytes] | None
) -> tuple[int, int, str | None]:
    """Check the name at `off` and follow it to its end: the offset just after it, its wire
    size (with the root label), and the text of the suffix `memo` knew (None when the walk
    reached the root label). Its labels up to that suffix go into `labels`, when given."""
    n = len(buf)
    size = 1
    end = -1
    limit = off  # a pointer must point before every place this name has been read from
    while True:
        if off >= n:
            raise WireFormatError("name runs past the end of the message")
        length = buf[off]
        if length == 0:
            return (end if end >= 0 else off + 1), size, None
        if length < 0x40:
            stop = off + 1 + length
            if stop > n:
                raise WireFormatError("label runs past the end of the message")
            size += length + 1
            if size > 255:
                raise WireFormatError("name longer than 255 octets")
            if labels is not None:
                labels.append(buf[off + 1 : stop])
            off = stop
        elif length >= 0xC0:
            if off + 1 >= n:
                raise WireFormatError("compression pointer runs past the end of the message")
            target = ((length & 0x3F) << 8) | buf[off + 1]
            if target >= limit:
                raise WireFormatError("compression pointer does not point backwards")
            if end < 0:
                end = off + 2
            known = memo.get(target)
            if known is not None:
                size += known[1] - 1
                if size > 255:
                    raise WireFormatError("name longer than 255 octets")
                return end, size, known[0]
            limit = off = target
        else:
            raise WireFormatError(f"unknown label type 0x{length:02x}")


def remember_question(memo: Memo, qname: str, qwire: bytes) -> None:
    """Note the question's name, read at offset 12, and each of its tails in `memo`.

    When every label prints as itself, the name's tail from a label on is the text from that
    label's offset: the owners of the authority section and the targets of records point
    there, and are then known without reading a label."""
    size = len(qwire)
    memo[12] = (qname, size)
    if qname.isascii() and not qname.encode().translate(None, _PLAIN_LOWER_DOT):
        p = qwire[0] + 1 if size > 1 else 0
        while length := qwire[p]:
            memo[12 + p] = (qname[p:], size - p)
            p += length + 1
