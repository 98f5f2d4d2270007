"""What keeps one message's verification bounded: a key check made before any arithmetic,
and a time budget shared by every signature and ARC set of the message.

dkimpy verifies RSA with Python's `pow`, which holds the GIL for as long as it runs: a
16,384-bit modulus with a 16,383-bit exponent costs seconds, and no worker thread shields the
event loop from that. So the key record is judged first, on the numbers dkimpy itself would
use (its own parse of the record, bounded in length first):
a modulus over `max_rsa_key_bits` (RFC 8301 §3.2 asks verifiers for 1024 to 4096) or an
exponent that is not a small odd number is "key not acceptable", and dkimpy never sees it.
The check runs inside the DNS function handed to dkimpy, so it sees exactly the record dkimpy
is about to use, for DKIM signatures and ARC sets alike.
"""

from __future__ import annotations

import binascii
import time

from dkim import DKIMException, evaluate_pk

from ..options import MessageLimits

__all__ = ["Deadline", "inappropriate_hash", "inappropriate_key_type", "unacceptable_key"]

_PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, UnicodeError, binascii.Error)


class Deadline:
    """The verification time budget of one message, checked between signatures."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def expired(self) -> bool:
        return time.monotonic() >= self._end


def unacceptable_key(record: bytes, limits: MessageLimits) -> str | None:
    """Why the key record `record` must not be used for verification, or None when it may
    (or when dkimpy will refuse it itself, without arithmetic, as unparsable)."""
    if len(record) > limits.max_key_record_bytes:  # before dkimpy's quadratic ASN.1 integers
        return (
            f"key not acceptable: key record of {len(record)} bytes is over "
            f"{limits.max_key_record_bytes}"
        )
    try:
        numbers, _bits, key_type, _tlsrpt = evaluate_pk(b"key", record)
    except (DKIMException, *_PARSE_ERRORS):
        return None
    if key_type != b"rsa":
        return None
    modulus, exponent = int(numbers["modulus"]), int(numbers["publicExponent"])
    if modulus.bit_length() > limits.max_rsa_key_bits:
        return (
            f"key not acceptable: RSA key of {modulus.bit_length()} bits is over "
            f"{limits.max_rsa_key_bits} (RFC 8301 §3.2)"
        )
    if exponent < 3 or exponent % 2 == 0 or exponent.bit_length() > limits.max_rsa_exponent_bits:
        shown = str(exponent) if exponent.bit_length() <= 64 else f"of {exponent.bit_length()} bits"
        return (
            f"key not acceptable: RSA public exponent {shown} is not a small odd number "
            "(65537 in practice)"
        )
    return None


def _algorithm_parts(algorithm: str | None) -> tuple[str, str]:
    """("rsa", "sha256") from a= "rsa-sha256"; lower case, empty parts when absent."""
    key, _, digest = (algorithm or "").strip().lower().partition("-")
    return key, digest


def inappropriate_hash(algorithm: str | None, hash_algorithms: tuple[str, ...]) -> str | None:
    """RFC 6376 §6.1.2 step 6: a key record with h= may only verify signatures made with one
    of the hashes it lists; otherwise it is ignored (PERMFAIL "inappropriate hash
    algorithm"). dkimpy does not look at h=, so without this such a key would verify."""
    _key, digest = _algorithm_parts(algorithm)
    allowed = [h.strip().lower() for h in hash_algorithms if h.strip()]
    if not allowed or not digest or digest in allowed:
        return None
    return (
        f"inappropriate hash algorithm: the signature uses {digest} (a={algorithm}), the key "
        f"record allows only h={':'.join(allowed)} (RFC 6376 §6.1.2)"
    )


def inappropriate_key_type(algorithm: str | None, key_type: str) -> str | None:
    """RFC 6376 §6.1.2 step 8: a key whose k= is not the algorithm of the signature's a= is
    ignored (PERMFAIL "inappropriate key algorithm"). Checked before the key bytes are read,
    so the answer is this, not a parse error of the bytes under the wrong type, and never the
    "signature did not verify" dkimpy gives for an ed25519 signature against an RSA key."""
    sig_key, _digest = _algorithm_parts(algorithm)
    if not sig_key or sig_key == key_type.strip().lower():
        return None
    return (
        f"inappropriate key algorithm: the signature is {sig_key} (a={algorithm}) but the key "
        f"record says k={key_type} (RFC 6376 §6.1.2)"
    )
