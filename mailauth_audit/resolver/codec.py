"""DNS messages on the wire: decode a response (the query side is `query.py`, re-exported
here). Pure: no I/O.

The parser reads the header, the question, the answer section, the SOA of the authority
section and the OPT record of the additional section (the extended RCODE and the Extended
DNS Errors of RFC 8914), and treats
everything a stranger's server sends as hostile: every length is bounds-checked, compression
pointers must point strictly backwards (so loops cannot exist), names are capped at 255
octets, and any inconsistency raises `WireFormatError`, which the resolver reports as
`DnsProtocolError`.

Records of the types `Answer` has its own values for (A, AAAA, CNAME, NS, PTR, MX, TXT) are
decoded here; a record of any other type is decoded with dnspython's rdata classes (module
`rdata`, loaded on first use) when it is of the type asked, or an RRSIG when they are asked
for, and skipped otherwise, as before.
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

from ..options import Limits
from .base import ExtendedError, MxRecord, RecordValue, TxtRecord
from .edns import extended_errors, opt_record
from .names import Memo, read_name, remember_question, skip_name
from .query import (
    _CLASS_IN,
    _HEADER,
    EDNS_PAYLOAD,
    FLAG_CD,
    QUESTION_TAIL,
    RCODE_NAMES,
    WireFormatError,
    encode_name,
    encode_query,
    matches_query,
    query_packet,
)

__all__ = [
    "EDNS_PAYLOAD",
    "FLAG_AD",
    "FLAG_CD",
    "QUESTION_TAIL",
    "RCODE_NAMES",
    "WireFormatError",
    "WireMessage",
    "encode_name",
    "encode_query",
    "matches_query",
    "opt_record",
    "parse_message",
    "query_packet",
]


_RR_FIXED = struct.Struct("!HHIH")  # type, class, ttl, rdlength
_U16 = struct.Struct("!H")
_U16_PAIR = struct.Struct("!HH")
_SOA_TIMES = struct.Struct("!IIIII")
_TTL_MAX = 0x7FFFFFFF  # RFC 2181 §8: a TTL with the top bit set is read as 0

_FLAG_QR = 0x8000
_FLAG_TC = 0x0200
FLAG_AD = 0x0020  # authentic data (RFC 4035 §3.2.3)
_TYPE_RRSIG = 46
_DEFAULT_LIMITS = Limits()
_TYPE_OPT = 41
_OPT_HEAD = b"\x00\x00\x29"  # the root name and type OPT
_NO_RDATA = b"\x00\x00"


class WireMessage(NamedTuple):
    """What the resolver needs from one response; everything else is skipped.

    A NamedTuple rather than a frozen dataclass: one is built per answer, thousands a second
    in a bulk run, and a frozen dataclass sets each of its nine fields through
    object.__setattr__; a tuple is built in one step and is just as immutable."""

    id: int
    flags: int
    rcode: int  # the header's 4 bits with the OPT record's extended bits above (RFC 6891)
    qname: str  # lowercase, no trailing dot; "" when the response has no question section
    qtype: int  # 0 when the response has no question section (never a type we ask)
    qclass: int
    answers: tuple[tuple[str, int, int, RecordValue | None], ...]  # owner, type, ttl, value
    soa_owner: str | None  # owner of the first SOA in the authority section
    negative_ttl: int  # min(SOA TTL, SOA minimum) of that SOA; 0 without one
    extended_errors: tuple[ExtendedError, ...] = ()  # the OPT record's EDE options, bounded
    extended_errors_dropped: int = 0  # EDE options past the bound, not kept

    @property
    def authenticated_data(self) -> bool:
        return bool(self.flags & FLAG_AD)

    @property
    def checking_disabled(self) -> bool:
        return bool(self.flags & FLAG_CD)

    @property
    def truncated(self) -> bool:
        return bool(self.flags & _FLAG_TC)

    @property
    def has_question(self) -> bool:
        """Servers may leave out the question in an error reply (FORMERR, REFUSED...)."""
        return self.qtype != 0


def _rdata_name(buf: bytes, off: int, stop: int, memo: Memo) -> str:
    name, after = read_name(buf, off, memo)
    if after != stop:
        raise WireFormatError("name does not fill its RDATA")
    return name


def _read_rdata(buf: bytes, rtype: int, off: int, stop: int, memo: Memo) -> RecordValue | None:
    """The value of one record of a type `Answer` carries; None for other types."""
    if rtype == 1:  # A
        if stop - off != 4:
            raise WireFormatError("A record RDATA is not 4 octets")
        return socket.inet_ntop(socket.AF_INET, buf[off:stop])
    if rtype == 28:  # AAAA
        if stop - off != 16:
            raise WireFormatError("AAAA record RDATA is not 16 octets")
        return socket.inet_ntop(socket.AF_INET6, buf[off:stop])
    if rtype == 16:  # TXT: one or more <length, bytes> character-strings
        strings = []
        p = off
        while p < stop:
            q = p + 1 + buf[p]
            if q > stop:
                raise WireFormatError("TXT character-string runs past its RDATA")
            strings.append(buf[p + 1 : q])
            p = q
        return TxtRecord(tuple(strings))
    if rtype == 15:  # MX
        if stop - off < 3:
            raise WireFormatError("MX record RDATA too short")
        return MxRecord(_U16.unpack_from(buf, off)[0], _rdata_name(buf, off + 2, stop, memo))
    if rtype in (5, 2, 12):  # CNAME, NS, PTR
        return _rdata_name(buf, off, stop, memo)
    return None


def _other_rdata(buf: bytes, rtype: int, off: int, stop: int) -> RecordValue:
    """A record of a type without a decoder above, as a dnspython rdata object."""
    from .rdata import decode_rdata

    try:
        return decode_rdata(buf, rtype, off, stop)
    except ValueError as exc:  # RdataError
        raise WireFormatError(str(exc)) from None


def parse_message(
    buf: bytes,
    asked: tuple[str, bytes] | None = None,
    limits: Limits = _DEFAULT_LIMITS,
    signatures: bool = False,
) -> WireMessage:
    """Decode a response. Raises `WireFormatError` and nothing else, whatever the bytes.

    `asked`: (name, its lowercase wire form) of the question we sent. When the response's
    question is those very octets (any case), the name is not decoded again. `limits`: how
    many Extended DNS Errors are kept, and how much of each one's text. `signatures`: read
    the RRSIGs of the answer section too (the query had DO); otherwise they are skipped."""
    try:
        return _parse(buf, asked, limits, signatures)
    except WireFormatError:
        raise
    except (IndexError, struct.error, ValueError, OSError) as exc:  # belt and braces
        raise WireFormatError(f"malformed message ({type(exc).__name__})") from None


def _parse(
    buf: bytes,
    asked: tuple[str, bytes] | None = None,
    limits: Limits = _DEFAULT_LIMITS,
    signatures: bool = False,
) -> WireMessage:
    n = len(buf)
    if n < 12:
        raise WireFormatError("message shorter than the 12-octet header")
    qid, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(buf, 0)
    memo: Memo = {}
    if qdcount == 1:
        if asked is not None and (
            # servers echo the question as sent, mostly; some mix its case (RFC 5452 §9.1)
            buf.startswith(asked[1], 12) or buf[12 : 12 + len(asked[1])].lower() == asked[1]
        ):
            qname, qwire = asked
            off = 12 + len(qwire)
            remember_question(memo, qname, qwire)
        else:
            qname, off = read_name(buf, 12, memo)
        if off + 4 > n:
            raise WireFormatError("question runs past the end of the message")
        qtype, qclass = _U16_PAIR.unpack_from(buf, off)
        if qtype == 0:
            raise WireFormatError("question of type 0")
        off += 4
    elif qdcount == 0:
        qname, qtype, qclass, off = "", 0, 0, 12
    else:
        raise WireFormatError(f"expected one question, found {qdcount}")
    answers = []
    for _ in range(ancount):
        owner, off = read_name(buf, off, memo)
        if off + 10 > n:
            raise WireFormatError("record header runs past the end of the message")
        rtype, rclass, ttl, rdlen = _RR_FIXED.unpack_from(buf, off)
        off += 10
        stop = off + rdlen
        if stop > n:
            raise WireFormatError("RDATA runs past the end of the message")
        if rclass == _CLASS_IN:
            value = _read_rdata(buf, rtype, off, stop, memo)
            if value is None and (rtype == qtype or (signatures and rtype == _TYPE_RRSIG)):
                value = _other_rdata(buf, rtype, off, stop)
            answers.append((owner, rtype, ttl if ttl <= _TTL_MAX else 0, value))
        off = stop
    soa_owner: str | None = None
    negative_ttl = 0
    for _ in range(nscount):
        if soa_owner is None:
            owner, off = read_name(buf, off, memo)
        else:
            off = skip_name(buf, off, memo)
        if off + 10 > n:
            raise WireFormatError("record header runs past the end of the message")
        rtype, _rclass, ttl, rdlen = _RR_FIXED.unpack_from(buf, off)
        off += 10
        stop = off + rdlen
        if stop > n:
            raise WireFormatError("RDATA runs past the end of the message")
        if rtype == 6 and soa_owner is None:
            # only MINIMUM is needed, and the five times end the RDATA: MNAME and RNAME
            # (two names at least one octet each) are skipped without being decoded
            if rdlen < 22:
                raise WireFormatError("SOA record RDATA has the wrong length")
            minimum = _SOA_TIMES.unpack_from(buf, stop - 20)[4]
            soa_owner = owner
            negative_ttl = min(ttl if ttl <= _TTL_MAX else 0, min(minimum, _TTL_MAX))
        off = stop
    rcode = flags & 0x0F
    if (
        arcount == 1
        and n - off == 11
        and buf.startswith(_OPT_HEAD, off)
        and buf.endswith(_NO_RDATA)
    ):
        # the usual additional section, read without a loop: one OPT record, no options
        rcode |= buf[off + 5] << 4
    elif arcount:
        high, options = _read_opt(buf, off, arcount, memo)
        rcode |= high << 4
        if options is not None:
            ede = extended_errors(buf, options, limits)
            answers_ = tuple(answers)
            return WireMessage(
                qid, flags, rcode, qname, qtype, qclass, answers_, soa_owner, negative_ttl, *ede
            )
    return WireMessage(
        qid, flags, rcode, qname, qtype, qclass, tuple(answers), soa_owner, negative_ttl
    )


def _read_opt(buf: bytes, off: int, arcount: int, memo: Memo) -> tuple[int, tuple[int, int] | None]:
    """The upper 8 bits of the RCODE, from the OPT record (RFC 6891 §6.1.3), 0 without one;
    and the bounds of the OPT record's options, None without any.

    Without this a NOERROR header over an OPT record saying BADVERS reads as an empty answer,
    which is "no such record" to every check."""
    n = len(buf)
    found = -1
    options = None
    for _ in range(arcount):
        start = off
        if off < n and buf[off] == 0:  # the root name: every OPT record
            off += 1
        else:
            off = skip_name(buf, off, memo)
        if off + 10 > n:
            raise WireFormatError("record header runs past the end of the message")
        rtype, _rclass, ttl, rdlen = _RR_FIXED.unpack_from(buf, off)
        off += 10 + rdlen
        if off > n:
            raise WireFormatError("RDATA runs past the end of the message")
        if rtype == _TYPE_OPT:
            if found >= 0:
                raise WireFormatError("more than one OPT record")
            # a pointer may lead to the root too: only then is the owner decoded
            if buf[start] and read_name(buf, start, memo)[0]:
                raise WireFormatError("OPT record not owned by the root")
            found = ttl >> 24
            if rdlen:
                options = (off - rdlen, off)
    return max(found, 0), options
