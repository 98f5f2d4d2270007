"""The one async interface every check asks DNS through, and the typed answers it returns.

NXDOMAIN and NODATA are *values* (an `Answer` with no records): they are facts about the
domain. Timeouts, SERVFAIL and REFUSED are exceptions (see `errors.py`): they are facts about
the path to the domain and must never be read as "record missing".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, NamedTuple, Protocol, Union, runtime_checkable

if TYPE_CHECKING:
    from dns.rdata import Rdata


class RRType(IntEnum):
    """The types a check may ask for. A, AAAA, CNAME, NS, PTR, MX and TXT are decoded by the
    resolver's own fast path; every other type comes back as dnspython rdata objects."""

    A = 1
    NS = 2
    CNAME = 5
    SOA = 6
    PTR = 12
    MX = 15
    TXT = 16
    AAAA = 28
    DS = 43  # RFC 4034
    RRSIG = 46
    NSEC = 47
    DNSKEY = 48
    NSEC3 = 50  # RFC 5155
    NSEC3PARAM = 51
    TLSA = 52  # RFC 6698
    SVCB = 64  # RFC 9460
    HTTPS = 65
    CAA = 257  # RFC 8659


class Rcode(StrEnum):
    NOERROR = "NOERROR"
    NXDOMAIN = "NXDOMAIN"


@dataclass(frozen=True, slots=True)
class MxRecord:
    preference: int
    exchange: str  # lowercase, no trailing dot; "" for the null MX root target "."


@dataclass(frozen=True, slots=True, init=False)
class TxtRecord:
    strings: tuple[bytes, ...]  # the character-strings as published, undecoded

    def __init__(self, strings: tuple[bytes, ...]) -> None:
        """One per TXT record decoded: the slot's own setter, as `Answer.__init__`."""
        _set_strings(self, strings)

    @property
    def text(self) -> str:
        """The strings joined (RFC 7208 §3.3); bytes that are not UTF-8 become U+FFFD."""
        return b"".join(self.strings).decode("utf-8", "replace")


class ExtendedError(NamedTuple):
    """One Extended DNS Error option (RFC 8914) of the answer's OPT record: why a server
    answered as it did ("DNSSEC Bogus", "Stale Answer"...). `text` is the server's own,
    cut to `Limits.max_extended_error_text` characters (then ending in "…")."""

    info_code: int
    text: str = ""


class Provenance(NamedTuple):
    """Where an answer came from and what the server said about it besides the records.

    One field of `Answer` rather than five: an Answer is built for every query of a bulk
    run, each field of a frozen dataclass costs a call to set, and a resolver hands out one
    shared Provenance per server for the usual answer (no AD, no CD, no extended error)."""

    server: str = ""  # who answered: "127.0.0.1:53", "[::1]:53", "zone-file:PATH", "static"
    # the AD bit (RFC 4035 §3.2.3): the server validated every answer of the chain with
    # DNSSEC. Only as trustworthy as the path to that server; never set by StaticResolver
    authenticated_data: bool = False
    checking_disabled: bool = False  # the CD bit of the answer: validation was not asked for
    extended_errors: tuple[ExtendedError, ...] = ()  # RFC 8914, the last response's, bounded
    # set only for queries with dnssec_ok: the RRSIGs covering the records (dnspython rdata)
    signatures: tuple[Rdata, ...] = ()


NO_PROVENANCE = Provenance()

# A/AAAA/CNAME/PTR/NS: text; MX; TXT; every other type: a dnspython rdata object (immutable,
# typed: dns.rdtypes.ANY.TLSA.TLSA, dns.rdtypes.ANY.SOA.SOA..., GenericRdata when unknown)
RecordValue = Union[str, MxRecord, TxtRecord, "Rdata"]


@dataclass(frozen=True, slots=True, init=False)
class Answer:
    qname: str  # as asked, lowercase without trailing dot
    rdtype: RRType
    rcode: Rcode
    records: tuple[RecordValue, ...] = ()  # of rdtype, at the end of any CNAME chain
    cname_chain: tuple[str, ...] = ()  # CNAME targets followed, in order
    ttl: int = 0  # seconds this answer may be cached (negative TTL from SOA when empty)
    provenance: Provenance = NO_PROVENANCE  # server, DNSSEC flags, extended errors, RRSIGs

    def __init__(
        self,
        qname: str,
        rdtype: RRType,
        rcode: Rcode,
        records: tuple[RecordValue, ...] = (),
        cname_chain: tuple[str, ...] = (),
        ttl: int = 0,
        provenance: Provenance = NO_PROVENANCE,
    ) -> None:
        """The dataclass's own __init__ for a frozen class sets each field through
        object.__setattr__, the most costly part of building an Answer, and one is built for
        every query; each slot's own descriptor sets it for less than half of that."""
        _set_qname(self, qname)
        _set_rdtype(self, rdtype)
        _set_rcode(self, rcode)
        _set_records(self, records)
        _set_cname_chain(self, cname_chain)
        _set_ttl(self, ttl)
        _set_provenance(self, provenance)

    @property
    def authenticated_data(self) -> bool:
        """The AD bit: the server says it validated the answer with DNSSEC (RFC 4035)."""
        return self.provenance.authenticated_data

    @property
    def checking_disabled(self) -> bool:
        return self.provenance.checking_disabled

    @property
    def extended_errors(self) -> tuple[ExtendedError, ...]:
        return self.provenance.extended_errors

    @property
    def server(self) -> str:
        return self.provenance.server

    @property
    def signatures(self) -> tuple[Rdata, ...]:
        return self.provenance.signatures

    @property
    def nxdomain(self) -> bool:
        return self.rcode is Rcode.NXDOMAIN

    @property
    def nodata(self) -> bool:
        return self.rcode is Rcode.NOERROR and not self.records

    @property
    def empty(self) -> bool:
        """NXDOMAIN or NODATA: what RFC 7208 calls a void lookup."""
        return not self.records

    @property
    def canonical_name(self) -> str:
        return self.cname_chain[-1] if self.cname_chain else self.qname

    def txt(self) -> list[TxtRecord]:
        return [r for r in self.records if isinstance(r, TxtRecord)]

    def mx(self) -> list[MxRecord]:
        return [r for r in self.records if isinstance(r, MxRecord)]

    def texts(self) -> list[str]:
        """A, AAAA, CNAME, PTR, NS values."""
        return [r for r in self.records if isinstance(r, str)]

    def rdata(self) -> list[Rdata]:
        """The values of the types without a fast-path decoder (TLSA, DS, SOA...)."""
        return [r for r in self.records if not isinstance(r, str | MxRecord | TxtRecord)]


_set_strings = vars(TxtRecord)["strings"].__set__
(
    _set_qname,
    _set_rdtype,
    _set_rcode,
    _set_records,
    _set_cname_chain,
    _set_ttl,
    _set_provenance,
) = (vars(Answer)[f].__set__ for f in Answer.__slots__)


@runtime_checkable
class Resolver(Protocol):
    """Anything that can answer one question. Implementations raise `ResolverError`s."""

    async def resolve(
        self,
        name: str,
        rdtype: RRType,
        *,
        dnssec_ok: bool = False,
        checking_disabled: bool = False,
    ) -> Answer:
        """`dnssec_ok` sets the DO bit (RFC 3225: send the RRSIGs); `checking_disabled` the CD
        bit (RFC 4035 §3.2.2: a validating server answers without validating)."""
        ...

    async def aclose(self) -> None: ...


def normalize_qname(name: str) -> str:
    return name.rstrip(".").lower()
