"""Loading `--zone-file`s strictly: every name lands in the zone its author meant, or we stop.

A BIND zone with relative names and no `$ORIGIN` is read by named against the origin that
named.conf gives it. Read against the root instead, every name of it is wrong, and the audit
says "no MX, no SPF, no DMARC" about a zone that has all three. So the origin comes from
`--origin`, else from the file's `$ORIGIN`, else from the owner of its SOA record; when none
of these says where a relative name belongs, loading fails with a message that says what to
add. Files written by AXFR (every name absolute, no `$ORIGIN`) need none of this.

Several files are merged into one set of zones; two files that define the same zone are an
error (which copy would be the draft?). Which zones a set holds is what decides "inside the
zone file(s)": a name outside every zone is not "missing", it was never in the files.
dnspython's messages name its own internals; they are rewritten here into one line that
names the file and the line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tokenizer
import dns.zonefile

from ..errors import ConfigurationError, OutsideZoneFile
from ..model import DnsSource, SourceKind
from ..options import Limits
from .base import Answer, Resolver, RRType, normalize_qname
from .static import StaticResolver

__all__ = [
    "ZoneFile",
    "ZoneFileResolver",
    "ZoneSet",
    "load_zone_files",
    "parse_zone_text",
    "read_zone_bytes",
]

# Relative names are first read against this name; any that end in it had no origin.
_NO_ORIGIN = dns.name.from_text("origin-not-known.mailauth-audit.invalid.")
_DIRECTIVES = frozenset({"$ORIGIN", "$TTL", "$GENERATE"})  # never $INCLUDE: no file reads
_WHERE = re.compile(r"^.*?:(\d+): ?(.*)$", re.S)


@dataclass(frozen=True)
class ZoneFile:
    """One loaded file: what the report cites as its source."""

    path: str
    sha256: str  # of the bytes read
    origin: str  # the origin its relative names were read against ("" when it had none)
    zones: tuple[str, ...]  # apexes this file defines (its SOA owners, else its origin)


@dataclass(frozen=True)
class ZoneSet:
    """The zones of one or more files, merged; answers come from `resolver()`."""

    files: tuple[ZoneFile, ...]
    rrsets: tuple[dns.rrset.RRset, ...]

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(z for f in self.files for z in f.zones)

    def contains(self, name: str) -> bool:
        """Is `name` at or below the apex of a loaded zone (so the files can answer it)?"""
        qname = name.rstrip(".").lower()
        return any(z == "" or qname == z or qname.endswith("." + z) for z in self.zones)

    def resolver(self, *, max_cname_hops: int = Limits().max_cname_hops) -> StaticResolver:
        return StaticResolver("", rrsets=self.rrsets, max_cname_hops=max_cname_hops)


def _plain(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower() if name != dns.name.root else ""


def read_zone_bytes(path: str | Path, max_bytes: int | None = None) -> bytes:
    """At most `max_bytes` (default `Limits.max_zone_file_bytes`): a device such as /dev/zero
    or a runaway file is refused instead of filling the memory."""
    limit = Limits().max_zone_file_bytes if max_bytes is None else max_bytes
    try:
        with Path(path).open("rb") as f:
            raw = f.read(limit + 1)
    except OSError as exc:
        raise ConfigurationError(f"cannot read zone file {path}: {exc.strerror}") from None
    if len(raw) > limit:
        size = f"{limit >> 20} MiB" if limit >= 1 << 20 and not limit % (1 << 20) else limit
        raise ConfigurationError(
            f"zone file {path} is larger than {size}, the most one zone file may hold "
            "(Limits.max_zone_file_bytes)"
        )
    return raw


class _Transaction(dns.zonefile.RRsetsReaderTransaction):
    """Remembers the first $ORIGIN, and takes an SOA at any name: one file may hold several
    zones, and an AXFR file states its apex only as the SOA's owner."""

    _origin: dns.name.Name = dns.name.root
    first_origin: dns.name.Name | None = None

    def _set_origin(self, origin: dns.name.Name) -> None:
        if self.first_origin is None:
            self.first_origin = origin

    def _origin_information(self) -> tuple[dns.name.Name, bool, dns.name.Name]:
        return (self._origin, False, self._origin)

    def _add(self, replace: bool, args: tuple[object, ...]) -> None:
        # dnspython refuses an SOA away from the transaction's origin: make its own name
        # the origin while it is added
        first = args[0] if args else None
        name = first.name if isinstance(first, dns.rrset.RRset) else first
        self._origin = name if isinstance(name, dns.name.Name) else dns.name.root
        try:
            super()._add(replace, args)
        finally:
            self._origin = dns.name.root


