"""Answers from zone-file text: tests, and auditing a zone before it is published.

Behaves like an authoritative server that holds every name in the text: NXDOMAIN for names
that do not exist (and have nothing below them), NODATA for empty non-terminals, CNAME chains
followed with loop detection, `*` wildcards expanded. Sends nothing over the network.

Any type the text holds is answered (TLSA, DS, DNSKEY, RRSIG, SOA...), as dnspython rdata for
the types without a value of their own in `Answer`. Nothing is validated: the AD bit is never
set, whatever RRSIGs the text holds; with `dnssec_ok` the RRSIGs over the RRset come along.
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
from .base import (
    Answer,
    MxRecord,
    Provenance,
    Rcode,
    RecordValue,
    RRType,
    TxtRecord,
    normalize_qname,
)


def _size(n: int) -> str:
    return f"{n // (1 << 20)} MiB" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n} bytes"


def _plain(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower() if name != dns.name.root else ""


def _name_key(name: dns.name.Name) -> str:
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
        source: str = "static",
    ) -> None:
        if rrsets is None:
            try:
                rrsets = _read_rrsets(zone_text, origin or ".")
            except (dns.exception.DNSException, ValueError) as exc:
                raise ConfigurationError(f"cannot parse zone text: {exc}") from None
        # a zone file may hold several zones ($ORIGIN changes); merge RRsets by owner and type
        self._nodes: dict[str, dict[int, dns.rrset.RRset]] = {}
        # (RRSIGs are kept by the type they cover, see _key: RRSIGs over different types
        # cannot share one RRset)
        for rrset in rrsets:
            by_type = self._nodes.setdefault(_name_key(rrset.name), {})
            key = _key(rrset)
            if key in by_type:
                by_type[key].union_update(rrset)
            else:
                by_type[key] = rrset
        # every name that exists, including empty non-terminals (ancestors of owner names)
        self._existing: set[str] = set()
        for owner in self._nodes:
            labels = owner.split(".")
            self._existing.update(".".join(labels[i:]) for i in range(len(labels)))
        self._faults = {normalize_qname(k): v for k, v in (faults or {}).items()}
        self._max_hops = max_cname_hops
        self.source = source  # Answer.server: "static", or "zone-file:PATH" from from_file
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
        return cls(
            text,
            origin=origin,
            faults=faults,
            max_cname_hops=max_cname_hops,
            source=f"zone-file:{path}",
        )

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

    async def resolve(
        self,
        name: str,
        rdtype: RRType,
        *,
        dnssec_ok: bool = False,
        checking_disabled: bool = False,
    ) -> Answer:
        self.queries += 1
        qname = normalize_qname(name)
        chain: list[str] = []
        current = qname
        # no validation here: AD stays False; CD is echoed as a server echoes it
        provenance = Provenance(self.source, False, checking_disabled)
        while True:
            fault = self._faults.get(current)
            if fault is not None:
                raise fault(current, rdtype.name)
            node = self._node(current)
            if node is None:
                rcode = Rcode.NOERROR if self._exists(current) else Rcode.NXDOMAIN
                return Answer(
                    qname, rdtype, rcode, (), tuple(chain), self._negative_ttl, provenance
                )
            if rdtype is RRType.RRSIG:
                sigs = [rrset for key, rrset in node.items() if key > _MAX_TYPE]
                if sigs:
                    records = tuple(rd for rrset in sigs for rd in rrset)
                    ttl = min(rrset.ttl for rrset in sigs)
                    return Answer(
                        qname, rdtype, Rcode.NOERROR, records, tuple(chain), ttl, provenance
                    )
            rdataset = node.get(int(rdtype))
            if rdataset is not None:
                records = tuple(_value(rdtype, rd) for rd in rdataset)
                signed = node.get(_rrsig_key(int(rdtype))) if dnssec_ok else None
                if signed is not None:
                    provenance = provenance._replace(signatures=tuple(signed))
                return Answer(
                    qname, rdtype, Rcode.NOERROR, records, tuple(chain), rdataset.ttl, provenance
                )
            cname = node.get(dns.rdatatype.CNAME)
            if cname is None or rdtype is RRType.CNAME or rdtype is RRType.RRSIG:
                return Answer(
                    qname, rdtype, Rcode.NOERROR, (), tuple(chain), self._negative_ttl, provenance
                )
            target = _name_key(cname[0].target)
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


_MAX_TYPE = 0xFFFF


def _rrsig_key(covered: int) -> int:
    """Where a node keeps the RRSIGs over type `covered`: above every real type number."""
    return (_MAX_TYPE + 1) | covered


def _key(rrset: dns.rrset.RRset) -> int:
    if rrset.rdtype == dns.rdatatype.RRSIG:
        return _rrsig_key(rrset.covers)
    return int(rrset.rdtype)


def _value(rdtype: RRType, rd: dns.rdata.Rdata) -> RecordValue:
    """The value the wire resolver gives for the same record, so both read alike; types the
    fast path has no decoder for stay dnspython rdata."""
    # dnspython builds TXT, MX and CNAME/NS/PTR rdata from these bases for those types
    if rdtype is RRType.TXT and isinstance(rd, dns.rdtypes.txtbase.TXTBase):
        return TxtRecord(tuple(rd.strings))
    if rdtype is RRType.MX and isinstance(rd, dns.rdtypes.mxbase.MXBase):
        return MxRecord(rd.preference, _plain(rd.exchange))
    if rdtype in (RRType.CNAME, RRType.NS, RRType.PTR) and isinstance(
        rd, dns.rdtypes.nsbase.NSBase
    ):
        return _plain(rd.target)
    if rdtype in (RRType.A, RRType.AAAA):
        return rd.to_text().lower()
    return rd
