"""DKIM key records (RFC 6376 §3.6.1, RFC 8301, RFC 8463): text in, `DkimKeyRecord` out.

Pure: no I/O. Grammar errors raise `RecordSyntaxError` with the offset of the offending text.
A record whose *grammar* is right but whose key is not (corrupt base64 payload, a truncated
RSA key, an ed25519 key of the wrong length) parses: the problem goes into `key_error`,
because that is a fact about the key a report should show next to the rest of the record,
not a reason to throw the record away.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ..fastinit import fast_init
from .errors import RecordSyntaxError

KNOWN_KEY_TYPES: tuple[str, ...] = ("rsa", "ed25519")
KNOWN_HASH_ALGORITHMS: tuple[str, ...] = ("sha1", "sha256")

_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# VALCHAR = %x21-3A / %x3C-7E, runs separated by folding whitespace (RFC 6376 §3.2)
_BAD_VALUE_CHAR = re.compile(r"[^\x21-\x3a\x3c-\x7e \t\r\n]")
_WS = " \t\r\n"
_BASE64_BODY = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_DKIM_HINT = re.compile(r"(?:^|;)[ \t\r\n]*(?:p|k)[ \t\r\n]*=")
_DKIM_VERSION_HINT = re.compile(r"^[ \t\r\n]*v[ \t\r\n]*=[ \t\r\n]*dkim", re.IGNORECASE)
_OTHER_VERSION = re.compile(r"^[ \t\r\n]*v[ \t\r\n]*=", re.IGNORECASE)


@fast_init
@dataclass(frozen=True)
class DkimKeyRecord:
    """One parsed DKIM key record: what a verifier would see at `<selector>._domainkey`."""

    version: str | None  # "DKIM1", or None when the record has no v= tag
    key_type: str  # k= lowercased; "rsa" when absent; may be a type we do not know
    public_key_b64: str  # p= without the whitespace folding; "" when revoked
    revoked: bool  # p= is empty (RFC 6376 §3.6.1: the key was revoked)
    key_bits: int | None  # RSA modulus size or 256 for ed25519; None if revoked/unknown/corrupt
    key_format: str | None  # "spki", "pkcs1" (bare RSAPublicKey) or "raw" (ed25519); as key_bits
    hash_algorithms: tuple[str, ...]  # h= lowercased; () when absent, meaning any
    service_types: tuple[str, ...]  # s= lowercased; () when absent, meaning "*"
    flags: tuple[str, ...]  # t= lowercased, unknown flags kept as published
    testing: bool  # t=y
    strict_subdomains: bool  # t=s: the i= domain must equal d=, no subdomains
    key_error: str | None  # set when p= is well-formed base64 but not a usable key of key_type
    notes: str | None  # n=, as published
    unknown_tags: tuple[str, ...] = ()  # tag names a verifier ignores (a typo shows up here)
    rsa_exponent: int | None = None  # RSA keys read from DER: the public exponent

    @property
    def key_type_known(self) -> bool:
        return self.key_type in KNOWN_KEY_TYPES


def looks_like_dkim_key(text: str) -> bool:
    """Whether a TXT record is *meant* as a DKIM key record (then its errors matter).

    Selector names are guessed, and wildcards or unrelated TXT records answer at them too:
    those are not broken DKIM keys. A record that starts with `v=DKIM…`, or that does not
    start with some other `v=` and has a `p=` or `k=` tag, is taken as a DKIM key attempt.
    """
    if _DKIM_VERSION_HINT.match(text):
        return True
    if _OTHER_VERSION.match(text):
        return False
    return _DKIM_HINT.search(text) is not None


def _split_tags(text: str) -> list[tuple[str, str, int, int]]:
    """(name, value, name position, value position) for each tag-spec, in order."""
    tags: list[tuple[str, str, int, int]] = []
    start = 0
    for segment in text.split(";"):
        seg_start = start
        start += len(segment) + 1
        if not segment.strip(_WS):
            continue  # empty tag-specs: common (";;", trailing ";") and harmless to verifiers
        eq = segment.find("=")
        lead = len(segment) - len(segment.lstrip(_WS))
        if eq < 0:
            raise RecordSyntaxError(
                f"tag {segment.strip(_WS)[:40]!r} has no '=' (expected name=value)",
                seg_start + lead,
            )
        name = segment[:eq].strip(_WS)
        if not _TAG_NAME.fullmatch(name):
            shown = name[:40] if name else "(empty)"
            raise RecordSyntaxError(f"invalid tag name {shown!r}", seg_start + lead)
        raw_value = segment[eq + 1 :]
        bad = _BAD_VALUE_CHAR.search(raw_value)
        if bad is not None:
            raise RecordSyntaxError(
                f"character {bad.group()!r} is not allowed in the value of tag {name!r}",
                seg_start + eq + 1 + bad.start(),
            )
        value_lead = len(raw_value) - len(raw_value.lstrip(_WS))
        tags.append((name, raw_value.strip(_WS), seg_start + lead, seg_start + eq + 1 + value_lead))
    return tags


def _colon_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip(_WS).lower() for item in value.split(":") if item.strip(_WS))


def parse_dkim_key(text: str) -> DkimKeyRecord:
    """Parse a DKIM key record; raise RecordSyntaxError(message, position) on bad grammar."""
    tags = _split_tags(text)
    seen: dict[str, tuple[str, int]] = {}
    for index, (name, value, name_pos, value_pos) in enumerate(tags):
        if name in seen:
            raise RecordSyntaxError(f"duplicate tag {name!r} (RFC 6376 §3.2)", name_pos)
        if name == "v":
            if index != 0:
                raise RecordSyntaxError("v= must be the first tag of the record", name_pos)
            if value != "DKIM1":
                raise RecordSyntaxError(f"v= must be 'DKIM1', not {value[:40]!r}", value_pos)
        seen[name] = (value, value_pos)
    if "p" not in seen:
        raise RecordSyntaxError("missing required p= tag (the public key)", len(text))

    key_type = seen["k"][0].lower() if "k" in seen else "rsa"
    p_value, p_pos = seen["p"]
    public_key_b64 = "".join(p_value.split())
    if not _BASE64_BODY.fullmatch(public_key_b64):
        raise RecordSyntaxError(
            "p= is not base64 (bad character or misplaced '=')",
            p_pos + _base64_error_offset(p_value),
        )

    revoked = public_key_b64 == ""
    key_bits: int | None = None
    key_format: str | None = None
    key_error: str | None = None
    exponent: int | None = None
    if not revoked and key_type in KNOWN_KEY_TYPES:
        key_bits, key_format, key_error, exponent = _analyse_key(key_type, public_key_b64)

    flags = _colon_list(seen["t"][0]) if "t" in seen else ()
    known_tags = {"v", "k", "p", "h", "s", "t", "n"}
    return DkimKeyRecord(
        version=seen["v"][0] if "v" in seen else None,
        key_type=key_type,
        public_key_b64=public_key_b64,
        revoked=revoked,
        key_bits=key_bits,
        key_format=key_format,
        hash_algorithms=_colon_list(seen["h"][0]) if "h" in seen else (),
        service_types=_colon_list(seen["s"][0]) if "s" in seen else (),
        flags=flags,
        testing="y" in flags,
        strict_subdomains="s" in flags,
        key_error=key_error,
        notes=seen["n"][0] if "n" in seen else None,
        unknown_tags=tuple(name for name, *_ in tags if name not in known_tags),
        rsa_exponent=exponent,
    )


def _base64_error_offset(value: str) -> int:
    """Offset in p= of what breaks base64: a bad character, or '=' padding not at the end."""
    first_pad = -1
    padding = 0
    for i, ch in enumerate(value):
        if ch in _WS:
            continue
        if ch == "=":
            first_pad = i if padding == 0 else first_pad
            padding += 1
            if padding > 2:
                return i
            continue
        if padding:
            return first_pad
        if not (ch.isascii() and (ch.isalnum() or ch in "+/")):
            return i
    return 0


_Analysis = tuple[int | None, str | None, str | None, int | None]


def _analyse_key(key_type: str, b64: str) -> _Analysis:
    """(bits, format, error, RSA exponent) of the key in p=. Never raises: a bad key is a
    finding."""
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        error = (
            f"p= base64 is incomplete ({len(b64)} characters, not a multiple of 4): "
            "the key looks truncated or unpadded"
        )
        return None, None, error, None
    if key_type == "ed25519":
        return (*_analyse_ed25519(data), None)
    return _analyse_rsa(data)


# OpenSSL refuses to verify with RSA moduli over 16,384 bits, and even exponents (1 and 2
# included) or exponents over 64 bits are not what any signer makes: such keys are measured
# by the DER reader below and judged by the check, never handed to the crypto library
# (which refuses some of them as "corrupt", and whose work on a hostile 390,000-bit modulus
# is not ours to bound).
LIBRARY_MAX_RSA_BITS = 16384
_RSA_OID = bytes.fromhex("2a864886f70d010101")


def _analyse_rsa(data: bytes) -> _Analysis:
    # RFC 6376 §3.6.1 names RSAPublicKey, but practice (and RFC 6376's own examples) is
    # SubjectPublicKeyInfo; verifiers accept both, so both are fine here.
    read = read_rsa_der(data)
    if read is not None:
        bits, exponent, key_format = read
        if bits > LIBRARY_MAX_RSA_BITS or exponent.bit_length() > 64 or exponent % 2 == 0:
            return bits, key_format, None, exponent
    try:
        key = serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm, TypeError):
        error = f"p= ({len(data)} bytes) is not a DER-encoded RSA public key: corrupt or truncated"
        return None, None, error, None
    if not isinstance(key, rsa.RSAPublicKey):
        kind = type(key).__name__.removesuffix("PublicKey") or "non-RSA"
        return None, None, f"p= holds a {kind} key, but the record says k=rsa", None
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    numbers = key.public_numbers()
    return key.key_size, ("spki" if data == spki else "pkcs1"), None, numbers.e


def _der(data: bytes, at: int, tag: int) -> tuple[bytes, int] | None:
    """The value of the DER element with `tag` at `at`, and the offset after it."""
    if at + 2 > len(data) or data[at] != tag:
        return None
    length, at = data[at + 1], at + 2
    if length & 0x80:
        size = length & 0x7F
        if not 0 < size <= 4 or at + size > len(data):
            return None
        length, at = int.from_bytes(data[at : at + size], "big"), at + size
    if at + length > len(data):
        return None
    return data[at : at + length], at + length


def _rsa_public_key(body: bytes) -> tuple[int, int] | None:
    """(modulus bits, exponent) of an RSAPublicKey SEQUENCE's contents."""
    modulus = _der(body, 0, 0x02)
    exponent = _der(body, modulus[1], 0x02) if modulus else None
    if modulus is None or exponent is None or exponent[1] != len(body):
        return None
    n = int.from_bytes(modulus[0], "big", signed=True)
    e = int.from_bytes(exponent[0], "big", signed=True)
    return (n.bit_length(), e) if n > 0 and e > 0 else None


