"""The key-exchange group of a handshake the `ssl` module made, read from the server's own
handshake messages.

Python's `ssl` only reports the negotiated group from 3.15 (`SSLSocket.group()`). Before
that, the group is still in what the server sent: the `key_share` extension of the TLS 1.3
ServerHello (RFC 8446 §4.2.8), or the TLS 1.2 and older ServerKeyExchange (RFC 8422 §5.4:
the named curve of ECDHE; RFC 5246 §7.4.3: the prime of DHE, whose size is the group's
strength). CPython's `SSLContext._msg_callback` (a debugging hook, present since 3.8) hands
every handshake message to Python, so the group recorded is the one of the very handshake
whose version, cipher and certificate the probe records: no second connection, no second
TLS library (docs/BENCHMARKS.md compares this with nassl). Where neither is available the
group is None, shown as "not reported", never guessed.

The parsers are pure and total: any bytes in, a group or None out.
"""

from __future__ import annotations

import ssl
import weakref
from dataclasses import dataclass
from typing import Any

__all__ = [
    "GROUP_NAMES",
    "HandshakeObserver",
    "HandshakeObservers",
    "KeyExchangeGroup",
    "group_bits",
    "key_exchange_group",
    "parse_server_hello_group",
    "parse_server_key_exchange",
]

# IANA TLS Supported Groups (RFC 8422, RFC 7919, RFC 8446, RFC 7027, RFC 8734, and the
# ML-KEM hybrids of draft-ietf-tls-ecdhe-mlkem): code point -> name, bits of the
# classical part (the figure weak-group rules compare)
GROUP_NAMES: dict[int, tuple[str, int]] = {
    1: ("sect163k1", 163),
    2: ("sect163r1", 163),
    3: ("sect163r2", 163),
    4: ("sect193r1", 193),
    5: ("sect193r2", 193),
    6: ("sect233k1", 233),
    7: ("sect233r1", 233),
    8: ("sect239k1", 239),
    9: ("sect283k1", 283),
    10: ("sect283r1", 283),
    11: ("sect409k1", 409),
    12: ("sect409r1", 409),
    13: ("sect571k1", 571),
    14: ("sect571r1", 571),
    15: ("secp160k1", 160),
    16: ("secp160r1", 160),
    17: ("secp160r2", 160),
    18: ("secp192k1", 192),
    19: ("secp192r1", 192),
    20: ("secp224k1", 224),
    21: ("secp224r1", 224),
    22: ("secp256k1", 256),
    23: ("secp256r1", 256),
    24: ("secp384r1", 384),
    25: ("secp521r1", 521),
    26: ("brainpoolP256r1", 256),
    27: ("brainpoolP384r1", 384),
    28: ("brainpoolP512r1", 512),
    29: ("X25519", 253),
    30: ("X448", 448),
    31: ("brainpoolP256r1tls13", 256),
    32: ("brainpoolP384r1tls13", 384),
    33: ("brainpoolP512r1tls13", 512),
    0x0100: ("ffdhe2048", 2048),
    0x0101: ("ffdhe3072", 3072),
    0x0102: ("ffdhe4096", 4096),
    0x0103: ("ffdhe6144", 6144),
    0x0104: ("ffdhe8192", 8192),
    0x11EB: ("SecP256r1MLKEM768", 256),
    0x11EC: ("X25519MLKEM768", 253),
    0x11ED: ("SecP384r1MLKEM1024", 384),
    0x6399: ("X25519Kyber768Draft00", 253),
}
_BY_NAME = {name.lower(): (name, bits) for name, bits in GROUP_NAMES.values()}

_SERVER_HELLO = 2
_SERVER_KEY_EXCHANGE = 12
_KEY_SHARE = 0x0033
_NAMED_CURVE = 3


@dataclass(frozen=True)
class KeyExchangeGroup:
    name: str  # "X25519", "secp256r1", "ffdhe2048"; "DHE" for a TLS 1.2 prime of its own
    bits: int | None  # the curve's or the prime's size; None for an unlisted code point


def group_bits(name: str) -> KeyExchangeGroup:
    """A group as some other source named it (`SSLSocket.group()` on Python >= 3.15)."""
    known = _BY_NAME.get(name.lower())
    return KeyExchangeGroup(*known) if known else KeyExchangeGroup(name, None)


def _named(code: int) -> KeyExchangeGroup:
    name, bits = GROUP_NAMES.get(code, (f"unknown group 0x{code:04x}", None))
    return KeyExchangeGroup(name, bits)


def _u16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "big")


