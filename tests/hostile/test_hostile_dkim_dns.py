"""Hostile DKIM keys in DNS, served by nsd on loopback: huge moduli and odd exponents are
findings, measuring them is cheap, and the report quotes them only in part.

Before: a 65,536-bit key got grade A, and the key record was copied whole into the report.
"""

from __future__ import annotations

import asyncio
import base64
import json
import textwrap
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from mailauth_audit.asyncapi import audit_domain
from mailauth_audit.options import AuditOptions, Limits
from mailauth_audit.records.dkim import parse_dkim_key, read_rsa_der
from mailauth_audit.report.serialize import domain_json_line


def _der_len(n: int) -> bytes:
    if n < 128:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


def _int(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def rsa_spki(bits: int, e: int = 65537) -> bytes:
    """A SubjectPublicKeyInfo with a `bits`-bit odd modulus (not a real key: it only has to
    look like one to whoever measures it)."""
    key = _tlv(0x30, _int((1 << (bits - 1)) | 1) + _int(e))
    algorithm = _tlv(0x30, _tlv(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    return _tlv(0x30, algorithm + _tlv(0x03, b"\x00" + key))


def dkim_txt(spki: bytes) -> str:
    """TXT RDATA in RFC 3597 form (nsd takes at most 64 quoted strings per record)."""
    data = f"v=DKIM1; k=rsa; p={base64.b64encode(spki).decode()}".encode()
    wire = b"".join(
        bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255)
    )
    return f"\\# {len(wire)} {wire.hex()}"


# the largest modulus whose record still fits in one TXT RDATA (65,535 bytes)
MONSTER_BITS = 376_000
SELECTORS = {
    "huge": rsa_spki(65536),
    "big": rsa_spki(8192),
    "ok": rsa_spki(2048),
    "three": rsa_spki(2048, e=3),
    "even": rsa_spki(2048, e=2),
    "wide": rsa_spki(2048, e=(1 << 4000) + 1),
    "monster": rsa_spki(MONSTER_BITS),
}


def zone() -> str:
    keys = "\n".join(f"{s}._domainkey IN TXT {dkim_txt(k)}" for s, k in SELECTORS.items())
    return (
        textwrap.dedent(
            """\
            $ORIGIN dk.test.
            $TTL 300
            @ IN SOA ns1 hostmaster 1 3600 600 86400 300
            @ IN NS ns1
            ns1 IN A 127.0.0.1
            @ IN MX 10 mx
            mx IN A 192.0.2.25
            @ IN TXT "v=spf1 mx -all"
            _dmarc IN TXT "v=DMARC1; p=reject"
            """
        )
        + keys
        + "\n"
    )


@pytest.fixture(scope="module")
def dk_ns(nsd_session_server: Callable[..., tuple[str, int]]) -> str:
    host, port = nsd_session_server({"dk.test": zone()})
    return f"{host}:{port}"


def _audit(ns: str, *selectors: str) -> tuple[dict[str, Any], int, float, int]:
    options = AuditOptions(nameservers=(ns,), selectors=selectors, use_default_selectors=False)
    tracemalloc.start()
    try:
        start = time.monotonic()
        report = asyncio.run(audit_domain("dk.test", options))
        line = domain_json_line(report)
        elapsed = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return json.loads(line), len(line), elapsed, peak


def _codes(doc: dict[str, Any], selector: str) -> dict[str, str]:
    return {
        f["code"]: f["severity"]
        for f in doc["checks"]["dkim"]["findings"]
        if f"selector {selector} " in f["detail"].lower()
    }


def test_a_65536_bit_key_is_a_finding_and_no_longer_grade_a(dk_ns: str) -> None:
    ok, _, _, _ = _audit(dk_ns, "ok")
    # the grade itself depends on the DMARC tree walk above dk.test (refused by this nsd):
    # the DKIM check's own status is what a 65,536-bit key must change
    assert ok["checks"]["dkim"]["status"] == "pass" and not _codes(ok, "ok")
    doc, _, _, _ = _audit(dk_ns, "huge")
    assert _codes(doc, "huge") == {"dkim.key_too_long": "high"}
    assert doc["checks"]["dkim"]["result"]["selectors"][0]["key_bits"] == 65536
    assert doc["checks"]["dkim"]["status"] == "fail"
    assert doc["score"]["grade"] != "A"


def test_keys_over_4096_bits_and_odd_exponents(dk_ns: str) -> None:
    doc, _, _, _ = _audit(dk_ns, "big", "three", "even", "wide")
    assert _codes(doc, "big") == {"dkim.key_too_long": "medium"}
    assert _codes(doc, "three") == {}  # 3 is small and odd: unusual today, but sound
    assert _codes(doc, "even") == {"dkim.unusual_exponent": "high"}
    assert _codes(doc, "wide") == {"dkim.unusual_exponent": "medium"}
    by_name = {s["selector"]: s for s in doc["checks"]["dkim"]["result"]["selectors"]}
    assert by_name["three"]["key_exponent"] == "3"
    assert by_name["wide"]["key_exponent"] == "<4001-bit number>"
    assert by_name["big"]["key_exponent"] == "65537"


def test_the_largest_key_a_txt_record_holds_is_measured_cheaply_and_quoted_in_part(
    dk_ns: str,
) -> None:
    doc, size, seconds, peak = _audit(dk_ns, "monster")
    sel = doc["checks"]["dkim"]["result"]["selectors"][0]
    assert sel["key_bits"] == MONSTER_BITS
    assert _codes(doc, "monster") == {"dkim.key_too_long": "high"}
    limit = Limits().max_dkim_text_chars
    assert "characters not shown" in sel["record"] and len(sel["record"]) < limit + 100
    assert "characters not shown" in sel["public_key"]
    assert size < 64_000, size  # the record alone is 65,535 bytes
    assert seconds < 10, seconds
    assert peak < 50 * 2**20, peak


def test_reading_a_huge_modulus_is_linear_and_needs_no_crypto_library() -> None:
    spki = rsa_spki(MONSTER_BITS)
    start = time.monotonic()
    for _ in range(20):
        assert read_rsa_der(spki) == (MONSTER_BITS, 65537, "spki")
    assert time.monotonic() - start < 2  # ~1 ms each
    record = parse_dkim_key(f"v=DKIM1; p={base64.b64encode(spki).decode()}")
    assert record.key_bits == MONSTER_BITS and record.key_error is None
    assert read_rsa_der(b"\x30\x84\xff\xff\xff\xff") is None  # a length past the end
    assert read_rsa_der(rsa_spki(2048)[:-1]) is None
