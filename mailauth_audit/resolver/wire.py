"""A lean DNS stub client over asyncio UDP (TCP on truncation): the network Resolver.

Why not dnspython or c-ares: a bulk audit sends a dozen or so queries per domain for
thousands of domains, and both spend several times more CPU per query than encoding the query
by hand and decoding only what `Answer` needs (figures: docs/BENCHMARKS.md, from
benchmarks/resolver.py).

Five layers: `codec` (bytes <-> WireMessage, pure), `answers` (rcodes, CNAME chains, RRSIGs:
what a response means, pure), `transport` (UDP channels, TCP, slots in flight), `udp_queries`
(query ids, one channel per server, deadlines) and this module (retries, fallbacks, CNAME
chains across servers). The codec's and the transport's public names are importable from
here too, where they were first defined.
"""

from __future__ import annotations

import asyncio
import math
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
    parse_message,
)
from .transport import (
    ServerUnreachable,
    WireStats,
    exchange_tcp,
    format_server,
)
from .udp_queries import QueryBits as _QueryBits
from .udp_queries import UdpQueries

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

_FLAG_TC_OCTET = 0x02  # TC in the third octet of the header
_FORMERR = 1


class WireResolver(UdpQueries):
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
        super().__init__(
            tuple((h, int(p)) for h, p in nameservers),
            timeout=limits.dns_timeout,
            max_in_flight=max(1, min(limits.max_dns_in_flight, 60_000)),
            edns_payload=edns_payload,
        )
        self.attempts = max(1, limits.dns_attempts)
        self.max_cname_hops = limits.max_cname_hops
        self.limits = limits
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
            wire_name = encode_name(name)
        except (WireFormatError, UnicodeError) as exc:
            raise DnsProtocolError(qname, rdtype.name, f"cannot ask for {name!r}: {exc}") from None
        question = wire_name + QUESTION_TAIL[rdtype]
        asked = (name, wire_name)
        if asyncio.get_running_loop() is not self._loop:
            self._bind_loop()
        slots = self._semaphore
        assert slots is not None
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
                    except BaseException:
                        ch.forget(qid, fut)
                        raise
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
                slots.release()
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
            except BaseException:
                ch.forget(qid, fut)
                raise
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