def parse_server_hello_group(message: bytes) -> int | None:
    """The group code of the key_share extension of a ServerHello (a HelloRetryRequest's
    carries only the group), `message` starting at its 4-byte handshake header; None
    without one (TLS 1.2 and older) or when the message is malformed."""
    if len(message) < 4 or message[0] != _SERVER_HELLO:
        return None
    body = message[4 : 4 + int.from_bytes(message[1:4], "big")]
    at = 2 + 32  # legacy_version, random
    if len(body) < at + 1:
        return None
    at += 1 + body[at]  # legacy_session_id_echo
    at += 2 + 1  # cipher_suite, legacy_compression_method
    if len(body) < at + 2:
        return None
    end = min(len(body), at + 2 + _u16(body, at))
    at += 2
    while at + 4 <= end:
        kind, size = _u16(body, at), _u16(body, at + 2)
        if kind == _KEY_SHARE and size >= 2 and at + 6 <= end:
            return _u16(body, at + 4)
        at += 4 + size
    return None


def parse_server_key_exchange(message: bytes, cipher: str) -> KeyExchangeGroup | None:
    """The group of a TLS 1.2-or-older ServerKeyExchange: its named curve for ECDHE, the size
    of its prime for DHE (`cipher`, the OpenSSL suite name, says which: the two encodings
    cannot be told apart from the bytes alone). None for anything else or malformed."""
    if len(message) < 4 or message[0] != _SERVER_KEY_EXCHANGE:
        return None
    body = message[4 : 4 + int.from_bytes(message[1:4], "big")]
    kx = cipher.upper().split("-", 1)[0]
    if kx in ("ECDHE", "AECDH") and len(body) >= 3 and body[0] == _NAMED_CURVE:
        return _named(_u16(body, 1))
    if kx in ("DHE", "EDH", "ADH") and len(body) >= 2:
        prime = body[2 : 2 + _u16(body, 0)]
        if not prime or len(prime) != _u16(body, 0):
            return None
        return KeyExchangeGroup("DHE", int.from_bytes(prime, "big").bit_length())
    return None


def key_exchange_group(
    server_hello: bytes | None, server_key_exchange: bytes | None, cipher: str
) -> KeyExchangeGroup | None:
    code = parse_server_hello_group(server_hello) if server_hello else None
    if code is not None:
        return _named(code)
    if server_key_exchange:
        return parse_server_key_exchange(server_key_exchange, cipher)
    return None


class HandshakeObserver:
    """Keeps the last ServerHello and ServerKeyExchange of one connection (after a
    HelloRetryRequest the second ServerHello replaces the first): two messages, each at most
    what OpenSSL accepted as a handshake message, whatever the server sends."""

    def __init__(self) -> None:
        self.server_hello: bytes | None = None
        self.server_key_exchange: bytes | None = None

    @staticmethod
    def attach(ctx: ssl.SSLContext) -> HandshakeObserver | None:
        """Observe the handshakes made with `ctx` (a context made for one connection); None
        where this Python has no message hook."""
        if not hasattr(ctx, "_msg_callback"):
            return None
        observer = HandshakeObserver()
        ctx._msg_callback = observer
        return observer

    def __call__(
        self, conn: Any, direction: str, version: Any, content_type: Any, *rest: Any
    ) -> None:
        # called by OpenSSL for every record of the connection; must never raise (an
        # exception here would fail the handshake)
        if direction != "read" or len(rest) != 2 or content_type != 22:
            return
        msg_type, data = rest
        if msg_type == _SERVER_HELLO:
            self.server_hello = bytes(data)
        elif msg_type == _SERVER_KEY_EXCHANGE:
            self.server_key_exchange = bytes(data)

    def group(self, cipher: str) -> KeyExchangeGroup | None:
        return key_exchange_group(self.server_hello, self.server_key_exchange, cipher)


class HandshakeObservers:
    """The message hook of a context that many connections share (the HTTPS fetcher's one
    httpx client): each connection's messages are kept apart, keyed by the connection the
    hook is handed (the `SSLObject` or `SSLSocket` whose `ssl_object` the caller reads
    after the handshake), and forgotten with it (weak keys: a fetch that fails before
    asking leaves nothing behind)."""

    def __init__(self) -> None:
        self._by_connection: weakref.WeakKeyDictionary[Any, HandshakeObserver] = (
            weakref.WeakKeyDictionary()
        )

    @staticmethod
    def attach(ctx: ssl.SSLContext) -> HandshakeObservers | None:
        """Observe every handshake made with `ctx`; None where this Python has no hook."""
        if not hasattr(ctx, "_msg_callback"):
            return None
        observers = HandshakeObservers()
        ctx._msg_callback = observers
        return observers

    def __call__(
        self, conn: Any, direction: str, version: Any, content_type: Any, *rest: Any
    ) -> None:
        # as HandshakeObserver.__call__: must never raise
        if direction != "read" or len(rest) != 2 or content_type != 22:
            return
        try:
            observer = self._by_connection.get(conn)
            if observer is None:
                observer = self._by_connection[conn] = HandshakeObserver()
        except TypeError:  # a connection object without weak references: not observed
            return
        observer(conn, direction, version, content_type, *rest)

    def observer(self, conn: object) -> HandshakeObserver | None:
        """What the hook saw of `conn`'s handshake; None when it saw nothing."""
        try:
            return self._by_connection.get(conn)
        except TypeError:
            return None
