"""Verify every DKIM-Signature of a message (RFC 6376 §6, RFC 8301, RFC 8463), not only the
first, and say for each why it passed or failed.

dkimpy does the cryptography. It folds several distinct outcomes into `False` (no key, a
revoked key, a DNS timeout), so the key record is fetched here, through our resolver, and
judged first: a timeout is `temperror`, a missing or revoked key `permerror`, and only then
does dkimpy get the key text (from memory, no second lookup) to check the hashes. The RFC 8601
result values follow RFC 6376 §6.1: a bad signature or body hash is `fail`, an expired
signature is `fail` (PERMFAIL, "signature expired"), a signature or key that cannot be used is
`permerror`, a DNS failure `temperror`.

A message is written by a stranger, so every dkimpy call is guarded: dkimpy signals bad input
with `DKIMException`, but on hostile bytes it can also raise `ValueError`, `IndexError`,
`TypeError`, `KeyError` or `UnicodeError`; each becomes a `permerror` for that signature.
The work is bounded too (`bounds`): a key too large or with a large exponent is `permerror`
without arithmetic, and signatures past `max_dkim_signatures` or past the message's time
budget are `policy` ("not verified"). dkimpy is handed the message parsed once
(`headers.parse_message`), never the raw bytes it would parse again per signature.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable

import dkim
from dkim.util import InvalidTagValueList, parse_tag_value

from ..errors import ResolverError
from ..options import MessageLimits
from ..records.dkim import looks_like_dkim_key, parse_dkim_key
from ..records.errors import RecordSyntaxError
from .bounds import Deadline, inappropriate_hash, inappropriate_key_type, unacceptable_key
from .dnsbridge import SyncDns
from .headers import ParsedMessage
from .model import AuthResult, BodyHashResult, DkimSignatureResult

__all__ = [
    "MIN_KEY_BITS",
    "dkim_signature_headers",
    "dkimpy_verifier",
    "verify_dkim_signatures",
]

MIN_KEY_BITS = 1024  # RFC 8301 §3.2: verifiers must not accept shorter RSA keys
# what dkimpy raises on hostile input besides its own DKIMException
LIBRARY_ERRORS = (
    dkim.DKIMException,
    ValueError,
    IndexError,
    TypeError,
    KeyError,
    UnicodeError,
    binascii.Error,
)
_NAME_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def dkim_signature_headers(headers: list[tuple[bytes, bytes]]) -> list[bytes]:
    return [value for name, value in headers if name.lower() == b"dkim-signature"]


def _text(value: bytes | None) -> str | None:
    if value is None:
        return None
    return re.sub(r"\s+", "", value.decode("utf-8", "replace"))


def _int(value: bytes | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    return int(text) if text.isdigit() and len(text) <= 20 else None


def _valid_name(name: str) -> bool:
    labels = name.split(".")
    return len(name) <= 253 and all(_NAME_LABEL.fullmatch(label) for label in labels)


class _Builder:
    """Collects one signature's facts while verification proceeds."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.tags: dict[bytes, bytes] = {}
        self.key_record_name: str | None = None
        self.key_record: str | None = None
        self.key_type: str | None = None
        self.key_bits: int | None = None

    def result(
        self,
        result: AuthResult,
        reason: str | None,
        body_hash: BodyHashResult = BodyHashResult.NOT_CHECKED,
    ) -> DkimSignatureResult:
        tags = self.tags
        headers = tuple(
            h.strip().lower() for h in (_text(tags.get(b"h")) or "").split(":") if h.strip()
        )
        b_value = _text(tags.get(b"b"))
        return DkimSignatureResult(
            index=self.index,
            result=result,
            reason=reason,
            domain=(_text(tags.get(b"d")) or "").lower() or None,
            selector=_text(tags.get(b"s")),
            algorithm=_text(tags.get(b"a")),
            canonicalization=_text(tags.get(b"c")) or ("simple/simple" if tags else None),
            identity=_text(tags.get(b"i")),
            signed_headers=headers,
            body_length=_int(tags.get(b"l")),
            timestamp=_int(tags.get(b"t")),
            expiration=_int(tags.get(b"x")),
            key_record_name=self.key_record_name,
            key_record=self.key_record,
            key_type=self.key_type,
            key_bits=self.key_bits,
            body_hash=body_hash,
            covers_from="from" in headers,
            header_b=b_value[:8] if b_value else None,
        )


def verify_dkim_signatures(
    message: ParsedMessage,
    dns: SyncDns,
    *,
    min_key_bits: int = MIN_KEY_BITS,
    limits: MessageLimits | None = None,
    deadline: Deadline | None = None,
) -> tuple[DkimSignatureResult, ...]:
    """One result per DKIM-Signature header, topmost first. Never raises for bad input;
    ResolverErrors become temperror results. Blocking: run it in a worker thread."""
    lim = limits or MessageLimits()
    budget = deadline or Deadline(lim.verify_seconds)
    values = dkim_signature_headers(message.header_pairs())
    out = []
    for index, value in enumerate(values):
        skip = None
        if index >= lim.max_dkim_signatures:
            skip = (
                f"not verified: only the first {lim.max_dkim_signatures} signatures of a "
                "message are verified"
            )
        elif budget.expired():
            skip = (
                f"not verified: the message's verification time budget of "
                f"{budget.seconds:g} s was spent"
            )
        out.append(_verify_one(message, index, value, dns, min_key_bits, lim, skip))
    return tuple(out)


