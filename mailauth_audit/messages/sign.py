"""DKIM-sign a message with dkimpy (RFC 6376; RFC 8463 for ed25519-sha256).

Signing is pure given the key: RSA PKCS#1 v1.5 and ed25519 signatures are deterministic.
The one input from outside is the t= timestamp, which dkimpy reads from the system clock.

What is signed, and why:
- c=relaxed/relaxed: survives the header refolding and trailing-space changes that relays do.
- From is *oversigned* (listed once more than it occurs), so a second From added in transit
  breaks the signature instead of being displayed (RFC 6376 §8.15).
- List-Unsubscribe and List-Unsubscribe-Post are covered, and oversigned for the same
  reason: RFC 8058 §4 requires a valid DKIM signature covering both for one-click
  unsubscribe to be honoured.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from enum import StrEnum

import dkim
from cryptography.hazmat.primitives import serialization

from ..errors import MailauthAuditError
from .keys import DkimKeyType, DkimPrivateKey


class SigningError(MailauthAuditError, ValueError):
    """dkimpy refused to sign (a malformed message or a key it cannot use)."""


class DkimAlgorithm(StrEnum):
    RSA_SHA256 = "rsa-sha256"
    ED25519_SHA256 = "ed25519-sha256"


CANONICALIZATION = "relaxed/relaxed"

# Headers worth covering when present, in the order RFC 6376 §5.4.1 suggests.
SIGNED_HEADERS: tuple[str, ...] = (
    "from",
    "reply-to",
    "sender",
    "subject",
    "date",
    "message-id",
    "to",
    "cc",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-id",
    "in-reply-to",
    "references",
)
# Signed once more than they occur: an added instance then breaks the signature.
OVERSIGNED_HEADERS: tuple[str, ...] = ("from", "list-unsubscribe", "list-unsubscribe-post")


@dataclass(frozen=True)
class DkimSignature:
    """The DKIM-Signature we added, with the tags a report wants to show."""

    header: str  # the complete "DKIM-Signature: ..." field, CRLF-folded, without final CRLF
    domain: str  # d=
    selector: str  # s=
    algorithm: DkimAlgorithm  # a=
    canonicalization: str  # c=
    signed_headers: tuple[str, ...]  # h=, in order, lowercased (oversigned names repeat)
    body_hash: str  # bh=
    timestamp: int | None  # t=


def algorithm_for(key: DkimPrivateKey) -> DkimAlgorithm:
    if key.key_type is DkimKeyType.ED25519:
        return DkimAlgorithm.ED25519_SHA256
    return DkimAlgorithm.RSA_SHA256


def _header_names(message: bytes) -> list[str]:
    names: list[str] = []
    for line in message.split(b"\n"):
        line = line.rstrip(b"\r")
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            continue
        name, sep, _ = line.partition(b":")
        if sep:
            names.append(name.strip().decode("ascii", "replace").lower())
    return names


def headers_to_sign(message: bytes) -> tuple[str, ...]:
    """The h= list for this message: each wanted header as many times as it occurs, plus
    one more for the oversigned ones (also when absent: then adding one breaks it)."""
    present = _header_names(message)
    out: list[str] = []
    for name in SIGNED_HEADERS:
        count = present.count(name)
        if name in OVERSIGNED_HEADERS and (count or name == "from"):
            count += 1
        out.extend([name] * count)
    return tuple(out)


def _dkimpy_key(key: DkimPrivateKey) -> bytes:
    """The key in the form dkimpy wants: PKCS#1 PEM for RSA, base64 of the 32-byte seed for
    ed25519 (dkimpy hands it to PyNaCl)."""
    if key.key_type is DkimKeyType.ED25519:
        seed = key.key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return base64.b64encode(seed)
    return key.private_pem()


def dkim_signature(
    message: bytes | str, key: DkimPrivateKey, *, domain: str, selector: str
) -> DkimSignature:
    """Compute the DKIM-Signature header for `message` (which must have CRLF or LF ends)."""
    data = message.encode("ascii") if isinstance(message, str) else message
    names = headers_to_sign(data)
    if "from" not in _header_names(data):
        raise SigningError("the message has no From header; DKIM must sign From (RFC 6376)")
    algorithm = algorithm_for(key)
    try:
        header = dkim.sign(
            data,
            selector.encode("ascii"),
            domain.encode("ascii"),
            _dkimpy_key(key),
            canonicalize=(b"relaxed", b"relaxed"),
            signature_algorithm=algorithm.value.encode("ascii"),
            include_headers=[n.encode("ascii") for n in names],
        )
    except dkim.DKIMException as exc:
        raise SigningError(f"dkimpy could not sign: {exc}") from None
    text = header.decode("ascii").rstrip("\r\n")
    tags = _tags(text.partition(":")[2])
    return DkimSignature(
        header=text,
        domain=tags.get("d", domain),
        selector=tags.get("s", selector),
        algorithm=algorithm,
        canonicalization=tags.get("c", CANONICALIZATION),
        signed_headers=tuple(h.strip().lower() for h in tags.get("h", "").split(":") if h),
        body_hash=tags.get("bh", ""),
        timestamp=int(tags["t"]) if tags.get("t", "").isdigit() else None,
    )


def _tags(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in value.split(";"):
        name, sep, val = part.partition("=")
        if sep:
            out[name.strip()] = "".join(val.split())
    return out


def sign_message(
    message: bytes | str, key: DkimPrivateKey, *, domain: str, selector: str
) -> tuple[bytes, DkimSignature]:
    """The message with its DKIM-Signature prepended, and the signature's facts."""
    data = message.encode("ascii") if isinstance(message, str) else message
    signature = dkim_signature(data, key, domain=domain, selector=selector)
    return signature.header.encode("ascii") + b"\r\n" + data, signature
