"""DMARC policy records (RFC 9989 §4.7–4.8, which obsoletes RFC 7489 §6.3–6.4): text in, typed
record out. No I/O.

Two entry points share one scanner:

* `parse_dmarc_lenient(text)` reads a record the way RFC 9989 §4.8 tells receivers to: a bad
  value of a known tag is discarded (the default applies) and reported as a `DmarcSyntaxIssue`
  with its position, so an audit can say both *what receivers will do* and *what is wrong*.
  Only a record that does not start with `v=DMARC1` raises `RecordSyntaxError`: receivers
  ignore such a record entirely (RFC 9989 §4.7, tag `v`).
* `parse_dmarc(text)` is the strict form: the first issue, if any, is raised as
  `RecordSyntaxError(message, position)`.

What is an issue (strict: an error) and what is not:

* Issues: a version tag that is not first or not exactly `DMARC1`; a segment without `=`; a
  tag name that is not letters; an empty value; a character outside printable ASCII; a known
  tag with a value outside its grammar (`p=rejected`, `pct=150`, `fo=0:1`); a report URI
  that is not a URI, or a `mailto:` without a usable addr-spec; a tag name in the wrong case
  (`P=reject` is not `p`: tag names are case-sensitive, RFC 6376 §3.2), which would otherwise
  silently lose the policy.
* Fatal, like a wrong version: a tag that occurs twice (`v=DMARC1; p=reject; p=none`). DMARC
  records use DKIM's tag-list syntax (RFC 7489 §6.3), and RFC 6376 §3.2 makes a tag-list with a
  repeated tag name invalid as a whole; receivers that keep the first copy and receivers that
  keep the last disagree about the policy, so the record gives the domain no usable policy.
  `DmarcDuplicateTagError` (a `RecordSyntaxError`) names the tag and the second copy's place.
* Not issues, but recorded for findings: a missing `p` (RFC 9989 §4.7 makes it RECOMMENDED,
  and §4.10.1 says receivers then act as if `p=none` when `rua` has a valid URI), unknown
  tags (RFC 9989 §4.7: MUST be ignored), the tags RFC 9989 removed (`pct`, `rf`, `ri`; still
  validated, since RFC 7489 receivers honour them), the obsolete `!size` suffix of a report
  URI, and report URIs of schemes other than `mailto:` (valid URIs, but few receivers send
  to them).

Tag values are compared case-insensitively (the ABNF quotes them, and RFC 5234 quoted strings
are case-insensitive); only `DMARC1` is case-sensitive (`%s"DMARC1"`). Whitespace around the
record, around `;` and `=`, and around values is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote

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
    "looks_like_dmarc",
    "parse_dmarc",
    "parse_dmarc_lenient",
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

_WSP = " \t"
_TAG_NAME = re.compile(r"[A-Za-z]+")
_VERSION_LIKE = re.compile(r"\s*v\s*=\s*dmarc1", re.IGNORECASE)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_SIZE = re.compile(r"([0-9]+)([kmgtKMGT]?)")
_LOCAL_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+")
_LOCAL_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
# RFC 3986 characters (unreserved, reserved, '%'), less ',' and '!' which DMARC reserves
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@$&'()*+;=%]*")
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_FO_VALUES = ("0", "1", "d", "s")
_RF_VALUES = ("afrf", "iodef")  # RFC 7489 §6.3 registered afrf; iodef was in early drafts


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


@dataclass(frozen=True)
class DmarcReportUri:
    tag: str  # "rua" or "ruf"
    uri: str  # as published, without the obsolete "!size" suffix
    scheme: str  # lowercase, e.g. "mailto"
    address: str | None  # the addr-spec of a mailto: URI, percent-decoded; None otherwise
    domain: str | None  # the mailbox's domain, or the URI's host; lowercase
    max_size: int | None  # bytes, from the obsolete "!size" suffix (RFC 7489 §6.2); else None
    position: int  # offset of the URI in the record text


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


class _Issue(Exception):
    """Internal: a value that does not fit its tag; `offset` is relative to the value."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def looks_like_dmarc(text: str) -> bool:
    """True for TXT strings that try to be DMARC records, including broken ones such as
    `v=dmarc1` or `v=DMARC1 p=reject`, so an audit can report them instead of "missing"."""
    return _VERSION_LIKE.match(text) is not None


def parse_dmarc(text: str) -> DmarcRecord:
    """Strict: the record, or the first problem as `RecordSyntaxError(message, position)`."""
    record, issues = parse_dmarc_lenient(text)
    if issues:
        raise RecordSyntaxError(issues[0].message, issues[0].position)
    return record