class _Manager(dns.zonefile.RRSetsReaderManager):
    def writer(self, replacement: bool = False) -> _Transaction:
        self.txn = _Transaction(self, True, False)
        return self.txn


def _friendly(detail: str) -> str:
    """dnspython's texts name its own classes ("caught exception LabelTooLong: ..."): say
    what is wrong with the record instead, in the words of a zone file."""
    text = detail.strip()
    low = text.lower()
    for needle, say in (
        ("labeltoolong", "a label is longer than 63 characters"),
        ("> 63 octets", "a label is longer than 63 characters"),
        ("nametoolong", "a name is longer than 255 octets"),
        ("> 255 octets", "a name is longer than 255 octets"),
        ("emptylabel", "a name has an empty label (two dots in a row)"),
        ("label is empty", "a name has an empty label (two dots in a row)"),
        ("text input is malformed", "malformed record (a field is missing or not valid)"),
        ("unknown rdatatype", "unknown record type"),
        ("is not allowed", "directive not allowed (only $ORIGIN, $TTL and $GENERATE)"),
        ("unknown zone file directive", "unknown directive"),
        ("bad $ttl", "bad $TTL value"),
        ("badttl", "bad TTL"),
        ("missing default ttl", "no TTL: add $TTL or a TTL to the first record"),
        ("not zone's class", "record class other than IN"),
        ("unbalanced parentheses", "unbalanced parentheses"),
        ("unexpected end of input", "record ends too early"),
        ("the last used name is undefined", "the first record has no owner name"),
        ("cnameandotherdata", "a CNAME and other records at the same name"),
        ("rdataset type is not compatible", "a CNAME and other records at the same name"),
    ):
        if needle in low:
            return say
    if low.startswith("caught exception"):
        return "a record's value is not valid for its type"
    return "syntax error"


def parse_zone_text(
    text: str, *, origin: str | None = None, source: str = "<zone>"
) -> tuple[list[dns.rrset.RRset], ZoneFile]:
    """RRsets with absolute names, and where they came from (sha256 left empty here).

    Raises ConfigurationError with one line naming `source` and the line."""
    start = _NO_ORIGIN if origin is None else _origin_name(origin)
    rrsets, first = _read(text, start, source)
    if origin is None and _uses(rrsets, _NO_ORIGIN):
        soa = next(
            (
                r.name
                for r in rrsets
                if r.rdtype == dns.rdatatype.SOA and not r.name.is_subdomain(_NO_ORIGIN)
            ),
            None,
        )
        if soa is None:
            raise ConfigurationError(
                f"zone file {source} has names relative to an origin it does not state: "
                "add `$ORIGIN example.com.` at its top or pass --origin example.com"
            )
        start = soa
        rrsets, first = _read(text, soa, source)
    used = start if start != _NO_ORIGIN else first
    apexes = [_plain(r.name) for r in rrsets if r.rdtype == dns.rdatatype.SOA]
    if not apexes:
        if used is None:
            raise ConfigurationError(
                f"zone file {source} has no SOA record and no $ORIGIN, so which zone it holds "
                "is not known: add `$ORIGIN example.com.` at its top or pass --origin example.com"
            )
        apexes = [_plain(used)]
    return rrsets, ZoneFile(
        path=source,
        sha256="",
        origin=_plain(used) if used is not None else "",
        zones=tuple(dict.fromkeys(apexes)),
    )


def _origin_name(text: str) -> dns.name.Name:
    try:
        return dns.name.from_text(text.strip().rstrip(".") + ".")
    except dns.exception.DNSException:
        raise ConfigurationError(f"invalid --origin {text!r}: not a domain name") from None


def _uses(rrsets: list[dns.rrset.RRset], origin: dns.name.Name) -> bool:
    """Does any owner or any name in a record's value end in `origin`?"""
    suffix = origin.to_text()
    return any(
        r.name.is_subdomain(origin) or any(suffix in rd.to_text() for rd in r) for r in rrsets
    )


