"""The one async interface every check asks DNS through, and the typed answers it returns.

NXDOMAIN and NODATA are *values* (an `Answer` with no records): they are facts about the
domain. Timeouts, SERVFAIL and REFUSED are exceptions (see `errors.py`): they are facts about
the path to the domain and must never be read as "record missing".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Protocol, runtime_checkable


class RRType(IntEnum):
    A = 1
    NS = 2
    CNAME = 5
    SOA = 6
    PTR = 12
    MX = 15
    TXT = 16
    AAAA = 28


class Rcode(StrEnum):
    NOERROR = "NOERROR"
    NXDOMAIN = "NXDOMAIN"


@dataclass(frozen=True, slots=True)
class MxRecord:
    preference: int
    exchange: str  # lowercase, no trailing dot; "" for the null MX root target "."


@dataclass(frozen=True, slots=True)
class TxtRecord:
    strings: tuple[bytes, ...]  # the character-strings as published, undecoded

    @property
    def text(self) -> str:
        """The strings joined (RFC 7208 §3.3); bytes that are not UTF-8 become U+FFFD."""
        return b"".join(self.strings).decode("utf-8", "replace")


RecordValue = str | MxRecord | TxtRecord  # A/AAAA/CNAME/PTR/NS: text; MX; TXT


@dataclass(frozen=True, slots=True)
class Answer:
    qname: str  # as asked, lowercase without trailing dot
    rdtype: RRType
    rcode: Rcode
    records: tuple[RecordValue, ...] = ()  # of rdtype, at the end of any CNAME chain
    cname_chain: tuple[str, ...] = ()  # CNAME targets followed, in order
    ttl: int = 0  # seconds this answer may be cached (negative TTL from SOA when empty)

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


@runtime_checkable
class Resolver(Protocol):
    """Anything that can answer one question. Implementations raise `ResolverError`s."""

    async def resolve(self, name: str, rdtype: RRType) -> Answer: ...

    async def aclose(self) -> None: ...


def normalize_qname(name: str) -> str:
    return name.rstrip(".").lower()
