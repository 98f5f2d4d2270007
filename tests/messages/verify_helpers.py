"""Shared builders for the verification tests: keys, messages, signatures, zones.

Keys are generated once per process (RSA generation is the slow part of these tests).
"""

from __future__ import annotations

import time
from functools import cache

import dkim

from mailauth_audit.messages.keys import (
    DkimKeyType,
    DkimPrivateKey,
    generate_key,
    key_record,
)

DOMAIN = "sender.example"
SELECTOR = "s1"
CLIENT_IP = "192.0.2.7"


@cache
def rsa_key(bits: int = 2048, n: int = 0) -> DkimPrivateKey:
    """`n` tells apart keys of the same size (the 'wrong key' test needs two)."""
    if bits < 1024:  # below what keys.py and cryptography will make: ask openssl
        import subprocess

        from cryptography.hazmat.primitives import serialization

        pem = subprocess.run(
            ["openssl", "genrsa", str(bits)], check=True, capture_output=True
        ).stdout
        key = serialization.load_pem_private_key(pem, None)
        return DkimPrivateKey(DkimKeyType.RSA, bits, key)  # type: ignore[arg-type]
    return generate_key(DkimKeyType.RSA, bits)


@cache
def ed_key() -> DkimPrivateKey:
    return generate_key(DkimKeyType.ED25519)


def message(
    *,
    from_header: str | None = f"Alerts <alerts@{DOMAIN}>",
    subject: str = "Test message",
    body: str = "Hello.\r\nThis is a test.\r\n",
    extra: tuple[str, ...] = (),
    date: str | None = "Wed, 25 Nov 2026 10:00:00 +0000",
    message_id: str | None = f"<20261125100000.abc@{DOMAIN}>",
) -> bytes:
    lines = list(extra)
    if from_header is not None:
        lines.append(f"From: {from_header}")
    lines += ["To: check@receiver.example", f"Subject: {subject}"]
    if date is not None:
        lines.append(f"Date: {date}")
    if message_id is not None:
        lines.append(f"Message-ID: {message_id}")
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=us-ascii"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode("ascii")


class _TimedSigner(dkim.DKIM):
    """dkimpy signer that writes chosen t= and x= (dkimpy itself has no x= option)."""

    def __init__(self, msg: bytes, t: int, x: int | None) -> None:
        super().__init__(msg)
        self._t, self._x = t, x

    def gen_header(self, fields, *args, **kwargs):  # type: ignore[no-untyped-def]
        out = []
        for tag, value in fields:
            if tag == b"t":
                out.append((b"t", str(self._t).encode()))
                if self._x is not None:
                    out.append((b"x", str(self._x).encode()))
            else:
                out.append((tag, value))
        return super().gen_header(out, *args, **kwargs)


def sign(
    msg: bytes,
    key: DkimPrivateKey,
    *,
    domain: str = DOMAIN,
    selector: str = SELECTOR,
    headers: tuple[str, ...] = ("from", "to", "subject", "date", "message-id"),
    length: bool = False,
    t: int | None = None,
    x: int | None = None,
) -> bytes:
    """`msg` with a DKIM-Signature prepended (rsa-sha256 or ed25519-sha256, relaxed)."""
    algorithm = b"ed25519-sha256" if key.key_type is DkimKeyType.ED25519 else b"rsa-sha256"
    pem = key.private_pem()
    if key.key_type is DkimKeyType.ED25519:
        import base64

        from cryptography.hazmat.primitives import serialization

        raw = key.key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        pem = base64.b64encode(raw)
    signer = _TimedSigner(msg, t if t is not None else int(time.time()), x)
    signer.signature_algorithm = algorithm
    header = signer.sign(
        selector.encode(),
        domain.encode(),
        pem,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=[h.encode() for h in headers],
        length=length,
    )
    return header + msg


def key_zone_line(key: DkimPrivateKey, domain: str = DOMAIN, selector: str = SELECTOR) -> str:
    return key_record(key, domain, selector).zone_line


def zone(*lines: str, domain: str = DOMAIN) -> str:
    """Zone text with an SOA for `domain` and the given record lines."""
    head = [
        f"$ORIGIN {domain}.",
        f"@ 300 IN SOA ns.{domain}. hostmaster.{domain}. 1 3600 600 86400 300",
        f"@ 300 IN NS ns.{domain}.",
    ]
    return "\n".join(head + list(lines)) + "\n"


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
