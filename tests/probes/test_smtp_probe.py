"""The SMTP prober against a real aiosmtpd with STARTTLS on loopback, and raw socket servers
for what aiosmtpd will not do (a 421 greeting)."""

from __future__ import annotations

import asyncio
import socket

import pytest
from probe_servers import (
    LOOPBACK,
    MX_NAME,
    LoopbackCA,
    RawSmtpServer,
    counting_smtp_server,
    free_port,
    read_line,
)

from mailauth_audit.errors import (
    ProbeConnectionRefused,
    ProbeFailure,
    ProbeRejected,
    ProbeTemporarilyUnavailable,
)
from mailauth_audit.model import ErrorReason
from mailauth_audit.options import ProbeLimits
from mailauth_audit.probes import AsyncSmtpProber, SmtpProber, SmtpProbeResult

FAST = ProbeLimits(
    connect_timeout=5,
    smtp_banner_timeout=5,
    smtp_command_timeout=5,
    tls_handshake_timeout=5,
    smtp_total_timeout=20,
)


def probe(prober: AsyncSmtpProber, port: int, host: str = MX_NAME, address: str = LOOPBACK):
    return asyncio.run(prober.probe(host, address, port))


def test_real_prober_satisfies_the_protocol() -> None:
    assert isinstance(AsyncSmtpProber(), SmtpProber)


def test_starttls_offered_and_trusted_with_the_ca_file(probe_ca: LoopbackCA) -> None:
    with counting_smtp_server(probe_ca.server_context(MX_NAME)) as (port, counter):
        result = probe(AsyncSmtpProber(FAST, ca_file=probe_ca.ca_file), port)
    assert isinstance(result, SmtpProbeResult)
    assert (result.host, result.address, result.port) == (MX_NAME, LOOPBACK, port)
    assert result.banner.code == 220
    assert result.esmtp and result.starttls_offered
    assert result.has_extension("starttls")
    assert result.ehlo_name == "[127.0.0.1]"  # our end's address literal by default
    assert result.starttls_reply is not None and result.starttls_reply.code == 220
    tls = result.tls
    assert tls is not None
    assert tls.version in ("TLSv1.2", "TLSv1.3") and tls.cipher
    assert tls.trusted and tls.trust_error is None and tls.trust_store == probe_ca.ca_file
    assert tls.hostname_matches
    assert tls.sni == MX_NAME
    assert len(tls.chain_der) == len(tls.chain) >= 1 and not tls.chain_truncated
    leaf = tls.chain[0]
    assert MX_NAME in leaf.dns_names
    assert leaf.key_type in ("rsa", "ec") and leaf.signature_algorithm
    assert leaf.not_after > leaf.not_before
    # RFC 3207 §4.2: the EHLO repeated inside TLS; aiosmtpd stops offering STARTTLS there
    assert result.extensions_after_tls is not None
    assert not result.has_extension("STARTTLS", after_tls=True)
    assert counter.opened == 1


def test_unknown_ca_is_recorded_as_untrusted_not_as_a_failure(
    probe_ca: LoopbackCA, other_ca: LoopbackCA
) -> None:
    with counting_smtp_server(other_ca.server_context(MX_NAME)) as (port, _):
        result = probe(AsyncSmtpProber(FAST, ca_file=probe_ca.ca_file), port)
    assert result.starttls_offered and result.tls is not None
    assert not result.tls.trusted and result.tls.trust_error
    assert result.tls.hostname_matches  # the name is right; only the issuer is unknown


def test_system_store_does_not_trust_a_test_ca(probe_ca: LoopbackCA) -> None:
    with counting_smtp_server(probe_ca.server_context(MX_NAME)) as (port, _):
        result = probe(AsyncSmtpProber(FAST), port)
    assert result.tls is not None and not result.tls.trusted
    assert result.tls.trust_store == "system"


def test_self_signed_certificate_is_still_starttls(probe_ca: LoopbackCA) -> None:
    # Given a server whose "leaf" is a CA certificate it signed itself
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf = probe_ca.ca.issue_cert(MX_NAME)
    ctx.load_cert_chain(*_self_signed_files(leaf.private_key_pem.bytes()))
    with counting_smtp_server(ctx) as (port, _):
        result = probe(AsyncSmtpProber(FAST, ca_file=probe_ca.ca_file), port)
    assert result.tls is not None
    assert not result.tls.trusted
    assert result.tls.chain[0].self_issued


def _self_signed_files(key_pem: bytes) -> tuple[str, str]:
    import datetime
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    key = serialization.load_pem_private_key(key_pem, password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, MX_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())  # type: ignore[union-attr]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(MX_NAME)]), critical=False)
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    folder = tempfile.mkdtemp()
    cert_path, key_path = f"{folder}/cert.pem", f"{folder}/key.pem"
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key_pem)
    return cert_path, key_path


