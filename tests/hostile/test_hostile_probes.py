"""Hostile SMTP and HTTPS servers against the probes: each attack ends in a typed error
within its bound (time, lines, bytes), never a hang or unbounded reading.

Servers: tests/probes/probe_servers.py (raw socket servers in threads, on loopback only).
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "probes"))

from probe_servers import (
    LOOPBACK,
    MX_NAME,
    STS_NAME,
    LoopbackCA,
    RawSmtpServer,
    https_server,
    read_line,
)

from mailauth_audit.errors import (
    ProbeError,
    ProbeProtocolError,
    ProbeReplyTooLarge,
    ProbeTimeout,
    ProbeTlsHandshakeFailed,
)
from mailauth_audit.options import ProbeLimits
from mailauth_audit.probes import AsyncSmtpProber, HttpxHttpsFetcher

# stage bounds of a second or so; the assertions allow five (two loaded cores)
TIGHT = ProbeLimits(
    connect_timeout=2,
    smtp_banner_timeout=1,
    smtp_command_timeout=1,
    tls_handshake_timeout=1,
    smtp_total_timeout=30,
    https_timeout=1,
    https_total_timeout=1.5,
)
GENEROUS = 5.0


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCA:
    return LoopbackCA.create(tmp_path_factory.mktemp("hostile-probe-ca"))


def probe_raw(script, limits: ProbeLimits = TIGHT) -> tuple[ProbeError, float, RawSmtpServer]:
    with RawSmtpServer(script) as server:
        started = time.monotonic()
        with pytest.raises(ProbeError) as info:
            asyncio.run(AsyncSmtpProber(limits).probe(MX_NAME, LOOPBACK, server.port))
        elapsed = time.monotonic() - started
    return info.value, elapsed, server


def drip_banner(conn: socket.socket, server: RawSmtpServer) -> None:
    server.send(conn, b"220-")
    while server.send(conn, b"x"):
        time.sleep(0.1)


def test_dripped_banner_ends_at_the_banner_deadline() -> None:
    err, elapsed, _ = probe_raw(drip_banner)
    assert isinstance(err, ProbeTimeout) and err.stage == "banner"
    assert elapsed < GENEROUS


def test_total_deadline_bounds_a_probe_whose_stages_are_generous() -> None:
    limits = ProbeLimits(smtp_banner_timeout=60, smtp_total_timeout=1)
    err, elapsed, _ = probe_raw(drip_banner, limits)
    assert isinstance(err, ProbeTimeout) and "within 1 s" in str(err)
    assert elapsed < GENEROUS


def endless_banner(conn: socket.socket, server: RawSmtpServer) -> None:
    line = b"220-" + b"x" * 60 + b"\r\n"
    while server.send(conn, line * 64):
        pass


def test_endless_multiline_banner_is_too_large() -> None:
    err, elapsed, server = probe_raw(endless_banner)
    assert isinstance(err, ProbeReplyTooLarge) and err.stage == "banner"
    assert elapsed < GENEROUS
    # what the server managed to push is bounded by socket buffers, not by its patience
    assert server.written < 16 * 1024 * 1024


def test_endless_ehlo_reply_is_too_large() -> None:
    def script(conn: socket.socket, server: RawSmtpServer) -> None:
        server.send(conn, b"220 mx ESMTP\r\n")
        read_line(conn)
        while server.send(conn, b"250-SIZE 1000\r\n" * 100):
            pass

    err, elapsed, _ = probe_raw(script)
    assert isinstance(err, ProbeReplyTooLarge) and err.stage == "ehlo"
    assert elapsed < GENEROUS


def test_line_without_end_is_too_large() -> None:
    def script(conn: socket.socket, server: RawSmtpServer) -> None:
        server.send(conn, b"220 ")
        while server.send(conn, b"x" * 4096):
            pass

    err, elapsed, _ = probe_raw(script)
    assert isinstance(err, ProbeReplyTooLarge) and "line longer" in str(err)
    assert elapsed < GENEROUS


def _until_starttls(conn: socket.socket, server: RawSmtpServer) -> None:
    server.send(conn, b"220 mx ESMTP\r\n")
    read_line(conn)
    server.send(conn, b"250-mx\r\n250 STARTTLS\r\n")
    assert read_line(conn).startswith(b"STARTTLS")


def test_bytes_injected_after_the_starttls_reply_are_refused() -> None:
    def script(conn: socket.socket, server: RawSmtpServer) -> None:
        _until_starttls(conn, server)
        server.send(conn, b"220 go ahead\r\n250-injected\r\n250 AUTH PLAIN\r\n")
        time.sleep(1)

    err, _, _ = probe_raw(script)
    assert isinstance(err, ProbeProtocolError) and "after the STARTTLS reply" in str(err)


def test_garbage_instead_of_a_handshake() -> None:
    def script(conn: socket.socket, server: RawSmtpServer) -> None:
        _until_starttls(conn, server)
        server.send(conn, b"220 go ahead\r\n")
        time.sleep(0.2)
        server.send(conn, b"this is not TLS\r\n" * 10)
        time.sleep(1)

    err, elapsed, _ = probe_raw(script)
    assert isinstance(err, ProbeTlsHandshakeFailed) and err.stage == "tls"
    assert elapsed < GENEROUS


def test_silent_handshake_ends_at_the_tls_deadline() -> None:
    def script(conn: socket.socket, server: RawSmtpServer) -> None:
        _until_starttls(conn, server)
        server.send(conn, b"220 go ahead\r\n")
        while not server.stop_event.wait(0.1):
            pass

    err, elapsed, _ = probe_raw(script)
    assert isinstance(err, ProbeTimeout) and err.stage == "tls"
    assert elapsed < GENEROUS


def _fetch(port: int, path: str, limits: ProbeLimits = TIGHT) -> None:
    async def go() -> None:
        fetcher = HttpxHttpsFetcher(limits)
        try:
            await fetcher.fetch(STS_NAME, LOOPBACK, path, port)
        finally:
            await fetcher.aclose()

    asyncio.run(go())


def test_dripped_https_body_ends_at_the_total_deadline(ca: LoopbackCA) -> None:
    with https_server(ca.server_context(STS_NAME)) as server:
        started = time.monotonic()
        with pytest.raises(ProbeTimeout) as info:
            _fetch(server.port, "/drip")
        elapsed = time.monotonic() - started
    assert info.value.stage == "body" and elapsed < GENEROUS


def test_endless_https_headers_are_refused(ca: LoopbackCA) -> None:
    ctx = ca.server_context(STS_NAME)

    def script(conn: socket.socket, server: RawSmtpServer) -> None:
        tls = ctx.wrap_socket(conn, server_side=True)
        tls.recv(4096)
        server.send(tls, b"HTTP/1.1 200 OK\r\n")  # type: ignore[arg-type]
        while server.send(tls, b"X-Filler: " + b"y" * 1000 + b"\r\n"):  # type: ignore[arg-type]
            pass

    with RawSmtpServer(script) as server:
        started = time.monotonic()
        with pytest.raises(ProbeProtocolError):
            _fetch(server.port, "/.well-known/mta-sts.txt")
        elapsed = time.monotonic() - started
    assert elapsed < GENEROUS


def test_https_server_that_never_answers(ca: LoopbackCA) -> None:
    ctx = ca.server_context(STS_NAME)

    def script(conn: socket.socket, server: RawSmtpServer) -> None:
        tls = ctx.wrap_socket(conn, server_side=True)
        tls.recv(4096)
        while not server.stop_event.wait(0.1):
            pass

    with RawSmtpServer(script) as server:
        started = time.monotonic()
        with pytest.raises(ProbeTimeout):
            _fetch(server.port, "/.well-known/mta-sts.txt")
        elapsed = time.monotonic() - started
    assert elapsed < GENEROUS


def test_plaintext_https_server_fails_the_handshake() -> None:
    def script(conn: socket.socket, server: RawSmtpServer) -> None:
        conn.recv(4096)
        server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    with RawSmtpServer(script) as server, pytest.raises(ProbeTlsHandshakeFailed):
        _fetch(server.port, "/.well-known/mta-sts.txt")
