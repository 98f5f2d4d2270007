"""Hostile inputs for `verify` and `receive`: message builders and misbehaving SMTP clients
on loopback, for the tests in this folder (and for reproducing the attacks by hand).

Client addresses: Linux answers on all of 127.0.0.0/8, so a hostile client binds to
127.0.0.2 (or 127.0.0.N) and the well-behaved client keeps 127.0.0.1; per-address limits can
then be seen to hold for one without touching the other.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "messages"))

from dkim.canonicalization import Relaxed
from receive_helpers import InboxThread
from verify_helpers import DOMAIN, SELECTOR, free_port, message, rsa_key, sign, zone

__all__ = [
    "DOMAIN",
    "SELECTOR",
    "InboxThread",
    "banner_time",
    "der_rsa_public_key",
    "folded_subject_message",
    "free_port",
    "huge_key_der",
    "huge_key_signed",
    "key_txt_line",
    "message",
    "open_idle",
    "rsa_key",
    "sign",
    "zone",
]


# --- messages -------------------------------------------------------------------------------


def folded_subject_message(lines: int, piece: bytes = b"x") -> bytes:
    """A message whose Subject is folded over `lines` continuation lines."""
    head = b"\r\n".join(
        line
        for line in message().split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        if not line.startswith(b"Subject:")
    )
    folded = b"Subject: start" + b"".join(b"\r\n " + piece for _ in range(lines))
    return head + b"\r\n" + folded + b"\r\n\r\nbody\r\n"


def _der_int(n: int) -> bytes:
    raw = n.to_bytes(n.bit_length() // 8 + 1, "big")
    return b"\x02" + _der_len(len(raw)) + raw


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def der_rsa_public_key(modulus: int, exponent: int) -> bytes:
    """SubjectPublicKeyInfo of an RSA key, written by hand: no library makes hostile ones."""
    rsa_key_der = _der_int(modulus) + _der_int(exponent)
    rsa_key_der = b"\x30" + _der_len(len(rsa_key_der)) + rsa_key_der
    algorithm = bytes.fromhex("300d06092a864886f70d0101010500")
    bit_string = b"\x03" + _der_len(len(rsa_key_der) + 1) + b"\x00" + rsa_key_der
    body = algorithm + bit_string
    return b"\x30" + _der_len(len(body)) + body


def key_txt_line(selector: str, der: bytes) -> str:
    """A zone line publishing `der` as a DKIM key, split into 255-character strings."""
    text = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
    chunks = " ".join(f'"{text[i : i + 250]}"' for i in range(0, len(text), 250))
    return f"{selector}._domainkey 300 IN TXT {chunks}"


def huge_key_signed(selectors: list[str], bits: int = 16384, exp_bits: int = 16383) -> bytes:
    """A message with one DKIM-Signature per selector, each naming a key of `bits` bits with
    an `exp_bits`-bit exponent: verifying one costs Python's pow() seconds of CPU."""
    msg = message()
    body = msg.split(b"\r\n\r\n", 1)[1]
    canonical = Relaxed.canonicalize_body(body)
    bh = base64.b64encode(hashlib.sha256(canonical).digest()).decode()  # matches: pow() runs
    sig_bytes = os.urandom(bits // 8 - 1)  # below the modulus, so pow() runs in full
    headers = []
    for selector in selectors:
        b64 = base64.b64encode(sig_bytes).decode()
        b_value = "\r\n\t".join(b64[i : i + 76] for i in range(0, len(b64), 76))  # folded
        headers.append(
            f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={DOMAIN}; "
            f"s={selector}; h=from:to:subject; bh={bh}; "
            f"b={b_value}\r\n".encode()
        )
    return b"".join(headers) + msg


def huge_key_der(bits: int = 16384, exp_bits: int = 16383) -> bytes:
    modulus = int.from_bytes(os.urandom(bits // 8), "big") | (1 << (bits - 1)) | 1
    exponent = int.from_bytes(os.urandom(exp_bits // 8 + 1), "big")
    exponent = (exponent % (1 << exp_bits)) | (1 << (exp_bits - 1)) | 1
    return der_rsa_public_key(modulus, exponent)


# --- clients --------------------------------------------------------------------------------


def banner_time(port: int, source: str = "127.0.0.1", timeout: float = 60.0) -> tuple[float, bytes]:
    """(seconds until the first reply line, that line) for a fresh connection."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout, (source, 0)) as sock:
        line = b""
        while not line.endswith(b"\n"):
            chunk = sock.recv(1024)
            if not chunk:
                break
            line += chunk
    return time.monotonic() - start, line


def open_idle(port: int, count: int, sources: list[str]) -> list[socket.socket]:
    """`count` connections that never send anything, spread over the `sources` addresses.
    A connection the server refused still counts (it is returned, already answered)."""
    out = []
    for i in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((sources[i % len(sources)], 0))
        sock.settimeout(10)
        try:
            sock.connect(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        out.append(sock)
    return out
