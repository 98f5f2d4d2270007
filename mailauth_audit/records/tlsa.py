"""TLSA records (RFC 6698) as DANE for SMTP uses them (RFC 7672), and matching them against
a presented certificate chain. Pure: no I/O.

* Parsing: presentation text `3 1 1 <hex>` (whitespace allowed inside the hex, RFC 6698
  §2.2), RFC 3597 generic text `\\# 35 <hex>`, or wire RDATA. Each number is 0–255; values
  no RFC defines parse (they are "unusable", not malformed). The association data length
  must fit the matching type: SHA2-256 32 bytes, SHA2-512 64 bytes, Full at least one byte.
* Usability for SMTP (RFC 7672 §3.1.3): only DANE-TA(2) and DANE-EE(3) with selector 0/1
  and matching type 0/1/2; PKIX-TA(0), PKIX-EE(1) and unknown parameters are unusable. When
  no record is usable, DANE does not apply to the host.
* Matching: DANE-EE(3) against the leaf (chain[0]) only; DANE-TA(2) against the presented
  certificates after the leaf. Selector 1 hashes the SubjectPublicKeyInfo bytes exactly as
  they appear in the certificate (RFC 6698 §2.1.2), cut out of the DER rather than
  re-encoded from the parsed key (a re-encoding can differ, e.g. a compressed EC point).

Simplifications (documented so a check does not claim more than this proves):

* A DANE-TA(2) match reports whether a path of issuer signatures leads from the leaf to the
  matched certificate within the presented chain (`issued_path`); validity dates, name
  checks (RFC 7672 §3.2.2) and key usage are the check's concern, not checked here.
* A DANE-TA(2) `2 1 0` record naming a trust-anchor key the server does not present in its
  chain (RFC 7672 §3.1.2 allows it) is not matched.
* A DANE-TA(2) record matching the leaf itself (self-issued leaf) is not a match.
* Only the first `max_certificates` entries of the chain are looked at (the probe keeps
  no more than `ProbeLimits.max_chain_certificates`); the rest are counted as not checked.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from ..options import ProbeLimits
from .errors import RecordSyntaxError

__all__ = [
    "TlsaMatch",
    "TlsaMatchResult",
    "TlsaMatchingType",
    "TlsaRecord",
    "TlsaSelector",
    "TlsaUsage",
    "association_data",
    "parse_tlsa",
    "tlsa_from_fields",
    "tlsa_from_rdata",
    "tlsa_matches",
]


class TlsaUsage(IntEnum):
    PKIX_TA = 0
    PKIX_EE = 1
    DANE_TA = 2
    DANE_EE = 3


class TlsaSelector(IntEnum):
    CERT = 0  # the whole certificate, DER
    SPKI = 1  # its SubjectPublicKeyInfo, DER


class TlsaMatchingType(IntEnum):
    FULL = 0
    SHA256 = 1
    SHA512 = 2


_DIGEST_LENGTH = {TlsaMatchingType.SHA256: 32, TlsaMatchingType.SHA512: 64}
_NUMBER = re.compile(r"[0-9]{1,3}")
_HEX = re.compile(r"[0-9A-Fa-f]*")


@dataclass(frozen=True)
class TlsaRecord:
    usage: int  # TlsaUsage value, or a number no RFC defines (kept: the record is unusable)
    selector: int
    matching_type: int
    data: bytes  # certificate association data

    @property
    def unusable_reason(self) -> str | None:
        """Why RFC 7672 §3.1.3 makes SMTP clients ignore this record, or None if usable."""
        if self.usage in (TlsaUsage.PKIX_TA, TlsaUsage.PKIX_EE):
            name = "PKIX-TA" if self.usage == TlsaUsage.PKIX_TA else "PKIX-EE"
            return f"usage {self.usage} ({name}) is unusable for SMTP (RFC 7672 §3.1.3)"
        if self.usage not in (TlsaUsage.DANE_TA, TlsaUsage.DANE_EE):
            return f"usage {self.usage} is not defined"
        if self.selector not in (0, 1):
            return f"selector {self.selector} is not defined"
        if self.matching_type not in (0, 1, 2):
            return f"matching type {self.matching_type} is not defined"
        return None

    @property
    def smtp_usable(self) -> bool:
        return self.unusable_reason is None

    def to_text(self) -> str:
        return f"{self.usage} {self.selector} {self.matching_type} {self.data.hex().upper()}"


def tlsa_from_fields(usage: int, selector: int, matching_type: int, data: bytes) -> TlsaRecord:
    """A record from its four RDATA fields; raise RecordSyntaxError (position 0) when a
    number is outside 0–255 or the data length does not fit the matching type."""
    for name, value in (("usage", usage), ("selector", selector), ("matching type", matching_type)):
        if not 0 <= value <= 255:
            raise RecordSyntaxError(f"{name} {value} is outside 0-255", 0)
    _check_length(matching_type, len(data), 0)
    return TlsaRecord(usage, selector, matching_type, bytes(data))


def _check_length(matching_type: int, length: int, position: int) -> None:
    expected = _DIGEST_LENGTH.get(matching_type)  # type: ignore[call-overload]
    if expected is not None and length != expected:
        kind = TlsaMatchingType(matching_type).name.replace("SHA", "SHA-")
        raise RecordSyntaxError(
            f"matching type {matching_type} ({kind}) needs {expected} bytes of data, "
            f"the record has {length}",
            position,
        )
    if length == 0:
        raise RecordSyntaxError("certificate association data is empty", position)


def tlsa_from_rdata(rdata: bytes) -> TlsaRecord:
    """A record from wire RDATA (three octets, then the association data)."""
    if len(rdata) < 3:
        raise RecordSyntaxError(f"TLSA RDATA is {len(rdata)} bytes, at least 4 are needed", 0)
    return tlsa_from_fields(rdata[0], rdata[1], rdata[2], rdata[3:])


def parse_tlsa(text: str) -> TlsaRecord:
    """A record from presentation text; raise RecordSyntaxError(message, position)."""
    tokens = [(m.group(), m.start()) for m in re.finditer(r"\S+", text)]
    if tokens and tokens[0][0] == "\\#":
        return _parse_generic(tokens, len(text))
    if len(tokens) < 4:
        raise RecordSyntaxError(
            "a TLSA record is 'usage selector matching-type data' (e.g. '3 1 1 <hex>')",
            len(text),
        )
    numbers = []
    for (token, position), name in zip(
        tokens[:3], ("usage", "selector", "matching type"), strict=True
    ):
        if not _NUMBER.fullmatch(token) or int(token) > 255:
            raise RecordSyntaxError(f"{name} must be a number 0-255, not {token[:20]!r}", position)
        numbers.append(int(token))
    data = _hex(tokens[3:])
    _check_length(numbers[2], len(data), tokens[3][1])
    return TlsaRecord(numbers[0], numbers[1], numbers[2], data)


def _hex(tokens: list[tuple[str, int]]) -> bytes:
    for token, position in tokens:
        bad = _HEX.match(token)
        if bad is not None and bad.end() != len(token):
            raise RecordSyntaxError(
                f"{token[bad.end()]!r} is not a hexadecimal digit", position + bad.end()
            )
    digits = "".join(token for token, _ in tokens)
    if len(digits) % 2:
        raise RecordSyntaxError(
            "odd number of hexadecimal digits", tokens[-1][1] + len(tokens[-1][0])
        )
    return bytes.fromhex(digits)


def _parse_generic(tokens: list[tuple[str, int]], end: int) -> TlsaRecord:
    if len(tokens) < 2 or not tokens[1][0].isascii() or not tokens[1][0].isdigit():
        raise RecordSyntaxError(
            "'\\#' must be followed by the RDATA length", end if len(tokens) < 2 else tokens[1][1]
        )
    length = int(tokens[1][0])
    data = _hex(tokens[2:]) if len(tokens) > 2 else b""
    if len(data) != length:
        raise RecordSyntaxError(f"'\\#' says {length} bytes, the hex has {len(data)}", tokens[1][1])
    try:
        return tlsa_from_rdata(data)
    except RecordSyntaxError as exc:
        raise RecordSyntaxError(exc.message, tokens[2][1] if len(tokens) > 2 else end) from None


@dataclass(frozen=True)
class TlsaMatch:
    record_index: int  # into the records given
    record: TlsaRecord
    certificate_index: int  # into the chain: 0 is the leaf
    # DANE-TA only: a path of issuer signatures leads from the leaf to this certificate
    # within the presented chain; None for DANE-EE
    issued_path: bool | None = None


@dataclass(frozen=True)
class TlsaMatchResult:
    matches: tuple[TlsaMatch, ...]
    usable_records: tuple[int, ...]  # indices of records usable for SMTP; () = no DANE
    unusable_records: tuple[tuple[int, str], ...]  # (index, reason) of records ignored
    unreadable_certificates: tuple[int, ...] = ()  # chain entries that are not X.509 DER
    certificates_not_checked: int = 0  # entries past max_certificates

    @property
    def authenticated(self) -> bool:
        """A DANE-EE match, or a DANE-TA match with an issuer path from the leaf (dates and
        names not considered: see the module docstring)."""
        return any(m.issued_path is not False for m in self.matches)


class _Certificate:
    """One chain entry, parsed once, its digests computed on first use."""

    def __init__(self, der: bytes) -> None:
        self.der = bytes(der)
        self.cert: x509.Certificate | None
        self.spki: bytes | None
        try:
            self.cert = x509.load_der_x509_certificate(self.der)
            self.spki = _spki_bytes(self.cert)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            self.cert, self.spki = None, None
        self._digests: dict[tuple[int, int], bytes] = {}

    def association(self, selector: int, matching_type: int) -> bytes | None:
        key = (selector, matching_type)
        if key not in self._digests:
            body = self.der if selector == TlsaSelector.CERT else self.spki
            if body is None:
                return None
            if matching_type == TlsaMatchingType.SHA256:
                body = hashlib.sha256(body).digest()
            elif matching_type == TlsaMatchingType.SHA512:
                body = hashlib.sha512(body).digest()
            self._digests[key] = body
        return self._digests[key]


def _tlv(data: bytes, at: int) -> tuple[int, int] | None:
    """(start of the value, end of the element) of the DER element at `at`."""
    if at + 2 > len(data):
        return None
    length, start = data[at + 1], at + 2
    if length & 0x80:
        size = length & 0x7F
        if not 0 < size <= 4 or start + size > len(data):
            return None
        length, start = int.from_bytes(data[start : start + size], "big"), start + size
    return (start, start + length) if start + length <= len(data) else None


def _spki_bytes(cert: x509.Certificate) -> bytes:
    """The SubjectPublicKeyInfo exactly as encoded in the certificate: tbsCertificate is
    SEQUENCE { [0] version OPTIONAL, serial, signature, issuer, validity, subject, spki, … }."""
    tbs = cert.tbs_certificate_bytes
    outer = _tlv(tbs, 0)
    at = outer[0] if outer is not None and tbs[0] == 0x30 else None
    if at is not None and at < len(tbs) and tbs[at] == 0xA0:
        element = _tlv(tbs, at)
        at = element[1] if element is not None else None
    for _ in range(5):
        element = _tlv(tbs, at) if at is not None else None
        at = element[1] if element is not None else None
    element = _tlv(tbs, at) if at is not None else None
    if at is not None and element is not None and tbs[at] == 0x30:
        return tbs[at : element[1]]
    return cert.public_key().public_bytes(  # not reached for DER the library accepted
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    if child.issuer != issuer.subject:
        return False
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _issuer_path(certs: list[_Certificate], target: int) -> bool:
    """Whether issuer signatures lead from the leaf to `target` within the presented chain
    (in any order: TLS 1.3 lets servers send extra or unordered certificates). Each pair is
    verified at most once."""
    parsed = [c.cert for c in certs]
    if parsed[0] is None or parsed[target] is None:
        return False
    reached, frontier = {0}, [0]
    while frontier:
        current = frontier.pop()
        child = parsed[current]
        for index, issuer in enumerate(parsed):
            if index in reached or issuer is None or child is None:
                continue
            if _issued_by(child, issuer):
                if index == target:
                    return True
                reached.add(index)
                frontier.append(index)
    return False


def tlsa_matches(
    records: Sequence[TlsaRecord],
    chain_der: Sequence[bytes],
    *,
    max_certificates: int = ProbeLimits().max_chain_certificates,
) -> TlsaMatchResult:
    """Which usable records match which presented certificates (RFC 7672 §3.1)."""
    certs = [_Certificate(der) for der in chain_der[:max_certificates]]
    usable: list[int] = []
    unusable: list[tuple[int, str]] = []
    matches: list[TlsaMatch] = []
    paths: dict[int, bool] = {}
    for index, record in enumerate(records):
        reason = record.unusable_reason
        if reason is not None:
            unusable.append((index, reason))
            continue
        usable.append(index)
        candidates = range(1) if record.usage == TlsaUsage.DANE_EE else range(1, len(certs))
        for cert_index in candidates:
            if cert_index >= len(certs):
                continue
            if certs[cert_index].association(record.selector, record.matching_type) != record.data:
                continue
            path: bool | None = None
            if record.usage == TlsaUsage.DANE_TA:
                if cert_index not in paths:
                    paths[cert_index] = _issuer_path(certs, cert_index)
                path = paths[cert_index]
            matches.append(TlsaMatch(index, record, cert_index, path))
    return TlsaMatchResult(
        matches=tuple(matches),
        usable_records=tuple(usable),
        unusable_records=tuple(unusable),
        unreadable_certificates=tuple(i for i, c in enumerate(certs) if c.cert is None),
        certificates_not_checked=max(0, len(chain_der) - max_certificates),
    )


def association_data(der: bytes, selector: int, matching_type: int) -> bytes | None:
    """The association data a record with these parameters needs to match this certificate
    (e.g. selector 1, matching type 1: SHA-256 of its SubjectPublicKeyInfo as encoded in
    it); None when the DER is not a certificate or the parameters are not defined."""
    if selector not in (0, 1) or matching_type not in (0, 1, 2):
        return None
    return _Certificate(der).association(selector, matching_type)