def test_wrong_name_is_recorded_as_mismatch(probe_ca: LoopbackCA) -> None:
    with counting_smtp_server(probe_ca.server_context("other.example.test")) as (port, _):
        result = probe(AsyncSmtpProber(FAST, ca_file=probe_ca.ca_file), port)
    assert result.tls is not None
    assert result.tls.trusted  # the chain is fine ...
    assert not result.tls.hostname_matches  # ... for another name


def test_no_starttls() -> None:
    with counting_smtp_server(None) as (port, _):
        result = probe(AsyncSmtpProber(FAST), port)
    assert result.banner.code == 220 and result.esmtp
    assert not result.starttls_offered
    assert result.starttls_reply is None and result.tls is None
    assert result.extensions_after_tls is None


def test_starttls_can_be_left_unused(probe_ca: LoopbackCA) -> None:
    with counting_smtp_server(probe_ca.server_context(MX_NAME)) as (port, _):
        result = probe(AsyncSmtpProber(FAST, starttls=False), port)
    assert result.starttls_offered and result.tls is None and result.starttls_reply is None


def _greet(reply: bytes):
    def script(conn: socket.socket, server: RawSmtpServer) -> None:
        server.send(conn, reply)

    return script


def test_421_greeting_is_temporarily_unavailable_not_no_starttls() -> None:
    busy = _greet(b"421 4.7.0 mx.example.test too busy, try later\r\n")
    with RawSmtpServer(busy) as server, pytest.raises(ProbeTemporarilyUnavailable) as info:
        probe(AsyncSmtpProber(FAST), server.port)
    err = info.value
    assert err.code == 421 and "too busy" in err.text and err.stage == "banner"
    assert err.failure is ProbeFailure.TEMPORARILY_UNAVAILABLE
    assert isinstance(err.reason, ErrorReason)


def test_554_greeting_is_rejected() -> None:
    refusing = _greet(b"554 5.7.1 no SMTP service here\r\n")
    with RawSmtpServer(refusing) as server, pytest.raises(ProbeRejected) as info:
        probe(AsyncSmtpProber(FAST), server.port)
    assert info.value.code == 554


def test_4xx_to_ehlo_is_temporarily_unavailable() -> None:
    def script(conn: socket.socket, server: RawSmtpServer) -> None:
        server.send(conn, b"220 mx ESMTP\r\n")
        read_line(conn)
        server.send(conn, b"421 4.3.2 rate limited\r\n")

    with RawSmtpServer(script) as server, pytest.raises(ProbeTemporarilyUnavailable) as info:
        probe(AsyncSmtpProber(FAST), server.port)
    assert info.value.stage == "ehlo"


def test_helo_only_server() -> None:
    def script(conn: socket.socket, server: RawSmtpServer) -> None:
        server.send(conn, b"220 old mx\r\n")
        assert read_line(conn).startswith(b"EHLO")
        server.send(conn, b"502 5.5.1 command not implemented\r\n")
        assert read_line(conn).startswith(b"HELO")
        server.send(conn, b"250 old mx\r\n")
        read_line(conn)

    with RawSmtpServer(script) as server:
        result = probe(AsyncSmtpProber(FAST), server.port)
    assert not result.esmtp and not result.starttls_offered and result.extensions == ()


def test_refused_port_is_connection_refused() -> None:
    port = free_port()  # bound, then released: nothing listens there
    with pytest.raises(ProbeConnectionRefused) as info:
        probe(AsyncSmtpProber(FAST), port)
    assert info.value.stage == "connect"
    assert info.value.failure is ProbeFailure.CONNECTION_REFUSED


def test_a_name_is_never_resolved_by_the_probe() -> None:
    with pytest.raises(ValueError, match="IP address"):
        probe(AsyncSmtpProber(FAST), 25, address="localhost")


def test_ipv6_loopback(probe_ca: LoopbackCA) -> None:
    with counting_smtp_server(probe_ca.server_context(MX_NAME), host="::1") as (port, _):
        result = probe(AsyncSmtpProber(FAST, ca_file=probe_ca.ca_file), port, address="::1")
    assert result.address == "::1" and result.ehlo_name == "[IPv6:::1]"
    assert result.tls is not None and result.tls.trusted


def test_ehlo_name_cannot_smuggle_commands() -> None:
    with pytest.raises(ValueError):
        AsyncSmtpProber(ehlo_name="probe.example\r\nMAIL FROM:<x@example.test>")


def test_given_ehlo_name_is_sent() -> None:
    seen: list[bytes] = []

    def script(conn: socket.socket, server: RawSmtpServer) -> None:
        server.send(conn, b"220 mx\r\n")
        seen.append(read_line(conn))
        server.send(conn, b"250 mx\r\n")
        read_line(conn)

    with RawSmtpServer(script) as server:
        result = probe(AsyncSmtpProber(FAST, ehlo_name="probe.example.net"), server.port)
    assert seen == [b"EHLO probe.example.net\r\n"] and result.ehlo_name == "probe.example.net"