def parse_dmarc_lenient(text: str) -> tuple[DmarcRecord, tuple[DmarcSyntaxIssue, ...]]:
    """The record as receivers apply it (bad values discarded) and every issue found.

    Raises `RecordSyntaxError` only when receivers ignore the record entirely: it does not
    start with `v=DMARC1`, or it repeats a tag (`DmarcDuplicateTagError`)."""
    segments = _split(text, ";")
    _check_version(text, segments[0])
    issues: list[DmarcSyntaxIssue] = []
    tags: list[DmarcTag] = []
    unknown: list[DmarcTag] = []
    values = _TagValues()
    seen: dict[str, int] = {"v": segments[0][1] + _lead(segments[0][0])}
    last = len(segments) - 1
    for index, (segment, start) in enumerate(segments[1:], start=1):
        if not segment.strip():
            if index != last:
                issues.append(DmarcSyntaxIssue("empty tag between two ';'", start))
            continue
        name_start = start + _lead(segment)
        eq = segment.find("=")
        if eq < 0:
            word = segment.strip(_WSP).split(None, 1)[0] if segment.strip(_WSP) else segment
            known = word if word in DMARC_TAGS else None
            issues.append(
                DmarcSyntaxIssue(
                    f"expected tag=value, found {_show(segment.strip())}", name_start, known
                )
            )
            continue
        name = segment[:eq].strip(_WSP)
        raw_value = segment[eq + 1 :]
        value = raw_value.strip(_WSP)
        value_start = start + eq + 1 + _lead(raw_value)
        if not _TAG_NAME.fullmatch(name):
            issues.append(DmarcSyntaxIssue(f"invalid tag name {_show(name)}", name_start))
            continue
        if name in seen:  # any copy counts, even one whose value was bad (RFC 6376 §3.2)
            raise DmarcDuplicateTagError(
                f"duplicate tag {_show(name)} (first at position {seen[name]}): a record that "
                "repeats a tag is invalid as a whole (RFC 7489 §6.3, RFC 6376 §3.2)",
                name_start,
                name,
            )
        seen[name] = name_start
        if name not in DMARC_TAGS and name.lower() in DMARC_TAGS:
            issues.append(
                DmarcSyntaxIssue(
                    f"tag names are case-sensitive: {_show(name)} is not "
                    f"{_show(name.lower())} and is ignored",
                    name_start,
                    name.lower(),
                )
            )
            continue
        bad = _first_bad_char(value)
        if bad is not None:
            issues.append(
                DmarcSyntaxIssue(
                    f"tag {_show(name)} contains {_char_name(value[bad])}, which DMARC "
                    "records do not allow (printable ASCII only)",
                    value_start + bad,
                    name if name in DMARC_TAGS else None,
                )
            )
            continue
        if not value:
            issues.append(
                DmarcSyntaxIssue(
                    f"tag {_show(name)} has an empty value",
                    value_start,
                    name if name in DMARC_TAGS else None,
                )
            )
            continue
        tag = DmarcTag(name, value, name_start)
        tags.append(tag)
        if name not in DMARC_TAGS:
            unknown.append(tag)
            continue
        if name in ("rua", "ruf"):
            uris, uri_issues = _uri_list(name, value, value_start)
            if name == "rua":
                values.rua = uris
            else:
                values.ruf = uris
            issues.extend(uri_issues)
            continue
        try:
            values.store(name, value)
        except _Issue as exc:
            issues.append(DmarcSyntaxIssue(exc.message, value_start + exc.offset, name))
    record = DmarcRecord(
        text=text,
        policy=values.p,
        subdomain_policy=values.sp,
        nonexistent_subdomain_policy=values.np,
        adkim=values.adkim,
        aspf=values.aspf,
        failure_options=values.fo,
        testing=values.t,
        psd=values.psd,
        report_uris=(*values.rua, *values.ruf),
        percentage=values.pct,
        report_format=values.rf,
        report_interval=values.ri,
        tags=tuple(tags),
        unknown_tags=tuple(unknown),
        removed_tags=tuple(t.name for t in tags if t.name in DMARC_REMOVED_TAGS),
    )
    return record, tuple(issues)


# --- scanning -----------------------------------------------------------------------------


def _split(text: str, sep: str) -> list[tuple[str, int]]:
    """Pieces of `text` between `sep`, each with its offset, so issues can point into text."""
    pieces: list[tuple[str, int]] = []
    start = 0
    for i, ch in enumerate(text):
        if ch == sep:
            pieces.append((text[start:i], start))
            start = i + 1
    pieces.append((text[start:], start))
    return pieces


def _lead(segment: str) -> int:
    return len(segment) - len(segment.lstrip())


