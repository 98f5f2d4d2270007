"""Hostile or broken MX servers against the starttls check: each ends as `error` with its
reason (could not test, never "no STARTTLS") or as a finding, within its time bound, and a
domain with 50 MX hosts costs a bounded number of connections.

Servers: tests/probes/probe_servers.py (raw socket servers in threads, loopback only).
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "checks"))
sys.path.insert(0, str(Path(__file__).parent.parent / "probes"))

from probe_servers import RawSmtpServer, free_port, read_line
from starttls_helpers import MX, audit_one, audit_run

from mailauth_audit.model import CheckId, CheckStatus, DomainReport, ErrorReason
from mailauth_audit.options import ProbeLimits

# stage bounds of a second; the assertions allow five (two loaded cores)
TIGHT = ProbeLimits(
    connect_timeout=2,
    smtp_banner_timeout=1,
    smtp_command_timeout=1,
    tls_handshake_timeout=1,
    smtp_total_timeout=30,
)
GENEROUS = 5.0


def timed(port: int, **kwargs: object) -> tuple[DomainReport, float]:
    started = time.monotonic()
    report = audit_one(port, None, limits=TIGHT, **kwargs)  # type: ignore[arg-type]
    return report, time.monotonic() - started


def could_not_test(report: DomainReport, reason: ErrorReason) -> None:
    outcome = report.checks[CheckId.STARTTLS]
    assert outcome.status is CheckStatus.ERROR, outcome
    assert outcome.error is not None and outcome.error.reason is reason
    assert outcome.findings == ()  # never "no STARTTLS"
    assert report.grade is None


def test_mx_refusing_connections() -> None:
    report, elapsed = timed(free_port())
    could_not_test(report, ErrorReason.CONNECTION_REFUSED)
    assert elapsed < GENEROUS


def test_421_on_connect() -> None:
    def busy(conn: socket.socket, server: RawSmtpServer) -> None:
        server.send(conn, b"421 4.7.0 mx.example.test too many connections\r\n")

    with RawSmtpServer(busy) as server:
        report, _ = timed(server.port)
    could_not_test(report, ErrorReason.TEMPORARILY_UNAVAILABLE)
    error = report.checks[CheckId.STARTTLS].error
    assert error is not None and "421" in error.message


def test_drop_after_ehlo() -> None:
    def drop(conn: socket.socket, server: RawSmtpServer) -> None:
        server.send(conn, b"220 mx.example.test ESMTP\r\n")
        read_line(conn)

    with RawSmtpServer(drop) as server:
        report, elapsed = timed(server.port)
    could_not_test(report, ErrorReason.PROTOCOL_ERROR)
    assert elapsed < GENEROUS


def _until_starttls(conn: socket.socket, server: RawSmtpServer) -> None:
    server.send(conn, b"220 mx.example.test ESMTP\r\n")
    read_line(conn)
    server.send(conn, b"250-mx.example.test\r\n250 STARTTLS\r\n")
    read_line(conn)
    server.send(conn, b"220 2.0.0 go ahead\r\n")


def test_starttls_offered_but_the_handshake_fails_is_a_finding() -> None:
    def garbage(conn: socket.socket, server: RawSmtpServer) -> None:
        _until_starttls(conn, server)
        time.sleep(0.2)
        server.send(conn, b"this is not TLS\r\n" * 10)
        time.sleep(1)

    with RawSmtpServer(garbage) as server:
        report, elapsed = timed(server.port)
    outcome = report.checks[CheckId.STARTTLS]
    assert [f.code for f in outcome.findings] == ["starttls.handshake_failed"]
    assert outcome.status is CheckStatus.WARN and elapsed < GENEROUS


def test_stall_after_starttls_ends_at_the_handshake_deadline() -> None:
    def stall(conn: socket.socket, server: RawSmtpServer) -> None:
        _until_starttls(conn, server)
        while not server.stop_event.wait(0.1):
            pass

    with RawSmtpServer(stall) as server:
        report, elapsed = timed(server.port)
    could_not_test(report, ErrorReason.PROBE_TIMEOUT)
    assert elapsed < GENEROUS


def test_banner_dripped_one_byte_a_second() -> None:
    def drip(conn: socket.socket, server: RawSmtpServer) -> None:
        server.send(conn, b"220-")
        while server.send(conn, b"x") and not server.stop_event.wait(1.0):
            pass

    with RawSmtpServer(drip) as server:
        report, elapsed = timed(server.port)
    could_not_test(report, ErrorReason.PROBE_TIMEOUT)
    assert elapsed < GENEROUS


def test_one_megabyte_banner() -> None:
    def huge(conn: socket.socket, server: RawSmtpServer) -> None:
        line = b"220-" + b"x" * 1000 + b"\r\n"
        for _ in range(1000):  # ~1 MB of greeting
            if not server.send(conn, line):
                return
        server.send(conn, b"220 done\r\n")

    with RawSmtpServer(huge) as server:
        report, elapsed = timed(server.port)
    could_not_test(report, ErrorReason.REPLY_TOO_LARGE)
    assert elapsed < GENEROUS


def test_endless_multiline_ehlo_reply() -> None:
    def endless(conn: socket.socket, server: RawSmtpServer) -> None:
        server.send(conn, b"220 mx.example.test ESMTP\r\n")
        read_line(conn)
        while server.send(conn, b"250-SIZE 1000\r\n" * 100):
            pass

    with RawSmtpServer(endless) as server:
        report, elapsed = timed(server.port)
    could_not_test(report, ErrorReason.REPLY_TOO_LARGE)
    assert elapsed < GENEROUS


def test_fifty_mx_hosts_cost_a_bounded_number_of_connections() -> None:
    # Given one domain naming 50 MX hosts, all on this server's address
    def plain(conn: socket.socket, server: RawSmtpServer) -> None:
        server.send(conn, b"220 mx.example.test ESMTP\r\n")
        read_line(conn)
        server.send(conn, b"250 mx.example.test\r\n")
        read_line(conn)

    zone = "".join(
        f"example.test. IN MX {i} mx{i}.example.test.\nmx{i}.example.test. IN A 127.0.0.1\n"
        for i in range(50)
    )
    with RawSmtpServer(plain) as server:
        started = time.monotonic()
        run, _ = audit_run(["example.test"], server.port, None, zone=zone, limits=TIGHT)
        elapsed = time.monotonic() - started
        opened = server.counter.opened
    report = run.domains[0]
    cap = ProbeLimits().max_mx_addresses_probed
    assert opened == cap  # 20 hosts resolved (max_mx_hosts), 16 probed, the rest reported
    codes = {f.code for f in report.checks[CheckId.STARTTLS].findings}
    assert {"starttls.not_offered", "starttls.addresses_not_probed"} <= codes
    assert elapsed < 30
    assert MX not in {h.host for h in report.checks[CheckId.STARTTLS].result.hosts}
