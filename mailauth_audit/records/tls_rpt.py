"""SMTP TLS Reporting (RFC 8460 §3): the `_smtp._tls` TXT record. Pure: no I/O.

Reading of the RFC, where it leaves room:

* `v=TLSRPTv1` (case-sensitive) starts the record; fields follow RFC 8460's grammar (shared
  with MTA-STS, `txtfields.py`); `rua=` is required and is a comma list of URIs with
  optional whitespace around the commas. In a URI, `,`, `!` and `;` must be %-encoded.
* Unknown fields are ignored (§3, last paragraph): kept and noted. RFC 8460 says nothing
  about a repeated field; like RFC 8461 §3.2 we keep the first copy and note the rest.
* §3 supports two schemes, `mailto` and `https`. A well-formed URI of another scheme (or
  `http`) does not spoil the record: it is kept with `supported=False` and noted, and a
  record without one supported URI is for the check to judge.
* Selection: records not beginning with `v=TLSRPTv1` are discarded; none left is absence
  (None), more than one raises `MultipleRecordsError` (senders then assume no TLSRPT).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote

from .errors import RecordSyntaxError
from .txtfields import MultipleRecordsError, TxtField, only_record, show, split_txt_fields

__all__ = [
    "MultipleRecordsError",
    "TlsRptNote",
    "TlsRptNoteKind",
    "TlsRptRecord",
    "TlsRptUri",
    "looks_like_tls_rpt",
    "parse_tls_rpt",
    "select_tls_rpt_record",
]

_VERSION = "v=TLSRPTv1"
_WSP = " \t"
_SUPPORTED = ("mailto", "https")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# RFC 3986 characters (unreserved, reserved, '%'), less ',', '!' and ';' which RFC 8460 reserves
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@$&'()*+=%]*")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+|\"(?:[^\"\\]|\\.)*\"")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9_\-]{1,63}(?<!-)")
_PORT = re.compile(r"[0-9]{1,5}")


class TlsRptNoteKind(StrEnum):
    UNKNOWN_FIELD = "unknown_field"
    DUPLICATE_FIELD = "duplicate_field"  # the first copy counts
    UNSUPPORTED_SCHEME = "unsupported_scheme"  # a rua URI neither mailto: nor https:
    TRAILING_WHITESPACE = "trailing_whitespace"  # after the last field, no closing ';'


@dataclass(frozen=True)
class TlsRptNote:
    """One kind of oddity, said once with its first position and how often it occurs."""

    kind: TlsRptNoteKind
    message: str
    position: int
    count: int = 1


@dataclass(frozen=True)
class TlsRptUri:
    uri: str  # as published
    scheme: str  # lowercased
    supported: bool  # mailto or https (RFC 8460 §3)
    address: str | None = None  # mailto: the %-decoded addr-spec
    host: str | None = None  # https: the host, lowercased
    position: int = 0  # offset of the URI in the record text


@dataclass(frozen=True)
class TlsRptRecord:
    rua: tuple[TlsRptUri, ...]
    extensions: tuple[TxtField, ...] = ()  # unknown fields, ignored by senders
    notes: tuple[TlsRptNote, ...] = ()

    @property
    def supported_rua(self) -> tuple[TlsRptUri, ...]:
        """The URIs a reporter can deliver to; empty means no report will arrive."""
        return tuple(u for u in self.rua if u.supported)


def looks_like_tls_rpt(text: str) -> bool:
    """Whether a TXT record was probably meant as TLS-RPT (wrong case, leading spaces)."""
    return text.lstrip(_WSP).lower().startswith(_VERSION.lower())


def select_tls_rpt_record(texts: Iterable[str]) -> TlsRptRecord | None:
    """The one TLS-RPT record among a name's TXT records (each already concatenated).

    None when none begins with `v=TLSRPTv1` (absence, not an error); more than one, or one
    that does not parse, raises RecordSyntaxError.
    """
    text = only_record(
        texts, _VERSION, "RFC 8460 §3 requires exactly one (senders then assume no TLS reporting)"
    )
    return None if text is None else parse_tls_rpt(text)


def parse_tls_rpt(text: str) -> TlsRptRecord:
    """Parse one `_smtp._tls` TXT record; raise RecordSyntaxError(message, position)."""
    fields, trailing_ws = split_txt_fields(text, _VERSION, frozenset({"rua"}))
    notes: dict[TlsRptNoteKind, TlsRptNote] = {}

    def note(kind: TlsRptNoteKind, message: str, position: int) -> None:
        first = notes.get(kind)
        notes[kind] = (
            TlsRptNote(kind, message, position)
            if first is None
            else TlsRptNote(kind, first.message, first.position, first.count + 1)
        )

    if trailing_ws:
        note(
            TlsRptNoteKind.TRAILING_WHITESPACE,
            "whitespace after the last field without a closing ';' is outside the grammar",
            len(text.rstrip(_WSP)),
        )
    seen = {"v"}
    rua: tuple[TlsRptUri, ...] | None = None
    extensions: list[TxtField] = []
    for f in fields:
        if f.name in seen:
            note(
                TlsRptNoteKind.DUPLICATE_FIELD,
                f"field {f.name!r} repeated: only the first copy counts",
                f.position,
            )
            continue
        seen.add(f.name)
        if f.name == "rua":
            rua = _uri_list(f.value, f.position + 4)
            for uri in rua:
                if not uri.supported:
                    note(
                        TlsRptNoteKind.UNSUPPORTED_SCHEME,
                        f"rua URI {show(uri.uri)}: RFC 8460 supports only mailto: and https:",
                        uri.position,
                    )
        else:
            extensions.append(f)
            note(TlsRptNoteKind.UNKNOWN_FIELD, f"unknown field {f.name!r}", f.position)
    if rua is None:
        hint = next((f.name for f in fields if f.name.lower() == "rua"), None)
        message = "missing required rua= field"
        if hint is not None:
            message += f" ({hint!r} is not 'rua': field names are case-sensitive)"
        raise RecordSyntaxError(message, len(text))
    return TlsRptRecord(rua, tuple(extensions), tuple(notes.values()))


def _uri_list(value: str, offset: int) -> tuple[TlsRptUri, ...]:
    uris: list[TlsRptUri] = []
    start = 0
    for item in value.split(","):
        lead = len(item) - len(item.lstrip(_WSP))
        uri = item.strip(_WSP)
        position = offset + start + lead
        start += len(item) + 1
        if not uri:
            raise RecordSyntaxError("empty URI in the rua list", position)
        uris.append(_uri(uri, position))
    return tuple(uris)


def _uri(uri: str, position: int) -> TlsRptUri:
    bad = next((i for i, ch in enumerate(uri) if ch in _WSP), None)
    if bad is not None:
        raise RecordSyntaxError(
            "whitespace inside a rua URI (separate URIs with ',')", position + bad
        )
    scheme_match = _SCHEME.match(uri)
    if scheme_match is None:
        raise RecordSyntaxError(f"rua {show(uri)} is not a URI (no scheme: like mailto:)", position)
    if not _URI_CHARS.fullmatch(uri):
        at = next(i for i, ch in enumerate(uri) if not _URI_CHARS.fullmatch(ch))
        raise RecordSyntaxError(
            f"character {uri[at]!r} must be %-encoded in a rua URI (RFC 8460 §3)", position + at
        )
    percent = _BAD_PERCENT.search(uri)
    if percent is not None:
        raise RecordSyntaxError("'%' not followed by two hex digits", position + percent.start())
    scheme = scheme_match.group(1).lower()
    rest = uri[scheme_match.end() :]
    if scheme == "mailto":
        address = unquote(rest.split("?", 1)[0])
        if not _addr_spec_ok(address):
            raise RecordSyntaxError(
                f"mailto: URI {show(uri)} needs one address like reports@example.com", position
            )
        return TlsRptUri(uri, scheme, True, address=address, position=position)
    if scheme == "https":
        host = _https_host(rest)
        if host is None:
            raise RecordSyntaxError(f"https: URI {show(uri)} has no valid host", position)
        return TlsRptUri(uri, scheme, True, host=host, position=position)
    return TlsRptUri(uri, scheme, False, position=position)


def _addr_spec_ok(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return bool(at) and _LOCAL.fullmatch(local) is not None and _host_ok(domain)


def _host_ok(host: str) -> bool:
    host = host[:-1] if host.endswith(".") else host
    if not host or len(host) > 253 or not host.isascii():
        return False
    return all(_LABEL.fullmatch(label) for label in host.split("."))


def _https_host(rest: str) -> str | None:
    if not rest.startswith("//"):
        return None
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    hostport = authority.rpartition("@")[2]
    if hostport.startswith("["):
        close = hostport.find("]")
        host, port = hostport[: close + 1], hostport[close + 1 :]
        if close < 0 or len(host) < 3:
            return None
    else:
        host, colon, port = hostport.partition(":")
        port = colon + port
        if not _host_ok(host):
            return None
    if port and not (port.startswith(":") and _PORT.fullmatch(port[1:])):
        return None
    return host.lower()
