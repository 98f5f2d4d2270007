"""A lean DNS stub client over asyncio UDP (TCP on truncation) with a small, hardened parser.

Why not dnspython or c-ares: a bulk audit sends ~15 queries per domain and must reach 1,000
domains/s on two cores. Measured on this machine (benchmarks/resolver.py), dnspython costs
~0.6 ms CPU per query (`dns.message.from_wire` alone ~0.4 ms) and aiodns/c-ares ~0.19 ms,
while encoding the query by hand and decoding only what `Answer` needs costs a few tens of
microseconds. The parser reads just the header, the question, the answer section and the
SOA of the authority section, and treats everything a stranger's server sends as hostile:
every length is bounds-checked, compression pointers must point strictly backwards (so
loops cannot exist), names are capped at 255 octets, and any inconsistency raises
`WireFormatError`, which the resolver reports as `DnsProtocolError`.

Transport: one connected UDP socket per nameserver (the kernel then drops datagrams from any
other source and reports ICMP port-unreachable back to us), random 16-bit ids unique among
the queries in flight, and an answer is accepted only when its id AND its question match.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import (
    DnsCnameLoop,
    DnsProtocolError,
    DnsRefused,
    DnsServfail,
    DnsTimeout,
    NetworkUnreachable,
    ResolverError,
)
from ..options import Limits
from .base import Answer, MxRecord, Rcode, RecordValue, RRType, TxtRecord, normalize_qname

__all__ = [
    "EDNS_PAYLOAD",
    "WireFormatError",
    "WireMessage",
    "WireResolver",
    "WireStats",
    "encode_name",
    "encode_query",
    "parse_message",
]

EDNS_PAYLOAD = 1232  # the DNS flag day 2020 size: no IP fragmentation on any usual path

_HEADER = struct.Struct("!HHHHHH")
_RR_FIXED = struct.Struct("!HHIH")  # type, class, ttl, rdlength
_U16 = struct.Struct("!H")
_SOA_TIMES = struct.Struct("!IIIII")
_TTL_MAX = 0x7FFFFFFF  # RFC 2181 §8: a TTL with the top bit set is read as 0

_FLAG_QR = 0x8000
_FLAG_TC = 0x0200
_FLAG_RD = 0x0100
_CLASS_IN = 1
_TYPE_OPT = 41

# bytes that print as themselves in a name (dnspython's escaping rules, so names read the
# same as StaticResolver's): printable ASCII except the master-file specials and the dot
_PLAIN = bytes(c for c in range(0x21, 0x7F) if c not in b'"().;\\@$')
_ESCAPED_PUNCT = frozenset(b'"().;\\@$.')


class WireFormatError(ValueError):
    """The bytes are not a DNS message we can read. The only exception `parse_message` raises."""


class WireMessage(NamedTuple):
    """What the resolver needs from one response; everything else is skipped.

    A NamedTuple rather than a frozen dataclass: one is built per answer, thousands a second
    in a bulk run, and a frozen dataclass sets each of its nine fields through
    object.__setattr__; a tuple is built in one step and is just as immutable."""

    id: int
    flags: int
    rcode: int  # the 4-bit header rcode
    qname: str  # lowercase, no trailing dot
    qtype: int
    qclass: int
    answers: tuple[tuple[str, int, int, RecordValue | None], ...]  # owner, type, ttl, value
    soa_owner: str | None  # owner of the first SOA in the authority section
    negative_ttl: int  # min(SOA TTL, SOA minimum) of that SOA; 0 without one

    @property
    def truncated(self) -> bool:
        return bool(self.flags & _FLAG_TC)


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


_Memo = dict[int, tuple[str, int]]  # offset where a name was decoded -> (text, wire size)


def _read_name(buf: bytes, off: int, memo: _Memo) -> tuple[str, int]:
    """Decode the (maybe compressed) name at `off`; return it and the offset just after it.

    `memo` remembers the names decoded in this message by where they start, so the owner
    names that point back at the question (nearly all of them) are not decoded again.
    """
    start = off
    labels: list[bytes] = []
    size = 1  # wire length including the root label
    end = -1
    limit = off  # a pointer must point before every place this name has been read from
    n = len(buf)
    suffix = None
    while True:
        if off >= n:
            raise WireFormatError("name runs past the end of the message")
        length = buf[off]
        if length == 0:
            off += 1
            break
        if length < 0x40:
            stop = off + 1 + length
            if stop > n:
                raise WireFormatError("label runs past the end of the message")
            size += length + 1
            if size > 255:
                raise WireFormatError("name longer than 255 octets")
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
                suffix = known[0]
                size += known[1] - 1
                if size > 255:
                    raise WireFormatError("name longer than 255 octets")
                break
            limit = off = target
        else:
            raise WireFormatError(f"unknown label type 0x{length:02x}")
    if labels:
        text = _name_text(labels)
        if suffix:
            text = text + "." + suffix
    else:
        text = suffix or ""
    memo[start] = (text, size)
    return text, (end if end >= 0 else off)


def _rdata_name(buf: bytes, off: int, stop: int, memo: _Memo) -> str:
    name, after = _read_name(buf, off, memo)
    if after != stop:
        raise WireFormatError("name does not fill its RDATA")
    return name


def _read_rdata(buf: bytes, rtype: int, off: int, stop: int, memo: _Memo) -> RecordValue | None:
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


def parse_message(buf: bytes, asked: tuple[str, bytes] | None = None) -> WireMessage:
    """Decode a response. Raises `WireFormatError` and nothing else, whatever the bytes.

    `asked`: (name, its lowercase wire form) of the question we sent. When the response's
    question is those very octets (any case), the name is not decoded again."""
    try:
        return _parse(buf, asked)
    except WireFormatError:
        raise
    except (IndexError, struct.error, ValueError, OSError) as exc:  # belt and braces
        raise WireFormatError(f"malformed message ({type(exc).__name__})") from None


def _parse(buf: bytes, asked: tuple[str, bytes] | None = None) -> WireMessage:
    n = len(buf)
    if n < 12:
        raise WireFormatError("message shorter than the 12-octet header")
    qid, flags, qdcount, ancount, nscount, _ = _HEADER.unpack_from(buf, 0)
    if qdcount != 1:
        raise WireFormatError(f"expected one question, found {qdcount}")
    memo: _Memo = {}
    if asked is not None and buf[12 : 12 + len(asked[1])].lower() == asked[1]:
        qname, off = asked[0], 12 + len(asked[1])
        memo[12] = (qname, len(asked[1]))
    else:
        qname, off = _read_name(buf, 12, memo)
    if off + 4 > n:
        raise WireFormatError("question runs past the end of the message")
    qtype, qclass = struct.unpack_from("!HH", buf, off)
    off += 4
    answers = []
    for _ in range(ancount):
        owner, off = _read_name(buf, off, memo)
        if off + 10 > n:
            raise WireFormatError("record header runs past the end of the message")
        rtype, rclass, ttl, rdlen = _RR_FIXED.unpack_from(buf, off)
        off += 10
        stop = off + rdlen
        if stop > n:
            raise WireFormatError("RDATA runs past the end of the message")
        if rclass == _CLASS_IN:
            value = _read_rdata(buf, rtype, off, stop, memo)
            answers.append((owner, rtype, ttl if ttl <= _TTL_MAX else 0, value))
        off = stop
    soa_owner: str | None = None
    negative_ttl = 0
    for _ in range(nscount):
        owner, off = _read_name(buf, off, memo)
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
    # the additional section (OPT, glue) is not needed and is not read
    return WireMessage(
        qid, flags, flags & 0x0F, qname, qtype, qclass, tuple(answers), soa_owner, negative_ttl
    )


def encode_name(name: str) -> bytes:
    """Wire form of a lowercase name; raises WireFormatError for names DNS cannot carry."""
    if not name:
        return b"\x00"
    if name.isascii() and len(name) < 254:
        # the usual case, in C but for one step a label: every label 1..63 octets
        labels = name.encode("ascii").split(b".")
        if b"" not in labels:
            try:
                return b"".join([_LENGTH_OCTET[len(label)] + label for label in labels]) + b"\x00"
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


def _opt_record(payload: int) -> bytes:
    # root owner, type OPT, class = UDP payload size, TTL = ext-rcode/version/flags 0, no data
    return b"\x00" + struct.pack("!HHIH", _TYPE_OPT, payload, 0, 0)


def encode_query(qid: int, question: bytes, payload: int = EDNS_PAYLOAD) -> bytes:
    """A recursion-desired query; `question` is encode_name(...) + type + class."""
    return _HEADER.pack(qid, _FLAG_RD, 1, 0, 0, 1) + question + _opt_record(payload)


# the header after the id (flags RD, one question, one additional record): fixed, so a query
# is id + this + question + OPT record, joined without packing anything per query
_QUERY_FLAGS_COUNTS = _HEADER.pack(0, _FLAG_RD, 1, 0, 0, 1)[2:]
_QUESTION_TAIL = {t: struct.pack("!HH", int(t), _CLASS_IN) for t in RRType}
_ID_POOL_SIZE = 4096  # query ids drawn from os.urandom this many at a time


@dataclass
class WireStats:
    """Packets, not questions: retries, TCP fallbacks and CNAME re-queries each count."""

    udp_sent: int = 0
    tcp_sent: int = 0
    timeouts: int = 0
    truncated: int = 0
    ignored: int = 0  # datagrams whose id or question matched no query in flight
    cname_requeries: int = 0


class _Slots:
    """A FIFO limit on queries in flight that hands a freed slot straight to the next waiter.

    Why not asyncio.Semaphore: on Python 3.11 its `locked()` and `_wake_up_next()` scan every
    waiter, so with thousands of queued queries each release costs O(waiters); profiles of a
    bulk run showed it as the single hottest function. Here acquire and release are O(1).
    """

    __slots__ = ("free", "waiters")

    def __init__(self, size: int) -> None:
        self.free = size
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # the slot was handed to us just before we were cancelled
            raise  # a cancelled future stays queued; release() skips it

    def release(self) -> None:
        waiters = self.waiters
        while waiters:
            fut = waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot passes on: `free` is unchanged
                return
        self.free += 1


class _ServerUnreachable(Exception):
    """ICMP port/host unreachable, or a send that failed: nothing answers at this address."""


class _Pending:
    __slots__ = ("future", "question")

    def __init__(self, future: asyncio.Future[bytes], question: bytes) -> None:
        self.future = future
        self.question = question


class _UdpChannel:
    """One connected, non-blocking UDP socket to one nameserver.

    Not an asyncio DatagramProtocol: asyncio's transport reads one datagram per turn of the
    event loop, and at thousands of answers per second the loop's turn cost more than the
    parsing. This reader drains every datagram waiting on the socket in one callback.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, server: tuple[str, int], stats: WireStats):
        host, port = server
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.sock.setblocking(False)
            with contextlib.suppress(OSError):  # capped by net.core.rmem_max; best effort
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
            self.sock.connect((host, port))  # UDP connect: no packet, just the peer filter
        except OSError:
            self.sock.close()
            raise
        self.loop = loop
        self.pending: dict[int, _Pending] = {}
        self.stats = stats
        self.closed = False
        loop.add_reader(self.sock.fileno(), self._readable)

    def send(self, data: bytes) -> None:
        try:
            self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            pass  # the socket buffer is full: as if the datagram were lost; the timer retries
        except OSError as exc:  # e.g. ECONNREFUSED left by an earlier ICMP error, ENETUNREACH
            raise _ServerUnreachable(str(exc)) from None

    def _readable(self) -> None:
        recv = self.sock.recv
        for _ in range(1024):  # bounded, so one busy socket cannot starve the loop
            try:
                data = recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # ICMP port/host unreachable: the kernel cannot say which query it was for,
                # so every query in flight here fails over to its next attempt
                self._fail_all(_ServerUnreachable(str(exc)))
                return
            self._received(data)

    def _received(self, data: bytes) -> None:
        if len(data) < 12:
            self.stats.ignored += 1
            return
        qid = (data[0] << 8) | data[1]
        pending = self.pending.get(qid)
        # the question must be the one we asked: name compared case-insensitively (a server
        # may echo 0x20-mixed case), type and class exactly
        if pending is None or not _same_question(data, pending.question):
            self.stats.ignored += 1
            return
        del self.pending[qid]
        if not pending.future.done():
            pending.future.set_result(data)

    def forget(self, qid: int, fut: asyncio.Future[bytes]) -> None:
        """The query with this id and future is over (answered, timed out or cancelled)."""
        p = self.pending.get(qid)
        if p is not None and p.future is fut:
            del self.pending[qid]

    def _fail_all(self, exc: Exception) -> None:
        pending, self.pending = self.pending, {}
        for p in pending.values():
            if not p.future.done():
                p.future.set_exception(exc)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if not self.loop.is_closed():
            self.loop.remove_reader(self.sock.fileno())
        self.sock.close()
        self._fail_all(_ServerUnreachable("resolver closed"))


