"""Answers from zone-file text: tests, and auditing a zone before it is published.

Behaves like an authoritative server that holds every name in the text: NXDOMAIN for names
that do not exist (and have nothing below them), NODATA for empty non-terminals, CNAME chains
followed with loop detection, `*` wildcards expanded. Sends nothing over the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import dns.exception
import dns.name
import dns.node
import dns.rdataclass
import dns.rdatatype
import dns.zone

from ..errors import ConfigurationError, DnsCnameLoop, ResolverError
from .base import Answer, MxRecord, Rcode, RecordValue, RRType, TxtRecord, normalize_qname


def _plain(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower() if name != dns.name.root else ""


class StaticResolver:
    """A Resolver over zone text. `faults` makes chosen names raise, to test error paths."""

    def __init__(
        self,
        zone_text: str,
        *,
        origin: str | None = None,
        faults: Mapping[str, type[ResolverError]] | None = None,
        max_cname_hops: int = 8,
    ) -> None:
        try:
            zone = dns.zone.from_text(
                zone_text,
                origin=origin or dns.name.root,
                relativize=False,
                check_origin=False,
            )
        except (dns.exception.DNSException, ValueError) as exc:
            raise ConfigurationError(f"cannot parse zone text: {exc}") from None
        self._nodes: dict[str, dns.node.Node] = {_plain(n): node for n, node in zone.nodes.items()}
        # every name that exists, including empty non-terminals (ancestors of owner names)
        self._existing: set[str] = set()
        for owner in self._nodes:
            labels = owner.split(".")
            self._existing.update(".".join(labels[i:]) for i in range(len(labels)))
        self._faults = {normalize_qname(k): v for k, v in (faults or {}).items()}
        self._max_hops = max_cname_hops
        self._negative_ttl = self._soa_minimum()
        self.queries = 0  # questions answered, for tests that count work

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: object) -> StaticResolver:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot read zone file {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigurationError(f"zone file {path} is not UTF-8 text") from None
        return cls(text, **kwargs)  # type: ignore[arg-type]

    def _soa_minimum(self) -> int:
        for node in self._nodes.values():
            soa = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.SOA)
            if soa:
                return min(soa.ttl, soa[0].minimum)
        return 300

    def _exists(self, name: str) -> bool:
        return name in self._existing

    def _node(self, name: str) -> dns.node.Node | None:
        node = self._nodes.get(name)
        if node is not None or self._exists(name):
            return node
        labels = name.split(".")
        for i in range(1, len(labels)):  # closest encloser's wildcard
            parent = ".".join(labels[i:])
            wildcard = self._nodes.get("*." + parent)
            if wildcard is not None:
                return wildcard
            if self._exists(parent):
                return None
        return None

    async def resolve(self, name: str, rdtype: RRType) -> Answer:
        self.queries += 1
        qname = normalize_qname(name)
        chain: list[str] = []
        current = qname
        while True:
            fault = self._faults.get(current)
            if fault is not None:
                raise fault(current, rdtype.name)
            node = self._node(current)
            if node is None:
                if self._exists(current):
                    return Answer(
                        qname, rdtype, Rcode.NOERROR, (), tuple(chain), self._negative_ttl
                    )
                return Answer(qname, rdtype, Rcode.NXDOMAIN, (), tuple(chain), self._negative_ttl)
            rdataset = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RdataType(int(rdtype)))
            if rdataset is not None:
                records = tuple(_value(rdtype, rd) for rd in rdataset)
                return Answer(qname, rdtype, Rcode.NOERROR, records, tuple(chain), rdataset.ttl)
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None or rdtype is RRType.CNAME:
                return Answer(qname, rdtype, Rcode.NOERROR, (), tuple(chain), self._negative_ttl)
            target = _plain(cname[0].target)
            if target in chain or target == qname or len(chain) >= self._max_hops:
                raise DnsCnameLoop(qname, rdtype.name, " -> ".join([qname, *chain, target]))
            chain.append(target)
            current = target

    async def aclose(self) -> None:
        return None


def _value(rdtype: RRType, rd: object) -> RecordValue:
    if rdtype is RRType.TXT:
        return TxtRecord(tuple(rd.strings))  # type: ignore[attr-defined]
    if rdtype is RRType.MX:
        return MxRecord(rd.preference, _plain(rd.exchange))  # type: ignore[attr-defined]
    if rdtype in (RRType.CNAME, RRType.NS, RRType.PTR):
        return _plain(rd.target)  # type: ignore[attr-defined]
    return rd.to_text().lower()  # type: ignore[attr-defined]