def read_rsa_der(data: bytes) -> tuple[int, int, str] | None:
    """(modulus bits, exponent, "spki" or "pkcs1") of a DER RSA public key, or None when it
    is not one. Linear in the input and no arithmetic on the numbers, whatever their size."""
    outer = _der(data, 0, 0x30)
    if outer is None or outer[1] != len(data):
        return None
    body = outer[0]
    bare = _rsa_public_key(body)
    if bare is not None:
        return (*bare, "pkcs1")
    algorithm = _der(body, 0, 0x30)
    if algorithm is None or _der(algorithm[0], 0, 0x06) != (_RSA_OID, len(_RSA_OID) + 2):
        return None
    bitstring = _der(body, algorithm[1], 0x03)
    if bitstring is None or bitstring[1] != len(body) or bitstring[0][:1] != b"\x00":
        return None
    inner = _der(bitstring[0], 1, 0x30)
    if inner is None or inner[1] != len(bitstring[0]):
        return None
    key = _rsa_public_key(inner[0])
    return (*key, "spki") if key is not None else None


def _analyse_ed25519(data: bytes) -> tuple[int | None, str | None, str | None]:
    if len(data) == 32:
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(data)
        except ValueError:
            return None, None, "p= is 32 bytes but not a valid ed25519 public key"
        return 256, "raw", None
    try:
        wrapped = serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm, TypeError):
        wrapped = None
    if isinstance(wrapped, ed25519.Ed25519PublicKey):
        error = (
            "ed25519 key is wrapped in SubjectPublicKeyInfo; RFC 8463 §4 wants the bare "
            "32-byte key in p="
        )
        return None, None, error
    return None, None, f"ed25519 key must be exactly 32 bytes, p= decodes to {len(data)}"
