"""DNS queries on the wire: the question, the query packet, and whether a response answers it.
Pure: no I/O. The response side is `codec.py`, which shares these constants and re-exports
every public name here."""

from __future__ import annotations

import struct

from .base import RRType
from .edns import opt_record

__all__ = [
    "EDNS_PAYLOAD",
    "FLAG_CD",
    "QUESTION_TAIL",
    "RCODE_NAMES",
    "WireFormatError",
    "encode_name",
    "encode_query",
    "matches_query",
    "query_packet",
]

EDNS_PAYLOAD = 1232  # the DNS flag day 2020 size: no IP fragmentation on any usual path

_HEADER = struct.Struct("!HHHHHH")
_FLAG_RD = 0x0100
FLAG_CD = 0x0010  # checking disabled (RFC 4035 §3.2.2)
_CLASS_IN = 1


class WireFormatError(ValueError):
    """The bytes are not a DNS message we can read. The only exception `parse_message` raises."""


def encode_name(name: str) -> bytes:
    """Wire form of a lowercase name; raises WireFormatError for names DNS cannot carry."""
    if not name:
        return b"\x00"
    if name.isascii() and len(name) < 254:
        # the usual case, one step a label: every label 1..63 octets
        labels = name.encode("ascii").split(b".")
        if b"" not in labels:
            wire = b""
            try:
                for octets in labels:
                    wire += _LENGTH_OCTET[len(octets)] + octets
                return wire + b"\x00"
            except IndexError:  # a label of 64 octets or more: the slow path says which
                pass
    out = bytearray()
    for label in name.split("."):
        raw = label.encode("ascii") if label.isascii() else label.encode("idna")
        if not raw:
            raise WireFormatError(f"empty label in {name!r}")
        if len(raw) > 63:
            raise WireFormatError(f"label longer than 63 octets in {name!r}")
        out.append(len(raw))
        out += raw
    out.append(0)
    if len(out) > 255:
        raise WireFormatError(f"name longer than 255 octets: {name!r}")
    return bytes(out)


_LENGTH_OCTET = tuple(bytes((n,)) for n in range(64))


def encode_query(
    qid: int,
    question: bytes,
    payload: int | None = EDNS_PAYLOAD,
    *,
    dnssec_ok: bool = False,
    checking_disabled: bool = False,
) -> bytes:
    """A recursion-desired query; `question` is encode_name(...) + type + class.
    `payload` None: no OPT record (for servers that answer FORMERR to EDNS), and so no DO."""
    flags = _FLAG_RD | FLAG_CD if checking_disabled else _FLAG_RD
    if payload is None:
        return _HEADER.pack(qid, flags, 1, 0, 0, 0) + question
    return _HEADER.pack(qid, flags, 1, 0, 0, 1) + question + opt_record(payload, dnssec_ok)


# the header after the id (flags RD, one question, one additional record or none): fixed, so
# a query is id + this + question + OPT record, joined without packing anything per query
_QUERY_FLAGS_COUNTS = _HEADER.pack(0, _FLAG_RD, 1, 0, 0, 1)[2:]
_QUERY_FLAGS_COUNTS_PLAIN = _HEADER.pack(0, _FLAG_RD, 1, 0, 0, 0)[2:]
_QUERY_CD_COUNTS = _HEADER.pack(0, _FLAG_RD | FLAG_CD, 1, 0, 0, 1)[2:]
_QUERY_CD_COUNTS_PLAIN = _HEADER.pack(0, _FLAG_RD | FLAG_CD, 1, 0, 0, 0)[2:]
QUESTION_TAIL = {t: struct.pack("!HH", int(t), _CLASS_IN) for t in RRType}

RCODE_NAMES = {
    1: "FORMERR",
    2: "SERVFAIL",
    4: "NOTIMP",
    5: "REFUSED",
    6: "YXDOMAIN",
    7: "YXRRSET",
    8: "NXRRSET",
    9: "NOTAUTH",
    10: "NOTZONE",
    16: "BADVERS",
    23: "BADCOOKIE",
}


def query_packet(
    qid_octets: bytes, question: bytes, opt: bytes, checking_disabled: bool = False
) -> bytes:
    """The query for a 2-octet id; `opt` is an OPT record (EDNS) or b"" (none)."""
    if checking_disabled:
        counts = _QUERY_CD_COUNTS if opt else _QUERY_CD_COUNTS_PLAIN
        return qid_octets + counts + question + opt
    if opt:
        return qid_octets + _QUERY_FLAGS_COUNTS + question + opt
    return qid_octets + _QUERY_FLAGS_COUNTS_PLAIN + question


def matches_query(data: bytes, question: bytes) -> bool:
    """Is this response (at least 12 octets, id already matched) the answer to `question`?

    The question must be the one we asked: name compared case-insensitively (a server may
    echo 0x20-mixed case), type and class exactly. Some servers leave the question out of
    an error reply (FORMERR, REFUSED); such a reply is accepted when it carries no records,
    so it can end the query with an error but never bring an answer."""
    if not data[2] & 0x80:
        return False
    if data[4:6] != b"\x00\x01":
        return data[4:10] == b"\x00\x00\x00\x00\x00\x00"
    end = 12 + len(question)
    if data[12:end] == question:  # the question echoed as sent: the usual reply
        return True
    return data[12 : end - 4].lower() == question[:-4] and data[end - 4 : end] == question[-4:]