def _read(
    text: str, origin: dns.name.Name, source: str
) -> tuple[list[dns.rrset.RRset], dns.name.Name | None]:
    # the manager's origin is the root, so no name is dropped as "outside the zone"; the
    # reader starts at `origin` for relative names
    manager = _Manager(dns.name.root, False, dns.rdataclass.IN)
    try:
        with manager.writer(True) as txn:
            tok = dns.tokenizer.Tokenizer(text, source)
            reader = dns.zonefile.Reader(
                tok, dns.rdataclass.IN, txn, allow_directives=_DIRECTIVES, default_ttl=300
            )
            reader.current_origin = reader.last_name = origin
            reader.read()
    except dns.zonefile.UnknownOrigin:
        raise ConfigurationError(
            f"cannot parse zone file {source}: a relative $ORIGIN needs an absolute one before it"
        ) from None
    except dns.exception.DNSException as exc:
        m = _WHERE.match(str(exc))
        line, detail = (m[1], m[2]) if m else (None, str(exc))
        where = f"{source}, line {line}" if line else source
        raise ConfigurationError(f"cannot parse zone file {where}: {_friendly(detail)}") from None
    except (ValueError, UnicodeError):
        raise ConfigurationError(f"cannot parse zone file {source}: syntax error") from None
    return manager.rrsets, manager.txn.first_origin


def load_zone_files(
    paths: Sequence[str | Path], *, origin: str | None = None, max_bytes: int | None = None
) -> ZoneSet:
    """Read, parse and merge `paths`. `origin` (--origin) applies to every file. Two files
    that define the same zone, or one zone twice, are a ConfigurationError."""
    files: list[ZoneFile] = []
    rrsets: list[dns.rrset.RRset] = []
    owner: dict[str, str] = {}
    for path in paths:
        raw = read_zone_bytes(path, max_bytes)
        digest = hashlib.sha256(raw).hexdigest()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigurationError(f"zone file {path} is not UTF-8 text") from None
        del raw
        sets, info = parse_zone_text(text, origin=origin, source=str(path))
        for zone in info.zones:
            if zone in owner:
                where = (
                    "twice in " + str(path)
                    if owner[zone] == str(path)
                    else (f"in both {owner[zone]} and {path}")
                )
                raise ConfigurationError(
                    f"zone {zone or '.'} is defined {where}: pass each zone once"
                )
            owner[zone] = str(path)
        files.append(ZoneFile(path=str(path), sha256=digest, origin=info.origin, zones=info.zones))
        rrsets.extend(sets)
    return ZoneSet(files=tuple(files), rrsets=tuple(rrsets))


class ZoneFileResolver:
    """Answers names inside the loaded zones from the files; a name outside every zone is
    asked of `outside` (the --nameserver resolver) when there is one, else raises
    OutsideZoneFile: a draft of your own zone can be audited against the live records of
    your providers' includes, and without a nameserver "not in the files" never reads as
    "no record"."""

    def __init__(self, zones: ZoneSet, outside: Resolver | None = None) -> None:
        self.zones = zones
        self.static = zones.resolver()
        self.outside = outside
        self.queries = 0  # questions answered from the files

    async def resolve(
        self,
        name: str,
        rdtype: RRType,
        *,
        dnssec_ok: bool = False,
        checking_disabled: bool = False,
    ) -> Answer:
        flags = {"dnssec_ok": dnssec_ok, "checking_disabled": checking_disabled}
        if self.zones.contains(name):
            self.queries += 1
            answer = await self.static.resolve(name, rdtype, **flags)
            end = answer.canonical_name
            if answer.empty and answer.cname_chain and not self.zones.contains(end):
                # a CNAME out of the files: the rest of the chain is someone else's
                rest = await self.resolve(end, rdtype, **flags)
                return Answer(
                    answer.qname,
                    rdtype,
                    rest.rcode,
                    rest.records,
                    answer.cname_chain + rest.cname_chain,
                    min(answer.ttl, rest.ttl),
                )
            return answer
        if self.outside is None:
            raise OutsideZoneFile(normalize_qname(name), rdtype.name)
        return await self.outside.resolve(name, rdtype, **flags)

    def dns_sources(self) -> tuple[DnsSource, ...]:
        from .sources import dns_sources

        files = tuple(
            DnsSource(kind=SourceKind.ZONE_FILE, path=f.path, sha256=f.sha256, zones=f.zones)
            for f in self.zones.files
        )
        return files + dns_sources(self.outside)

    async def aclose(self) -> None:
        if self.outside is not None:
            await self.outside.aclose()
