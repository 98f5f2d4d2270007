"""Answers from zone-file text: tests, and auditing a zone before it is published.

Behaves like an authoritative server that holds every name in the text: NXDOMAIN for names
that do not exist (and have nothing below them), NODATA for empty non-terminals, CNAME chains
followed with loop detection, `*` wildcards expanded. Sends nothing over the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.mxbase
import dns.rdtypes.nsbase
import dns.rdtypes.txtbase
import dns.rrset
import dns.tokenizer
import dns.zonefile

from ..errors import ConfigurationError, DnsCnameLoop, ResolverError
from ..options import Limits
from .base import Answer, MxRecord, Rcode, RecordValue, RRType, TxtRecord, normalize_qname


def _size(n: int) -> str:
    return f"{n // (1 << 20)} MiB" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n} bytes"


def _plain(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower() if name != dns.name.root else ""


def _key(name: dns.name.Name) -> str:
    """The name as a question spells it: labels as they are, unescaped (`a\\032b` in a
    zone file is asked as "a b", as WireResolver sends it)."""
    return ".".join(label.decode("latin-1") for label in name.labels[:-1]).lower()


class StaticResolver:
    """A Resolver over zone text. `faults` makes chosen names raise, to test error paths."""

    def __init__(
        self,
        zone_text: str,
        *,
        origin: str | None = None,
        faults: Mapping[str, type[ResolverError]] | None = None,
        max_cname_hops: int = 8,
        rrsets: Iterable[dns.rrset.RRset] | None = None,  # already read (zonefiles.py)
    ) -> None:
        if rrsets is None:
            try:
                rrsets = _read_rrsets(zone_text, origin or ".")
            except (dns.exception.DNSException, ValueError) as exc:
                raise ConfigurationError(f"cannot parse zone text: {exc}") from None
        # a zone file may hold several zones ($ORIGIN changes); merge RRsets by owner and type
        self._nodes: dict[str, dict[int, dns.rrset.RRset]] = {}
        for rrset in rrsets:
            by_type = self._nodes.setdefault(_key(rrset.name), {})
            if rrset.rdtype in by_type:
                by_type[rrset.rdtype].union_update(rrset)
            else:
                by_type[rrset.rdtype] = rrset
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
    def from_file(
        cls,
        path: str | Path,
        *,
        max_bytes: int | None = None,
        origin: str | None = None,
        faults: Mapping[str, type[ResolverError]] | None = None,
        max_cname_hops: int = 8,
    ) -> StaticResolver:
        """Read at most `max_bytes` (default `Limits.max_zone_file_bytes`): a device such as
        /dev/zero, or a runaway file, is refused instead of filling the memory."""
        limit = Limits().max_zone_file_bytes if max_bytes is None else max_bytes
        try:
            with Path(path).open("rb") as f:
                raw = f.read(limit + 1)
        except OSError as exc:
            raise ConfigurationError(f"cannot read zone file {path}: {exc.strerror}") from None
        if len(raw) > limit:
            raise ConfigurationError(
                f"zone file {path} is larger than {_size(limit)}, the most one zone file may "
                "hold (Limits.max_zone_file_bytes)"
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigurationError(f"zone file {path} is not UTF-8 text") from None
        del raw
        return cls(text, origin=origin, faults=faults, max_cname_hops=max_cname_hops)

    def _soa_minimum(self) -> int:
        for by_type in self._nodes.values():
            soa = by_type.get(dns.rdatatype.SOA)
            if soa:
                return min(soa.ttl, soa[0].minimum)
        return 300

    def _exists(self, name: str) -> bool:
        return name in self._existing

    def _node(self, name: str) -> dict[int, dns.rrset.RRset] | None:
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
            rdataset = node.get(int(rdtype))
            if rdataset is not None:
                records = tuple(_value(rdtype, rd) for rd in rdataset)
                return Answer(qname, rdtype, Rcode.NOERROR, records, tuple(chain), rdataset.ttl)
            cname = node.get(dns.rdatatype.CNAME)
            if cname is None or rdtype is RRType.CNAME:
                return Answer(qname, rdtype, Rcode.NOERROR, (), tuple(chain), self._negative_ttl)
            target = _key(cname[0].target)
            if target in chain or target == qname or len(chain) >= self._max_hops:
                raise DnsCnameLoop(qname, rdtype.name, " -> ".join([qname, *chain, target]))
            chain.append(target)
            current = target

    async def aclose(self) -> None:
        return None


class _MultiZoneTransaction(dns.zonefile.RRsetsReaderTransaction):
    """Follows $ORIGIN, so an SOA at each zone's apex is accepted: one file, several zones."""

    _origin: dns.name.Name = dns.name.root

    def _set_origin(self, origin: dns.name.Name) -> None:
        self._origin = origin

    def _origin_information(self) -> tuple[dns.name.Name, bool, dns.name.Name]:
        return (self._origin, False, self._origin)


class _MultiZoneManager(dns.zonefile.RRSetsReaderManager):
    def writer(self, replacement: bool = False) -> _MultiZoneTransaction:
        return _MultiZoneTransaction(self, True, False)


def _read_rrsets(text: str, origin: str) -> list[dns.rrset.RRset]:
    """dnspython's zone-file reader with $ORIGIN and $TTL (dns.zonefile.read_rrsets refuses
    directives, dns.zone accepts a single zone only)."""
    manager = _MultiZoneManager(dns.name.from_text(origin), False, dns.rdataclass.IN)
    with manager.writer(True) as txn:
        tok = dns.tokenizer.Tokenizer(text, "<zone>")
        reader = dns.zonefile.Reader(
            tok, dns.rdataclass.IN, txn, allow_directives=True, default_ttl=300
        )
        reader.read()
    return manager.rrsets


def _value(rdtype: RRType, rd: dns.rdata.Rdata) -> RecordValue:
    # dnspython builds TXT, MX and CNAME/NS/PTR rdata from these bases for those types
    if rdtype is RRType.TXT and isinstance(rd, dns.rdtypes.txtbase.TXTBase):
        return TxtRecord(tuple(rd.strings))
    if rdtype is RRType.MX and isinstance(rd, dns.rdtypes.mxbase.MXBase):
        return MxRecord(rd.preference, _plain(rd.exchange))
    if rdtype in (RRType.CNAME, RRType.NS, RRType.PTR) and isinstance(
        rd, dns.rdtypes.nsbase.NSBase
    ):
        return _plain(rd.target)
    return rd.to_text().lower()