def _show(text: str, limit: int = 40) -> str:
    """A short, quoted excerpt: hostile records can be kilobytes long."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _char_name(ch: str) -> str:
    if ch == "\ufffd":
        return "a byte that is not UTF-8 (shown as U+FFFD)"
    return f"the character U+{ord(ch):04X}"


def _first_bad_char(value: str) -> int | None:
    for i, ch in enumerate(value):
        if not (0x20 <= ord(ch) <= 0x7E):
            return i
    return None


def _check_version(text: str, first: tuple[str, int]) -> None:
    segment, start = first
    if not text.strip():
        raise RecordSyntaxError("empty record; a DMARC record starts with v=DMARC1", 0)
    pos = start + _lead(segment)
    eq = segment.find("=")
    name = segment[:eq].strip() if eq >= 0 else segment.strip()
    if eq < 0 or name != "v":
        raise RecordSyntaxError("a DMARC record must start with the tag v=DMARC1", pos)
    raw = segment[eq + 1 :]
    value = raw.strip()
    value_pos = start + eq + 1 + _lead(raw)
    if value == "DMARC1":
        return
    if value.upper() == "DMARC1":
        raise RecordSyntaxError(
            f"the version is case-sensitive: {_show(value)} must be 'DMARC1'", value_pos
        )
    if value[:6].upper() == "DMARC1" and value[6:7] in (" ", "\t"):
        raise RecordSyntaxError("missing ';' after v=DMARC1", value_pos + 6)
    raise RecordSyntaxError(
        f"unsupported DMARC version {_show(value)}; the only version is 'DMARC1'", value_pos
    )


# --- tag values ---------------------------------------------------------------------------


def _policy(value: str) -> DmarcPolicy:
    try:
        return DmarcPolicy(value.lower())
    except ValueError:
        raise _Issue(
            f"invalid policy {_show(value)}: expected none, quarantine or reject"
        ) from None


def _alignment(value: str) -> DmarcAlignment:
    try:
        return DmarcAlignment(value.lower())
    except ValueError:
        raise _Issue(
            f"invalid alignment mode {_show(value)}: expected r (relaxed) or s (strict)"
        ) from None


def _yes_no(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("y", "n"):
        raise _Issue(f"invalid value {_show(value)}: expected y or n")
    return lowered == "y"


def _psd(value: str) -> DmarcPsd:
    try:
        return DmarcPsd(value.lower())
    except ValueError:
        raise _Issue(f"invalid psd value {_show(value)}: expected y, n or u") from None


def _percentage(value: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise _Issue(f"invalid pct {_show(value)}: expected a whole number from 0 to 100")
    stripped = value.lstrip("0") or "0"
    if len(stripped) > 3 or int(stripped) > 100:  # no int() of a 4 KB number
        raise _Issue(f"pct {_show(value)} is out of range: expected 0 to 100")
    return int(stripped)


def _interval(value: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise _Issue(f"invalid ri {_show(value)}: expected a number of seconds")
    stripped = value.lstrip("0") or "0"
    if len(stripped) > 10 or int(stripped) > 2**32 - 1:
        raise _Issue(f"ri {_show(value)} is out of range (32-bit unsigned integer)")
    return int(stripped)


def _colon_list(value: str) -> list[tuple[str, int]]:
    return [(piece.strip(_WSP), off + _lead(piece)) for piece, off in _split(value, ":")]


def _failure_options(value: str) -> tuple[str, ...]:
    found: list[str] = []
    for token, offset in _colon_list(value):
        lowered = token.lower()
        if lowered not in _FO_VALUES:
            raise _Issue(f"invalid fo option {_show(token)}: expected 0, 1, d or s", offset)
        if lowered in found:
            raise _Issue(f"fo option {_show(token)} appears twice", offset)
        if lowered in ("0", "1") and ({"0", "1"} - {lowered}) & set(found):
            raise _Issue("fo options 0 and 1 are mutually exclusive", offset)
        found.append(lowered)
    return tuple(found)


def _report_format(value: str) -> tuple[str, ...]:
    found: list[str] = []
    for token, offset in _colon_list(value):
        if token.lower() not in _RF_VALUES:
            raise _Issue(f"invalid rf format {_show(token)}: the registered format is afrf", offset)
        found.append(token.lower())
    return tuple(found)


@dataclass(slots=True)
class _TagValues:
    """The valid values found so far, one typed field per tag (named as in the record)."""

    p: DmarcPolicy | None = None
    sp: DmarcPolicy | None = None
    np: DmarcPolicy | None = None
    adkim: DmarcAlignment | None = None
    aspf: DmarcAlignment | None = None
    fo: tuple[str, ...] = ()
    t: bool | None = None
    psd: DmarcPsd | None = None
    rua: tuple[DmarcReportUri, ...] = ()
    ruf: tuple[DmarcReportUri, ...] = ()
    pct: int | None = None
    rf: tuple[str, ...] = ()
    ri: int | None = None

    def store(self, name: str, value: str) -> None:
        """Validate `value` for tag `name` (raises _Issue) and keep it. rua/ruf are not
        stored here: their list keeps its valid URIs beside the issues of the others."""
        match name:
            case "p":
                self.p = _policy(value)
            case "sp":
                self.sp = _policy(value)
            case "np":
                self.np = _policy(value)
            case "adkim":
                self.adkim = _alignment(value)
            case "aspf":
                self.aspf = _alignment(value)
            case "t":
                self.t = _yes_no(value)
            case "psd":
                self.psd = _psd(value)
            case "pct":
                self.pct = _percentage(value)
            case "ri":
                self.ri = _interval(value)
            case "fo":
                self.fo = _failure_options(value)
            case "rf":
                self.rf = _report_format(value)
            case _:
                raise KeyError(name)


# --- report URIs ----------------------------------------------------------------------------


def _uri_list(
    tag: str, value: str, value_start: int
) -> tuple[tuple[DmarcReportUri, ...], list[DmarcSyntaxIssue]]:
    uris: list[DmarcReportUri] = []
    issues: list[DmarcSyntaxIssue] = []
    for piece, offset in _split(value, ","):
        item = piece.strip(_WSP)
        position = value_start + offset + _lead(piece)
        if not item:
            issues.append(DmarcSyntaxIssue(f"empty URI in the {tag} list", position, tag))
            continue
        try:
            uris.append(_report_uri(tag, item, position))
        except _Issue as exc:
            issues.append(DmarcSyntaxIssue(exc.message, position + exc.offset, tag))
    return tuple(uris), issues


def _report_uri(tag: str, item: str, position: int) -> DmarcReportUri:
    uri, bang, size_text = item.partition("!")
    max_size: int | None = None
    if bang:
        match = _SIZE.fullmatch(size_text)
        if match is None or len(match.group(1)) > 15:
            raise _Issue(
                f"invalid size limit {_show('!' + size_text)} after a {tag} URI "
                "(a ',' or '!' inside a URI must be percent-encoded)",
                len(uri),
            )
        max_size = int(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    scheme_match = _SCHEME.match(uri)
    if scheme_match is None:
        if "@" in uri:
            raise _Issue(f"{tag} URI {_show(uri)} lacks its scheme: write mailto:{uri}")
        raise _Issue(f"{tag} value {_show(uri)} is not a URI (expected mailto:address)")
    scheme = scheme_match.group(1).lower()
    rest = uri[scheme_match.end() :]
    bad = _URI_CHARS.fullmatch(rest)
    if bad is None:
        spot = next(i for i, ch in enumerate(rest) if not _URI_CHARS.fullmatch(ch))
        raise _Issue(
            f"{tag} URI contains {_show(rest[spot])}, which must be percent-encoded",
            scheme_match.end() + spot,
        )
    if scheme == "mailto":
        address, domain = _mailto_address(rest, scheme_match.end())
        return DmarcReportUri(tag, uri, scheme, address, domain, max_size, position)
    host = _uri_host(rest)
    return DmarcReportUri(tag, uri, scheme, None, host, max_size, position)


def _mailto_address(rest: str, offset: int) -> tuple[str, str]:
    encoded = rest.split("?", 1)[0]
    if not encoded:
        raise _Issue("mailto: URI without an address", offset)
    address = unquote(encoded, errors="replace")
    local, at, domain = address.rpartition("@")
    if not at or not local:
        raise _Issue(f"mailto: address {_show(address)} is not local-part@domain", offset)
    if "," in address:
        raise _Issue("one address per mailto: URI; separate URIs with ','", offset)
    if len(local) > 64 or not (_LOCAL_ATOM.fullmatch(local) or _LOCAL_QUOTED.fullmatch(local)):
        raise _Issue(f"invalid local part {_show(local)} in mailto: address", offset)
    dotted_badly = local.startswith(".") or local.endswith(".") or ".." in local
    if dotted_badly and not local.startswith('"'):
        raise _Issue(f"invalid local part {_show(local)} in mailto: address", offset)
    host = domain.rstrip(".").lower()
    if not _valid_host(host):
        at_index = encoded.rfind("@")
        raise _Issue(
            f"invalid domain {_show(domain)} in mailto: address",
            offset + at_index + 1 if at_index >= 0 else offset,
        )
    return address, host


def _uri_host(rest: str) -> str | None:
    if not rest.startswith("//"):
        return None
    authority = rest[2:].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        return None
    host = host.split(":", 1)[0].rstrip(".").lower()
    return host if _valid_host(host) else None


def _valid_host(host: str) -> bool:
    labels = host.split(".")
    return (
        len(labels) >= 2
        and len(host) <= 253
        and all(_HOST_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )
