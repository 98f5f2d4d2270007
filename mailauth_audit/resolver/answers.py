"""What a DNS response means for the question asked, pure: the rcode mapped to an answer or an
error, the CNAME chain followed to the records wanted, the RRSIGs covering them, and whether an
empty answer is final. `WireResolver` (wire.py) sends the queries; this decides what the
responses say, so it can be fuzzed without a network."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dns.rdtypes.ANY.RRSIG

from ..errors import DnsCnameLoop, DnsProtocolError, DnsRefused, DnsServfail
from .base import RecordValue, RRType
from .codec import RCODE_NAMES, WireMessage

if TYPE_CHECKING:
    from dns.rdata import Rdata

__all__ = ["check_rcode", "follow_chain", "negative_for", "signatures"]

_TYPE_RRSIG = 46


def check_rcode(message: WireMessage, qname: str, rdtype: RRType) -> WireMessage:
    """The message, when it answers (NOERROR, NXDOMAIN); else the ResolverError it means."""
    rcode = message.rcode
    if rcode in (0, 3):
        if message.flags & 0x7800:
            raise DnsProtocolError(qname, rdtype.name, "answer with an unexpected opcode")
        if message.qtype == 0:  # `has_question`, without a property call on every answer
            raise DnsProtocolError(qname, rdtype.name, "answer without a question section")
        return message
    if rcode == 2:
        servfail = DnsServfail(qname, rdtype.name)
        # why the server failed, when it says (RFC 8914): "DNSSEC Bogus" and the like
        servfail.extended_errors = message.extended_errors  # type: ignore[attr-defined]
        raise servfail
    if rcode == 5:
        raise DnsRefused(qname, rdtype.name)
    raise DnsProtocolError(
        qname, rdtype.name, f"unexpected rcode {RCODE_NAMES.get(rcode, str(rcode))}"
    )


def follow_chain(
    message: WireMessage,
    start: str,
    rdtype: RRType,
    seen: set[str],
    chain: list[str],
    qname: str,
    max_hops: int,
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
        if cname in seen or len(chain) + len(hops) >= max_hops:
            path = " -> ".join([qname, *chain, *hops, cname])
            raise DnsCnameLoop(qname, rdtype.name, path)
        seen.add(cname)
        hops.append(cname)
        current = cname


def signatures(message: WireMessage, owner: str, rdtype: int) -> tuple[Rdata, ...]:
    """The RRSIGs (RFC 4034 §3) in the response that cover the RRset at `owner`."""
    return tuple(
        value
        for name, rtype, _ttl, value in message.answers
        if rtype == _TYPE_RRSIG
        and name == owner
        and isinstance(value, dns.rdtypes.ANY.RRSIG.RRSIG)
        and value.type_covered == rdtype
    )


def negative_for(message: WireMessage, name: str) -> bool:
    """Does the response's SOA say the server is authoritative for `name` (so its empty
    answer is final), rather than leaving the chain at a name it does not serve?"""
    soa = message.soa_owner
    if soa is None:
        return False
    return soa == "" or name == soa or name.endswith("." + soa)