def _verify_one(
    message: ParsedMessage,
    index: int,
    value: bytes,
    dns: SyncDns,
    min_key_bits: int,
    limits: MessageLimits,
    skip: str | None,
) -> DkimSignatureResult:
    b = _Builder(index)
    try:
        b.tags = parse_tag_value(value)
    except (InvalidTagValueList, *LIBRARY_ERRORS) as exc:
        return b.result(AuthResult.PERMERROR, f"signature is not a tag list: {exc}")
    if skip is not None:  # RFC 8601 §2.7.1 "policy": signed, but not accepted for checking
        return b.result(AuthResult.POLICY, skip)
    try:
        dkim.validate_signature_fields(b.tags)
    except dkim.ValidationError as exc:
        reason = str(exc)
        if reason.startswith("x= value is past"):
            return b.result(AuthResult.FAIL, "signature expired")
        return b.result(AuthResult.PERMERROR, f"invalid signature: {reason}")
    except LIBRARY_ERRORS as exc:
        return b.result(AuthResult.PERMERROR, f"invalid signature: {exc}")

    domain = (_text(b.tags.get(b"d")) or "").lower().rstrip(".")
    selector = (_text(b.tags.get(b"s")) or "").lower()
    name = f"{selector}._domainkey.{domain}"
    if not _valid_name(name):
        return b.result(AuthResult.PERMERROR, "d= or s= is not a valid domain name")
    b.key_record_name = name
    try:
        records = dns.txt(name)
    except ResolverError as exc:
        return b.result(AuthResult.TEMPERROR, f"key lookup failed: {exc}")
    texts = [r.decode("utf-8", "replace") for r in records]
    keys = [t for t in texts if looks_like_dkim_key(t)]
    if not keys:
        return b.result(AuthResult.PERMERROR, f"no key for signature at {name}")
    key_text = keys[0]
    b.key_record = key_text
    try:
        key = parse_dkim_key(key_text)
    except RecordSyntaxError as exc:
        return b.result(AuthResult.PERMERROR, f"key record syntax error: {exc.message}")
    b.key_type = key.key_type
    b.key_bits = key.key_bits
    algorithm = _text(b.tags.get(b"a"))
    wrong_hash = inappropriate_hash(algorithm, key.hash_algorithms)
    if wrong_hash is not None:
        return b.result(AuthResult.PERMERROR, wrong_hash)
    if key.revoked:
        return b.result(AuthResult.PERMERROR, "key revoked (empty p=)")
    wrong_type = inappropriate_key_type(algorithm, key.key_type)
    if wrong_type is not None:
        return b.result(AuthResult.PERMERROR, wrong_type)
    if key.key_error is not None:
        return b.result(AuthResult.PERMERROR, f"unusable key: {key.key_error}")
    if key.key_type == "rsa" and key.key_bits is not None and key.key_bits < min_key_bits:
        return b.result(
            AuthResult.PERMERROR, f"RSA key of {key.key_bits} bits is below {min_key_bits}"
        )
    refused = unacceptable_key(key_text.encode("utf-8"), limits)
    if refused is not None:
        return b.result(AuthResult.PERMERROR, refused)
    return _crypto(message, index, key_text.encode("utf-8"), b, min_key_bits)


def dkimpy_verifier(verifier: dkim.DomainSigner, message: ParsedMessage) -> None:
    """Give dkimpy's DKIM or ARC object the parsed message instead of raw bytes to parse."""
    verifier.headers = message.headers
    verifier.body = message.body


def _crypto(
    message: ParsedMessage, index: int, key_text: bytes, b: _Builder, min_key_bits: int
) -> DkimSignatureResult:
    dnsfunc: Callable[..., bytes] = lambda _name, timeout=5: key_text  # noqa: E731
    try:
        verifier = dkim.DKIM(minkey=min_key_bits)
        dkimpy_verifier(verifier, message)
        ok = verifier.verify(idx=index, dnsfunc=dnsfunc)
    except dkim.ValidationError as exc:
        if "body hash mismatch" in str(exc):
            return b.result(AuthResult.FAIL, "body hash mismatch", BodyHashResult.FAIL)
        return b.result(AuthResult.PERMERROR, f"invalid signature: {exc}")
    except LIBRARY_ERRORS as exc:
        return b.result(AuthResult.PERMERROR, f"cannot verify: {exc}")
    if ok:
        return b.result(AuthResult.PASS, None, BodyHashResult.PASS)
    return b.result(
        AuthResult.FAIL,
        "signature did not verify (headers changed or wrong key)",
        BodyHashResult.PASS,
    )
