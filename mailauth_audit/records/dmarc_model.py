"""The typed DMARC record (RFC 9989 §4.7): its policies, tags and report URIs, frozen. The
parser that builds it is `records/dmarc.py`; this module only names the parts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..fastinit import fast_init
from .errors import RecordSyntaxError

__all__ = [
    "DMARC_REMOVED_TAGS",
    "DMARC_TAGS",
    "DmarcAlignment",
    "DmarcDuplicateTagError",
    "DmarcPolicy",
    "DmarcPsd",
    "DmarcRecord",
    "DmarcReportUri",
    "DmarcSyntaxIssue",
    "DmarcTag",
]


class DmarcPolicy(StrEnum):
    NONE = "none"
    QUARANTINE = "quarantine"
    REJECT = "reject"

    @property
    def strength(self) -> int:
        """Lets callers ask "is sp weaker than p" without a lookup table of their own."""
        return _POLICY_STRENGTH[self]


_POLICY_STRENGTH = {DmarcPolicy.NONE: 0, DmarcPolicy.QUARANTINE: 1, DmarcPolicy.REJECT: 2}


class DmarcAlignment(StrEnum):
    RELAXED = "r"
    STRICT = "s"


class DmarcPsd(StrEnum):
    YES = "y"  # a Public Suffix Domain (RFC 9989 §4.7)
    NO = "n"  # not a PSD, and the Organizational Domain of itself and its subdomains
    UNKNOWN = "u"  # the default: find the Organizational Domain by the tree walk


# Tags registered for DMARC1 (RFC 9989 §9.3); pct/rf/ri stay known so they are still checked.
DMARC_TAGS: frozenset[str] = frozenset(
    {"v", "p", "sp", "np", "adkim", "aspf", "fo", "rua", "ruf", "t", "psd", "pct", "rf", "ri"}
)
DMARC_REMOVED_TAGS: tuple[str, ...] = ("pct", "rf", "ri")  # RFC 9989 Appendix C.5.2


@fast_init
@dataclass(frozen=True)
class DmarcTag:
    name: str
    value: str
    position: int  # offset of the tag name in the record text


@dataclass(frozen=True)
class DmarcSyntaxIssue:
    """One thing wrong in a record, where it is, and which tag it spoils (None: the list)."""

    message: str
    position: int  # 0-based offset into the record text
    tag: str | None = None  # the known tag whose value was discarded, when there is one


@fast_init
@dataclass(frozen=True)
class DmarcReportUri:
    tag: str  # "rua" or "ruf"
    uri: str  # as published, without the obsolete "!size" suffix
    scheme: str  # lowercase, e.g. "mailto"
    address: str | None  # the addr-spec of a mailto: URI, percent-decoded; None otherwise
    domain: str | None  # the mailbox's domain, or the URI's host; lowercase
    max_size: int | None  # bytes, from the obsolete "!size" suffix (RFC 7489 §6.2); else None
    position: int  # offset of the URI in the record text


@fast_init
@dataclass(frozen=True)
class DmarcRecord:
    """A DMARC record as receivers read it; a field is None when its tag is absent or was
    discarded as invalid (the issue then says which). Defaults are not filled in, so callers
    can tell "absent" from "set to the default"; the `*_or_default` properties fill them."""

    text: str
    policy: DmarcPolicy | None = None  # p
    subdomain_policy: DmarcPolicy | None = None  # sp
    nonexistent_subdomain_policy: DmarcPolicy | None = None  # np
    adkim: DmarcAlignment | None = None
    aspf: DmarcAlignment | None = None
    failure_options: tuple[str, ...] = ()  # fo, e.g. ("0", "d")
    testing: bool | None = None  # t=y / t=n
    psd: DmarcPsd | None = None
    report_uris: tuple[DmarcReportUri, ...] = ()  # rua then ruf, valid URIs only
    percentage: int | None = None  # pct (removed in RFC 9989)
    report_format: tuple[str, ...] = ()  # rf (removed in RFC 9989)
    report_interval: int | None = None  # ri, seconds (removed in RFC 9989)
    tags: tuple[DmarcTag, ...] = ()  # every tag in order, as published
    unknown_tags: tuple[DmarcTag, ...] = ()  # not in the DMARC registry: ignored by receivers
    removed_tags: tuple[str, ...] = ()  # of pct/rf/ri, those present

    @property
    def rua(self) -> tuple[DmarcReportUri, ...]:
        return tuple(u for u in self.report_uris if u.tag == "rua")

    @property
    def ruf(self) -> tuple[DmarcReportUri, ...]:
        return tuple(u for u in self.report_uris if u.tag == "ruf")

    @property
    def adkim_or_default(self) -> DmarcAlignment:
        return self.adkim or DmarcAlignment.RELAXED

    @property
    def aspf_or_default(self) -> DmarcAlignment:
        return self.aspf or DmarcAlignment.RELAXED

    def tag(self, name: str) -> DmarcTag | None:
        return next((t for t in self.tags if t.name == name), None)


class DmarcDuplicateTagError(RecordSyntaxError):
    """The record repeats a tag, which makes the whole tag-list invalid (RFC 6376 §3.2)."""

    def __init__(self, message: str, position: int = 0, tag: str = "") -> None:
        super().__init__(message, position)
        self.tag = tag

    def __reduce__(self) -> tuple[type[DmarcDuplicateTagError], tuple[str, int, str]]:
        return (type(self), (self.message, self.position, self.tag))