def _same_question(data: bytes, question: bytes) -> bool:
    if data[4:6] != b"\x00\x01" or not data[2] & 0x80:
        return False
    end = 12 + len(question)
    return data[12 : end - 4].lower() == question[:-4] and data[end - 4 : end] == question[-4:]


def _format_server(server: tuple[str, int]) -> str:
    host, port = server
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class WireResolver:
    """The network Resolver: asks `nameservers` directly, one question per query.

    nameservers: (host, port) pairs with IP literals, IPv4 or IPv6, tried in order; each
    attempt waits `limits.dns_timeout` seconds and each server gets `limits.dns_attempts`
    tries. At most `limits.max_dns_in_flight` queries are on the wire at once. CNAME chains
    are followed to at most `limits.max_cname_hops` targets.

    Outcomes: rcode NOERROR/NXDOMAIN -> `Answer`; SERVFAIL/REFUSED -> the next server is
    asked, and when every server refused, `DnsServfail`/`DnsRefused` (the first server's);
    no answer within all attempts -> `DnsTimeout`; ICMP unreachable from every server ->
    `NetworkUnreachable`; other rcodes or malformed answers -> `DnsProtocolError`; a loop
    or too many hops -> `DnsCnameLoop`. `stats` counts packets (WireStats).
    """

    def __init__(
        self,
        nameservers: Sequence[tuple[str, int]],
        *,
        limits: Limits | None = None,
        edns_payload: int = EDNS_PAYLOAD,
    ) -> None:
        if not nameservers:
            raise ValueError("WireResolver needs at least one nameserver")
        limits = limits or Limits()
        self.nameservers: tuple[tuple[str, int], ...] = tuple((h, int(p)) for h, p in nameservers)
        self.timeout = limits.dns_timeout
        self.attempts = max(1, limits.dns_attempts)
        self.max_cname_hops = limits.max_cname_hops
        self.max_in_flight = max(1, min(limits.max_dns_in_flight, 60_000))
        self.edns_payload = edns_payload
        self.stats = WireStats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._channels: dict[int, _UdpChannel] = {}
        self._deadlines: deque[tuple[float, asyncio.Future[bytes]]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._semaphore: _Slots | None = None
        self._ids: set[int] = set()
        self._id_pool = array("H")
        self._opt = _opt_record(edns_payload)

    # --- the Resolver protocol -------------------------------------------------------------

    async def resolve(self, name: str, rdtype: RRType) -> Answer:
        qname = normalize_qname(name)
        if type(rdtype) is not RRType:
            rdtype = RRType(rdtype)
        chain: list[str] = []
        seen = {qname}
        current = qname
        ttl: int | None = None
        while True:
            message = await self._ask(current, rdtype, qname)
            records, hops, hop_ttl = self._follow(message, current, rdtype, seen, chain, qname)
            chain.extend(hops)
            ttl = hop_ttl if ttl is None else min(ttl, hop_ttl)
            end = chain[-1] if chain else qname
            rcode = Rcode.NXDOMAIN if message.rcode == 3 else Rcode.NOERROR
            if records or not hops or rcode is Rcode.NXDOMAIN or _negative_for(message, end):
                return Answer(qname, rdtype, rcode, records, tuple(chain), ttl)
            # the chain leaves what this server answered for (e.g. an out-of-zone target):
            # ask again for its last name
            self.stats.cname_requeries += 1
            current = end

    async def aclose(self) -> None:
        channels, self._channels = self._channels, {}
        for ch in channels.values():
            ch.close()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- CNAME chains ----------------------------------------------------------------------

    def _follow(
        self,
        message: WireMessage,
        start: str,
        rdtype: RRType,
        seen: set[str],
        chain: list[str],
        qname: str,
    ) -> tuple[tuple[RecordValue, ...], list[str], int]:
        """Records of `rdtype` at the end of the chain from `start`, the hops, their min TTL."""
        want = int(rdtype)
        # the usual answer first: every record owned by the name asked, none a CNAME
        records: list[RecordValue] = []
        ttl = -1
        for owner, rtype, rttl, value in message.answers:
            if owner != start or rtype == 5:
                break
            if rtype == want and value is not None:
                records.append(value)
                ttl = rttl if ttl < 0 else min(ttl, rttl)
        else:
            if records:
                return tuple(records), [], ttl
            return (), [], message.negative_ttl
        by_owner: dict[str, list[tuple[int, int, RecordValue | None]]] = {}
        for owner, rtype, rttl, value in message.answers:
            by_owner.setdefault(owner, []).append((rtype, rttl, value))
        hops: list[str] = []
        ttls: list[int] = []
        current = start
        while True:
            rrs = by_owner.get(current, ())
            found = [(t, v) for rt, t, v in rrs if rt == want and v is not None]
            if found:
                ttls.extend(t for t, _ in found)
                return tuple(v for _, v in found), hops, min(ttls)
            cname = None
            if want != 5:
                cname = next((v for rt, t, v in rrs if rt == 5 and isinstance(v, str)), None)
            if cname is None:
                ttls.append(message.negative_ttl)
                return (), hops, min(ttls)
            ttls.append(next(t for rt, t, _ in rrs if rt == 5))
            if cname in seen or len(chain) + len(hops) >= self.max_cname_hops:
                path = " -> ".join([qname, *chain, *hops, cname])
                raise DnsCnameLoop(qname, rdtype.name, path)
            seen.add(cname)
            hops.append(cname)
            current = cname

    # --- one question, with retries ----------------------------------------------------------

    async def _ask(self, name: str, rdtype: RRType, qname: str) -> WireMessage:
        try:
            question = encode_name(name) + _QUESTION_TAIL[rdtype]
        except (WireFormatError, UnicodeError) as exc:
            raise DnsProtocolError(qname, rdtype.name, f"cannot ask for {name!r}: {exc}") from None
        asked = (name, question[:-4])
        self._bind_loop()
        assert self._semaphore is not None
        servers = self.nameservers
        unreachable: dict[int, str] = {}
        timed_out: set[int] = set()
        # SERVFAIL or REFUSED from one server is final for that server only: another
        # recursive resolver may have a working path (or an ACL that lets us in)
        refusals: dict[int, ResolverError] = {}
        for attempt in range(self.attempts * len(servers)):
            index = attempt % len(servers)
            if index in refusals:
                continue
            slots = self._semaphore
            if slots.free > 0 and not slots.waiters:
                slots.free -= 1  # the usual case, without a coroutine
            else:
                await slots.acquire()
            try:
                qid = self._new_id()
                try:
                    ch, fut = self._send_udp(index, qid, question)
                    try:
                        data = await fut
                    finally:
                        ch.forget(qid, fut)
                    message = self._decode(data, qname, rdtype, asked)
                    if message.truncated:
                        self.stats.truncated += 1
                        data = await self._exchange_tcp(index, qid, question)
                        message = self._decode(data, qname, rdtype, asked)
                except TimeoutError:
                    self.stats.timeouts += 1
                    timed_out.add(index)
                    continue
                except _ServerUnreachable as exc:
                    unreachable[index] = str(exc)
                    if len(unreachable) + len(refusals) == len(servers):
                        if refusals:
                            raise refusals[min(refusals)] from None
                        where = ", ".join(_format_server(s) for s in servers)
                        raise NetworkUnreachable(
                            qname, rdtype.name, f"nothing listening at {where} ({exc})"
                        ) from None
                    continue
                finally:
                    self._ids.discard(qid)
            finally:
                self._semaphore.release()
            unreachable.pop(index, None)
            try:
                return self._check_rcode(message, qname, rdtype)
            except (DnsServfail, DnsRefused) as exc:
                refusals[index] = exc
                if len(unreachable) + len(refusals) == len(servers):
                    raise refusals[min(refusals)] from None
        if refusals:
            raise refusals[min(refusals)]
        where = ", ".join(_format_server(servers[i]) for i in sorted(timed_out))
        detail = f"no answer from {where} within {self.timeout:g} s x {self.attempts}"
        if unreachable:
            gone = ", ".join(_format_server(servers[i]) for i in sorted(unreachable))
            detail += f"; nothing listening at {gone}"
        raise DnsTimeout(qname, rdtype.name, detail)

    def _decode(
        self, data: bytes, qname: str, rdtype: RRType, asked: tuple[str, bytes] | None = None
    ) -> WireMessage:
        try:
            return parse_message(data, asked)
        except WireFormatError as exc:
            raise DnsProtocolError(qname, rdtype.name, str(exc)) from None

    @staticmethod
    def _check_rcode(message: WireMessage, qname: str, rdtype: RRType) -> WireMessage:
        rcode = message.rcode
        if rcode in (0, 3):
            if message.flags & 0x7800:
                raise DnsProtocolError(qname, rdtype.name, "answer with an unexpected opcode")
            return message
        if rcode == 2:
            raise DnsServfail(qname, rdtype.name)
        if rcode == 5:
            raise DnsRefused(qname, rdtype.name)
        names = {1: "FORMERR", 4: "NOTIMP"}
        raise DnsProtocolError(
            qname, rdtype.name, f"unexpected rcode {names.get(rcode, str(rcode))}"
        )

    def _new_id(self) -> int:
        """An unpredictable id (RFC 5452) not in flight. The ids come from the OS's CSPRNG
        4,096 at a time: one getrandom() per id was a measurable share of a bulk run."""
        ids = self._ids
        pool = self._id_pool
        while True:
            if not pool:
                pool.frombytes(os.urandom(2 * _ID_POOL_SIZE))
            qid = pool.pop()
            if qid not in ids:
                ids.add(qid)
                return qid

    # --- transports --------------------------------------------------------------------------

    def _bind_loop(self) -> None:
        """Sockets and the semaphore belong to one event loop; start afresh in a new one."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            for ch in self._channels.values():
                ch.close()
            self._loop = loop
            self._channels = {}
            self._ids = set()
            self._deadlines.clear()
            self._timer = None
            self._semaphore = _Slots(self.max_in_flight)

    def _channel(self, index: int) -> _UdpChannel:
        ch = self._channels.get(index)
        if ch is None or ch.closed:
            server = self.nameservers[index]
            assert self._loop is not None
            try:
                ch = _UdpChannel(self._loop, server, self.stats)
            except OSError as exc:
                raise _ServerUnreachable(f"cannot reach {_format_server(server)}: {exc}") from None
            self._channels[index] = ch
        return ch

    def _send_udp(
        self, index: int, qid: int, question: bytes
    ) -> tuple[_UdpChannel, asyncio.Future[bytes]]:
        """Send one query; the future gets the answer's bytes, or TimeoutError when its
        deadline passes. Not a coroutine: the caller awaits the future itself (one frame
        less per query) and calls `ch.forget(qid, fut)` when done."""
        ch = self._channel(index)
        assert self._loop is not None
        fut: asyncio.Future[bytes] = self._loop.create_future()
        ch.pending[qid] = _Pending(fut, question)
        try:
            ch.send(_U16.pack(qid) + _QUERY_FLAGS_COUNTS + question + self._opt)
        except BaseException:
            ch.forget(qid, fut)
            raise
        self.stats.udp_sent += 1
        self._arm(fut)
        return ch, fut

    def _arm(self, fut: asyncio.Future[bytes]) -> None:
        """Every attempt has the same timeout, so deadlines come in send order: one FIFO and
        one loop timer serve all queries, instead of a heap entry per query."""
        assert self._loop is not None
        deadline = self._loop.time() + self.timeout
        self._deadlines.append((deadline, fut))
        if self._timer is None:
            self._timer = self._loop.call_at(deadline, self._expire_due)

    def _expire_due(self) -> None:
        assert self._loop is not None
        self._timer = None
        now = self._loop.time()
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            _, fut = deadlines.popleft()
            if not fut.done():
                fut.set_exception(TimeoutError())
        while deadlines and deadlines[0][1].done():
            deadlines.popleft()
        if deadlines:
            # wake no more often than every 1/20 of the timeout: expiries may be that late
            when = max(deadlines[0][0], now + self.timeout / 20)
            self._timer = self._loop.call_at(when, self._expire_due)

    async def _exchange_tcp(self, index: int, qid: int, question: bytes) -> bytes:
        host, port = self.nameservers[index]
        query = encode_query(qid, question, self.edns_payload)
        self.stats.tcp_sent += 1
        writer = None
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(host, port)
                writer.write(_U16.pack(len(query)) + query)
                await writer.drain()
                while True:
                    (length,) = _U16.unpack(await reader.readexactly(2))
                    data = await reader.readexactly(length)
                    if (
                        len(data) >= 12
                        and (data[0] << 8) | data[1] == qid
                        and _same_question(data, question)
                    ):
                        return data
                    self.stats.ignored += 1
        except (ConnectionRefusedError, ConnectionResetError, asyncio.IncompleteReadError) as exc:
            raise _ServerUnreachable(
                f"TCP to {_format_server((host, port))} failed: {exc}"
            ) from None
        except OSError as exc:
            raise _ServerUnreachable(f"TCP to {_format_server((host, port))}: {exc}") from None
        finally:
            if writer is not None:
                writer.close()


def _negative_for(message: WireMessage, name: str) -> bool:
    """Does the response's SOA say the server is authoritative for `name` (so its empty
    answer is final), rather than leaving the chain at a name it does not serve?"""
    soa = message.soa_owner
    if soa is None:
        return False
    return soa == "" or name == soa or name.endswith("." + soa)
