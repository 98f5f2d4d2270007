"""The grammar of each DMARC tag's value (RFC 9989 §4.7, RFC 7489 §6.4 for pct/rf/ri) and of
report URIs (RFC 9989 §4.7 rua/ruf, RFC 3986, RFC 5322 addr-spec), with the scanner helpers
the record parser shares. Pure; a value that does not fit raises `_Issue(message, offset)`,
which the parser turns into a `DmarcSyntaxIssue` at the right position."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from .dmarc_model import DmarcAlignment, DmarcPolicy, DmarcPsd, DmarcReportUri, DmarcSyntaxIssue

_WSP = " \t"
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


class _Issue(Exception):
    """Internal: a value that does not fit its tag; `offset` is relative to the value."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


# --- scanning -----------------------------------------------------------------------------


def _split(text: str, sep: str) -> list[tuple[str, int]]:
    """Pieces of `text` between `sep`, each with its offset, so issues can point into text."""
    pieces: list[tuple[str, int]] = []
    start = 0
    for piece in text.split(sep):  # str.split, not a walk per character: records are long
        pieces.append((piece, start))
        start += len(piece) + 1
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


_PRINTABLE = re.compile(r"[\x20-\x7e]*")


def _first_bad_char(value: str) -> int | None:
    m = _PRINTABLE.match(value)  # `*`: always a match, possibly empty
    end = m.end() if m else 0
    return end if end < len(value) else None


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
