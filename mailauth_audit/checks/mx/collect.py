"""The MX check's I/O: the MX RRset and the addresses of each distinct host, memoised per run
(a provider's MX host shared by 10,000 domains is resolved once); with no MX, the domain's own
A/AAAA, the implicit MX of RFC 5321 §5.1."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from ...fastinit import fast_init
from ...resolver.base import RRType
from ..base import CheckContext
from ..concurrent import gather
from .result import MxHost, MxResult

__all__ = ["collect_mx", "is_ip_literal"]


@fast_init
@dataclass(frozen=True)
class _HostAddresses:
    addresses: tuple[str, ...]
    cname_target: str | None
    exists: bool


def is_ip_literal(host: str) -> bool:
    """An MX exchange like `192.0.2.1` or `[192.0.2.1]`: an address where a name must be."""
    text = host.removeprefix("[").removesuffix("]").removeprefix("ipv6:")
    if not text[:1].isdigit() and ":" not in text:
        return False  # IPv4 starts with a digit, IPv6 has a colon: most names are neither
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


async def _addresses(ctx: CheckContext, name: str) -> _HostAddresses:
    a, aaaa = await gather(
        [ctx.resolver.resolve(name, RRType.A), ctx.resolver.resolve(name, RRType.AAAA)]
    )
    chain = a.cname_chain or aaaa.cname_chain
    return _HostAddresses(
        addresses=tuple(a.texts()) + tuple(aaaa.texts()),
        cname_target=chain[-1] if chain else None,
        exists=not (a.nxdomain and aaaa.nxdomain),
    )


async def collect_mx(ctx: CheckContext) -> MxResult:
    """The facts about where mail for `ctx.domain` goes (at most `Limits.max_mx_hosts` hosts
    resolved; the rest are named in `unchecked_hosts`)."""
    answer = await ctx.resolver.resolve(ctx.domain, RRType.MX)
    if answer.nxdomain:
        return MxResult(False, (), (), False, None, False, (), server=answer.server)
    records = sorted(answer.mx(), key=lambda r: (r.preference, r.exchange))
    texts = tuple(f"{r.preference} {r.exchange or ''}." for r in records)
    if not records:
        own = await _addresses(ctx, ctx.domain)
        return MxResult(True, (), (), False, None, True, own.addresses, server=answer.server)

    null = [r for r in records if r.exchange == ""]
    real = [r for r in records if r.exchange != ""]
    names = list(dict.fromkeys(r.exchange for r in real if not is_ip_literal(r.exchange)))
    # two queries per host, and the MX RRset is written by the zone owner: a bounded few
    cap = ctx.options.limits.max_mx_hosts
    names, unchecked = names[:cap], tuple(names[cap:])
    if unchecked:
        skip = set(unchecked)
        real = [r for r in real if r.exchange not in skip]

    addresses = await ctx.memo.get_many(
        [("mx.host_addresses", n, functools.partial(_addresses, ctx, n)) for n in names]
    )
    found: dict[str, _HostAddresses] = dict(zip(names, addresses, strict=True))
    hosts = []
    for r in real:
        info = found.get(r.exchange)
        hosts.append(
            MxHost(
                preference=r.preference,
                host=r.exchange,
                addresses=info.addresses if info else (),
                cname_target=info.cname_target if info else None,
                is_ip_literal=info is None,
                host_exists=info.exists if info else False,
            )
        )
    return MxResult(
        domain_exists=True,
        records=texts,
        hosts=tuple(hosts),
        null_mx=bool(null),
        null_mx_preference=null[0].preference if null else None,
        implicit_mx=False,
        implicit_addresses=(),
        unchecked_hosts=unchecked,
        ttl=answer.ttl,
        server=answer.server,
    )
