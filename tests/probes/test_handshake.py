"""The pure parsers that read the key-exchange group from a server's handshake messages
(mailauth_audit/probes/handshake.py): built messages in, the group out; any bytes in, a
group or None out, never an exception (they run inside OpenSSL's message callback)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailauth_audit.probes.handshake import (
    HandshakeObserver,
    KeyExchangeGroup,
    group_bits,
    key_exchange_group,
    parse_server_hello_group,
    parse_server_key_exchange,
)


def handshake(msg_type: int, body: bytes) -> bytes:
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def server_hello(*extensions: tuple[int, bytes], session_id: bytes = b"\x01" * 32) -> bytes:
    exts = b"".join(k.to_bytes(2, "big") + len(v).to_bytes(2, "big") + v for k, v in extensions)
    body = b"\x03\x03" + b"\x00" * 32 + bytes([len(session_id)]) + session_id + b"\x13\x02\x00"
    return handshake(2, body + len(exts).to_bytes(2, "big") + exts)


SUPPORTED_VERSIONS_13 = (0x002B, b"\x03\x04")


@pytest.mark.parametrize(
    ("key_share", "expected"),
    [
        (b"\x00\x1d\x00\x20" + b"\x11" * 32, KeyExchangeGroup("X25519", 253)),
        (b"\x00\x17\x00\x41\x04" + b"\x22" * 64, KeyExchangeGroup("secp256r1", 256)),
        (b"\x01\x00\x01\x00" + b"\x33" * 256, KeyExchangeGroup("ffdhe2048", 2048)),
        (b"\x11\xec\x04\x40" + b"\x44" * 16, KeyExchangeGroup("X25519MLKEM768", 253)),
        (b"\x00\x17", KeyExchangeGroup("secp256r1", 256)),  # a HelloRetryRequest's
        (b"\x77\x77\x00\x00", KeyExchangeGroup("unknown group 0x7777", None)),
    ],
)
def test_tls_1_3_server_hello_key_share(key_share: bytes, expected: KeyExchangeGroup) -> None:
    message = server_hello(SUPPORTED_VERSIONS_13, (0x0033, key_share))
    assert key_exchange_group(message, None, "TLS_AES_256_GCM_SHA384") == expected


def test_tls_1_2_server_hello_has_no_key_share_and_the_key_exchange_decides() -> None:
    hello = server_hello((0xFF01, b"\x00"), session_id=b"")
    assert parse_server_hello_group(hello) is None
    ecdhe = handshake(12, b"\x03\x00\x18\x61\x04" + b"\x55" * 96 + b"\x04\x03\x00\x02ab")
    group = key_exchange_group(hello, ecdhe, "ECDHE-RSA-AES256-GCM-SHA384")
    assert group == KeyExchangeGroup("secp384r1", 384)
    prime = (1 << 1023) | 1
    dhe = handshake(12, b"\x00\x80" + prime.to_bytes(128, "big") + b"\x00\x01\x02\x00\x01\x07")
    assert key_exchange_group(hello, dhe, "DHE-RSA-AES128-GCM-SHA256") == KeyExchangeGroup(
        "DHE", 1024
    )
    # the encodings overlap (curve_type 3 vs a prime of 0x03xx bytes): the suite decides
    assert parse_server_key_exchange(ecdhe, "AES256-GCM-SHA384") is None
    assert parse_server_key_exchange(dhe, "ECDHE-RSA-AES256-GCM-SHA384") is None


@pytest.mark.parametrize(
    "message",
    [
        b"",
        b"\x02",
        handshake(2, b"\x03\x03"),
        handshake(2, b"\x03\x03" + b"\x00" * 32 + b"\xff"),  # session id runs past the end
        server_hello((0x0033, b"\x00")),  # key_share too short
        server_hello()[:-1],
        handshake(1, b"\x03\x03" + b"\x00" * 40),  # a ClientHello
    ],
)
def test_malformed_server_hello_is_no_group(message: bytes) -> None:
    assert parse_server_hello_group(message) is None


def test_truncated_dhe_prime_is_no_group() -> None:
    dhe = handshake(12, b"\x01\x00" + b"\x80" * 10)
    assert parse_server_key_exchange(dhe, "DHE-RSA-AES128-SHA") is None


@given(st.binary(max_size=300), st.binary(max_size=300), st.sampled_from(["ECDHE-X", "DHE-X", ""]))
def test_any_bytes_give_a_group_or_none(hello: bytes, ske: bytes, cipher: str) -> None:
    for data in (hello, b"\x02" + hello, b"\x0c" + ske):
        group = key_exchange_group(data, b"\x0c" + ske, cipher)
        assert group is None or isinstance(group, KeyExchangeGroup)


def test_observer_keeps_the_last_server_hello_and_ignores_the_rest() -> None:
    observer = HandshakeObserver()
    retry = server_hello(SUPPORTED_VERSIONS_13, (0x0033, b"\x00\x1d"))
    final = server_hello(SUPPORTED_VERSIONS_13, (0x0033, b"\x00\x17\x00\x01\x04"))
    observer(None, "read", 772, 22, 2, retry)
    observer(None, "write", 772, 22, 2, server_hello((0x0033, b"\x00\x18")))  # ours: ignored
    observer(None, "read", 772, 256, 22, b"\x16\x03\x03\x00\x05")  # a record header
    observer(None, "read", 772, 22, 2, final)
    assert observer.group("TLS_AES_128_GCM_SHA256") == KeyExchangeGroup("secp256r1", 256)


def test_a_name_reported_by_the_ssl_module_gets_its_size() -> None:
    assert group_bits("x25519") == KeyExchangeGroup("X25519", 253)
    assert group_bits("brandnew") == KeyExchangeGroup("brandnew", None)
