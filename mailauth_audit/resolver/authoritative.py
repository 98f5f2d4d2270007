"""`--authoritative`: ask each zone's own servers, not a resolver's cache.

Right after a record is published, a recursive resolver may go on serving the old one until
its TTL runs out, and a re-check then reports the very problem just fixed. Here every name is
asked of the servers of the zone it belongs to: the zone cut is found by walking up from the
name (the first name with NS records of its own), and the NS host addresses are looked up,
both through the configured resolver; the questions themselves go straight to those servers.
The report names the servers that answered and how many questions each took.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..errors import DnsCnameLoop, DnsRefused, NoAuthoritativeServer, ResolverError
from ..model import DnsSource, SourceKind
from ..options import Limits
from .base import Answer, Resolver, RRType, normalize_qname
from .transport import format_server
from .wire import WireResolver

__all__ = ["AuthoritativeResolver"]

DNS_PORT = 53


@dataclass
class _Server:
    address: tuple[str, int]
    zone: str
    wire: WireResolver
    answers: int = 0


@dataclass
class _Zone:
    apex: str
    servers: list[_Server] = field(default_factory=list)
    not_asked: int = 0  # addresses beyond Limits.max_authoritative_servers


class AuthoritativeResolver:
    """Resolver over `upstream` (the configured resolver, used only to find zones and their
    servers). `port`: where the servers listen (53; tests run them elsewhere)."""

    def __init__(
        self, upstream: Resolver, *, limits: Limits | None = None, port: int = DNS_PORT
    ) -> None:
        self.upstream = upstream
        self.limits = limits or Limits()
        self.port = port
        self._apex_of: dict[str, str] = {}  # name -> its zone's apex
        self._zones: dict[str, _Zone] = {}

    async def resolve(
        self,
        name: str,
        rdtype: RRType,
        _hops: int = 0,
        *,
        dnssec_ok: bool = False,
        checking_disabled: bool = False,
    ) -> Answer:
        qname = normalize_qname(name)
        zone = await self._zone(qname, rdtype)
        first: ResolverError | None = None
        for server in zone.servers:
            try:
                answer = await server.wire.resolve(
                    qname, rdtype, dnssec_ok=dnssec_ok, checking_disabled=checking_disabled
                )
            except DnsCnameLoop:
                raise
            except DnsRefused as exc:
                # maybe a CNAME into a zone this server does not serve: it refused the target
                follow = await self._across_zones(server, qname, rdtype, _hops)
                if follow is not None:
                    server.answers += 1
                    return follow
                first = first or exc
                continue
            except ResolverError as exc:
                first = first or exc
                continue
            server.answers += 1
            return answer
        assert first is not None
        raise first

    async def _across_zones(
        self, server: _Server, qname: str, rdtype: RRType, hops: int
    ) -> Answer | None:
        try:
            cname = await server.wire.resolve(qname, RRType.CNAME)
        except ResolverError:
            return None
        targets = cname.texts()
        if not targets or rdtype is RRType.CNAME:
            return None
        if hops >= self.limits.max_cname_hops:
            raise DnsCnameLoop(qname, rdtype.name, f"more than {hops} zones in the chain")
        rest = await self.resolve(targets[0], rdtype, hops + 1)
        return Answer(
            qname,
            rdtype,
            rest.rcode,
            rest.records,
            (targets[0], *rest.cname_chain),
            min(cname.ttl, rest.ttl),
        )

    async def _zone(self, qname: str, rdtype: RRType) -> _Zone:
        apex = self._apex_of.get(qname)
        if apex is None:
            apex = await self._find_apex(qname, rdtype)
            self._apex_of[qname] = apex
        zone = self._zones.get(apex)
        if zone is None:
            zone = await self._servers(apex, qname, rdtype)
            self._zones[apex] = zone
        return zone

    async def _find_apex(self, qname: str, rdtype: RRType) -> str:
        labels = qname.split(".")
        for i in range(len(labels)):
            candidate = ".".join(labels[i:])
            known = self._apex_of.get(candidate)
            if known is not None:
                return known
            if candidate in self._zones:
                return candidate
            answer = await self.upstream.resolve(candidate, RRType.NS)
            if answer.texts() and not answer.cname_chain:
                self._apex_of[candidate] = candidate
                return candidate
        raise NoAuthoritativeServer(qname, rdtype.name, "no zone with NS records above it")

    async def _servers(self, apex: str, qname: str, rdtype: RRType) -> _Zone:
        zone = _Zone(apex)
        hosts = (await self.upstream.resolve(apex, RRType.NS)).texts()
        addresses: list[tuple[str, int]] = []
        for host in sorted(set(hosts)):
            for family in (RRType.A, RRType.AAAA):
                try:
                    answer = await self.upstream.resolve(host, family)
                except ResolverError:
                    continue
                for text in answer.texts():
                    try:
                        ip = str(ipaddress.ip_address(text))
                    except ValueError:
                        continue
                    if (ip, self.port) not in addresses:
                        addresses.append((ip, self.port))
        cap = self.limits.max_authoritative_servers
        zone.not_asked = max(0, len(addresses) - cap)
        for address in addresses[:cap]:
            limits = self.limits
            zone.servers.append(_Server(address, apex, WireResolver([address], limits=limits)))
        if not zone.servers:
            raise NoAuthoritativeServer(
                qname, rdtype.name, f"no address for any NS host of {apex or '.'}"
            )
        return zone

    def dns_note(self) -> str | None:
        """Said in the report when a bound left servers unasked."""
        cut = [(z.apex, z.not_asked) for z in self._zones.values() if z.not_asked]
        if not cut:
            return None
        cap = self.limits.max_authoritative_servers
        said = ", ".join(f"{n} of {apex or '.'}" for apex, n in cut)
        return f"only the first {cap} addresses of a zone's servers are asked; not asked: {said}"

    def dns_sources(self) -> tuple[DnsSource, ...]:
        """The servers asked (with how many questions each answered), then the resolver
        that found them."""
        from .sources import dns_sources

        servers = tuple(
            DnsSource(
                kind=SourceKind.AUTHORITATIVE,
                address=format_server(s.address),
                zones=(z.apex,),
                answers=s.answers,
            )
            for z in self._zones.values()
            for s in z.servers
        )
        return servers + dns_sources(self.upstream)

    async def aclose(self) -> None:
        for zone in self._zones.values():
            for server in zone.servers:
                await server.wire.aclose()
        await self.upstream.aclose()
