"""A lean DNS stub client over asyncio UDP (TCP on truncation): the network Resolver.

Why not dnspython or c-ares: a bulk audit sends a dozen or so queries per domain for
thousands of domains, and both spend several times more CPU per query than encoding the query
by hand and decoding only what `Answer` needs (figures: docs/BENCHMARKS.md, from
benchmarks/resolver.py).

Four layers: `codec` (bytes <-> WireMessage, pure), `answers` (rcodes, CNAME chains, RRSIGs:
what a response means, pure), `transport` (UDP channels, TCP, slots in flight) and this module
(query ids, deadlines, retries, fallbacks). The codec's and the
transport's public names are importable from here too, where they were first defined.
"""

from __future__ import annotations

import asyncio
import math
import os
from array import array
from collections import deque
from collections.abc import Sequence

from ..errors import (
    ConfigurationError,
    DnsProtocolError,
    DnsRefused,
    DnsServfail,
    DnsTimeout,
    NetworkUnreachable,
    ResolverError,
)
from ..options import Limits
from .answers import check_rcode, follow_chain, negative_for, signatures
from .base import Answer, Provenance, Rcode, RRType, normalize_qname
from .codec import (
    EDNS_PAYLOAD,
    FLAG_AD,
    FLAG_CD,
    QUESTION_TAIL,
    WireFormatError,
    WireMessage,
    encode_name,
    encode_query,
    opt_record,
    parse_message,
    query_packet,
)
from .transport import (
    ServerUnreachable,
    Slots,
    UdpChannel,
    WireStats,
    exchange_tcp,
    format_server,
)

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

_ID_POOL_SIZE = 4096  # query ids drawn from os.urandom this many at a time
_FLAG_TC_OCTET = 0x02  # TC in the third octet of the header
_FORMERR = 1

# how a query differs from the default one: (DO bit, CD bit); None for neither, the usual case
_QueryBits = tuple[bool, bool] | None


class WireResolver:
    """The network Resolver: asks `nameservers` directly, one question per query.

    nameservers: (host, port) pairs with IP literals, IPv4 or IPv6, tried in order; each
    attempt waits `limits.dns_timeout` seconds and each server gets `limits.dns_attempts`
    tries. At most `limits.max_dns_in_flight` queries are on the wire at once. CNAME chains
    are followed to at most `limits.max_cname_hops` targets.

    Outcomes: rcode NOERROR/NXDOMAIN -> `Answer`; SERVFAIL/REFUSED -> the next server is
    asked, and when every server refused, `DnsServfail`/`DnsRefused` (the first server's);
    no answer within all attempts (over UDP, or over TCP after a truncated UDP answer) ->
    `DnsTimeout`; ICMP unreachable from every server -> `NetworkUnreachable`; other rcodes
    (the extended ones of the OPT record included), a TCP answer itself marked truncated,
    or malformed answers -> `DnsProtocolError`; a loop or too many hops -> `DnsCnameLoop`.
    FORMERR to a query with EDNS is asked once more without it (RFC 6891 §7), and a server
    that then answers is asked without EDNS from then on. `stats` counts packets (WireStats).

    DNSSEC: `dnssec_ok` and `checking_disabled` set the DO and CD bits of every query for the
    question. The `Answer` carries the AD bit (set only when every response of the chain had
    it), the CD bit, the Extended DNS Errors and the address of the server of the last
    response; with DO, the RRSIGs over the records. A SERVFAIL's Extended DNS Errors are the
    `extended_errors` attribute of the DnsServfail (e.g. 6, "DNSSEC Bogus").

    Time bound: each exchange (a UDP wait, a whole TCP exchange) ends within `dns_timeout`;
    an attempt is a UDP exchange, a TCP one after truncation, and after FORMERR to EDNS the
    same two again without it: at most 4 x dns_timeout, and a question gets `dns_attempts`
    attempts per server.
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
        timeout = limits.dns_timeout
        if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
            raise ConfigurationError(
                f"limits.dns_timeout must be a finite number of seconds above 0, not {timeout!r}"
            )
        self.nameservers: tuple[tuple[str, int], ...] = tuple((h, int(p)) for h, p in nameservers)
        self.timeout = limits.dns_timeout
        self.attempts = max(1, limits.dns_attempts)
        self.max_cname_hops = limits.max_cname_hops
        self.max_in_flight = max(1, min(limits.max_dns_in_flight, 60_000))
        self.edns_payload = edns_payload
        self.limits = limits
        self.stats = WireStats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._channels: dict[int, UdpChannel] = {}
        self._deadlines: deque[tuple[float, asyncio.Future[bytes]]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._semaphore: Slots | None = None
        self._ids: set[int] = set()
        self._id_pool = array("H")
        self._opt = opt_record(edns_payload)
        self._opt_do = opt_record(edns_payload, dnssec_ok=True)
        self._plain = tuple(Provenance(format_server(s)) for s in self.nameservers)
        self._no_edns: set[int] = set()  # servers that answer FORMERR to EDNS but not without

    # --- the Resolver protocol -------------------------------------------------------------

    async def resolve(
        self,
        name: str,
        rdtype: RRType,
        *,
        dnssec_ok: bool = False,
        checking_disabled: bool = False,
    ) -> Answer:
        qname = normalize_qname(name)
        if type(rdtype) is not RRType:
            rdtype = RRType(rdtype)
        bits: _QueryBits = (
            (dnssec_ok, checking_disabled) if dnssec_ok or checking_disabled else None
        )
        chain: list[str] = []
        seen = {qname}
        current = qname
        ttl: int | None = None
        authenticated = FLAG_AD
        while True:
            message, index = await self._ask(current, rdtype, qname, bits)
            records, hops, hop_ttl = follow_chain(
                message, current, rdtype, seen, chain, qname, self.max_cname_hops
            )
            chain.extend(hops)
            ttl = hop_ttl if ttl is None else min(ttl, hop_ttl)
            authenticated &= message.flags
            end = chain[-1] if chain else qname
            rcode = Rcode.NXDOMAIN if message.rcode == 3 else Rcode.NOERROR
            if records or not hops or rcode is Rcode.NXDOMAIN or negative_for(message, end):
                if authenticated or bits is not None or message.extended_errors:
                    provenance = self._provenance(message, index, authenticated, end, bits)
                else:  # the usual answer: one shared Provenance per server
                    provenance = self._plain[index]
                return Answer(qname, rdtype, rcode, records, tuple(chain), ttl, provenance)
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

    def _provenance(
        self, message: WireMessage, index: int, authenticated: int, end: str, bits: _QueryBits
    ) -> Provenance:
        if message.extended_errors_dropped:
            self.stats.extended_errors_dropped += message.extended_errors_dropped
        rrsigs = signatures(message, end, message.qtype) if bits and bits[0] else ()
        return Provenance(
            self._plain[index].server,
            authenticated != 0,
            message.flags & FLAG_CD != 0,
            message.extended_errors,
            rrsigs,
        )

    # --- one question, with retries ----------------------------------------------------------

    async def _ask(
        self, name: str, rdtype: RRType, qname: str, bits: _QueryBits = None
    ) -> tuple[WireMessage, int]:
        """The response to one question and the index of the server that gave it."""
        try:
            question = encode_name(name) + QUESTION_TAIL[rdtype]
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
                    edns = index not in self._no_edns
                    ch, fut = self._send_udp(index, qid, question, edns, bits)
                    try:
                        data = await fut
                    finally:
                        ch.forget(qid, fut)
                    if data[2] & _FLAG_TC_OCTET:
                        # truncated: the records may stop anywhere, so nothing after the
                        # header is read; the whole answer comes over TCP
                        message = await self._over_tcp(
                            index, qid, question, edns, qname, rdtype, bits
                        )
                    else:
                        message = self._decode(data, qname, rdtype, asked, bits)
                    if message.rcode == _FORMERR and edns:
                        message = await self._without_edns(
                            index, question, qname, rdtype, asked, bits
                        )
                except TimeoutError:
                    self.stats.timeouts += 1
                    timed_out.add(index)
                    continue
                except ServerUnreachable as exc:
                    unreachable[index] = str(exc)
                    if len(unreachable) + len(refusals) == len(servers):
                        if refusals:
                            raise refusals[min(refusals)] from None
                        where = ", ".join(format_server(s) for s in servers)
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
                return check_rcode(message, qname, rdtype), index
            except (DnsServfail, DnsRefused) as exc:
                refusals[index] = exc
                if len(unreachable) + len(refusals) == len(servers):
                    raise refusals[min(refusals)] from None
        if refusals:
            raise refusals[min(refusals)]
        where = ", ".join(format_server(servers[i]) for i in sorted(timed_out))
        detail = f"no answer from {where} within {self.timeout:g} s x {self.attempts}"
        if unreachable:
            gone = ", ".join(format_server(servers[i]) for i in sorted(unreachable))
            detail += f"; nothing listening at {gone}"
        raise DnsTimeout(qname, rdtype.name, detail)

    async def _over_tcp(
        self,
        index: int,
        qid: int,
        question: bytes,
        edns: bool,
        qname: str,
        rdtype: RRType,
        bits: _QueryBits = None,
    ) -> WireMessage:
        """The answer over TCP after a truncated UDP one. TimeoutError if none comes in time."""
        self.stats.truncated += 1
        dnssec_ok, checking_disabled = bits or (False, False)
        query = encode_query(
            qid,
            question,
            self.edns_payload if edns else None,
            dnssec_ok=dnssec_ok,
            checking_disabled=checking_disabled,
        )
        data = await exchange_tcp(
            self.nameservers[index], query, question, self.timeout, self.stats
        )
        message = self._decode(data, qname, rdtype, None, bits)
        if message.truncated:
            # TCP carries up to 64 KiB: a truncated answer there is a broken server, and its
            # (empty or partial) records must not read as the whole RRset
            where = format_server(self.nameservers[index])
            raise DnsProtocolError(
                qname, rdtype.name, f"answer over TCP from {where} is marked truncated"
            )
        return message

    async def _without_edns(
        self,
        index: int,
        question: bytes,
        qname: str,
        rdtype: RRType,
        asked: tuple[str, bytes],
        bits: _QueryBits = None,
    ) -> WireMessage:
        """FORMERR to a query with EDNS: the same question once more without the OPT record
        (RFC 6891 §7). When the server then answers with anything but FORMERR it is asked
        without EDNS for the rest of the run. Part of the same attempt, with its own timeout;
        a fresh id, so a late copy of the FORMERR cannot be taken for the new answer."""
        self.stats.edns_fallbacks += 1
        qid = self._new_id()
        try:
            ch, fut = self._send_udp(index, qid, question, False, bits)
            try:
                data = await fut
            finally:
                ch.forget(qid, fut)
            if data[2] & _FLAG_TC_OCTET:
                message = await self._over_tcp(index, qid, question, False, qname, rdtype, bits)
            else:
                message = self._decode(data, qname, rdtype, asked, bits)
        finally:
            self._ids.discard(qid)
        if message.rcode != _FORMERR:
            self._no_edns.add(index)
        return message

    def _decode(
        self,
        data: bytes,
        qname: str,
        rdtype: RRType,
        asked: tuple[str, bytes] | None = None,
        bits: _QueryBits = None,
    ) -> WireMessage:
        try:
            if bits is None:
                return parse_message(data, asked, self.limits)
            return parse_message(data, asked, self.limits, bits[0])
        except WireFormatError as exc:
            raise DnsProtocolError(qname, rdtype.name, str(exc)) from None

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
            self._semaphore = Slots(self.max_in_flight)

    def _channel(self, index: int) -> UdpChannel:
        ch = self._channels.get(index)
        if ch is None or ch.closed:
            server = self.nameservers[index]
            assert self._loop is not None
            try:
                ch = UdpChannel(self._loop, server, self.stats)
            except OSError as exc:
                raise ServerUnreachable(f"cannot reach {format_server(server)}: {exc}") from None
            self._channels[index] = ch
        return ch

    def _send_udp(
        self, index: int, qid: int, question: bytes, edns: bool = True, bits: _QueryBits = None
    ) -> tuple[UdpChannel, asyncio.Future[bytes]]:
        """Send one query; the future gets the answer's bytes, or TimeoutError when its
        deadline passes. Not a coroutine: the caller awaits the future itself (one frame
        less per query) and calls `ch.forget(qid, fut)` when done."""
        ch = self._channel(index)
        assert self._loop is not None
        fut: asyncio.Future[bytes] = self._loop.create_future()
        ch.expect(qid, fut, question)
        try:
            if bits is None:
                ch.send(query_packet(qid.to_bytes(2, "big"), question, self._opt if edns else b""))
            else:
                opt = (self._opt_do if bits[0] else self._opt) if edns else b""
                ch.send(query_packet(qid.to_bytes(2, "big"), question, opt, bits[1]))
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
