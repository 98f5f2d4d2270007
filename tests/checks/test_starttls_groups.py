"""The key-exchange group the starttls check records, against aiosmtpd servers whose `ssl`
context pins it: a TLS 1.3 curve reached through a HelloRetryRequest, a TLS 1.2 curve read
from the ServerKeyExchange, and a TLS 1.2 DHE server with a 1024-bit prime (weak). The
Postfix case is in test_starttls_servers.py (it shares that module's server)."""

from __future__ import annotations

import base64
import ssl
from pathlib import Path

import pytest
import trustme
from probe_servers import counting_smtp_server
from starttls_helpers import MX, audit_one

from mailauth_audit.checks.starttls import StarttlsResult
from mailauth_audit.model import AuditRun, CheckId, DomainReport
from mailauth_audit.probes.results import TlsSession

# RFC 2409 §6.2, the 1024-bit MODP group: a well-known prime, so no parameters to generate
MODP_1024 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)


def _der(tag: int, body: bytes) -> bytes:
    size = len(body)
    head = bytes([size]) if size < 128 else bytes([0x82]) + size.to_bytes(2, "big")
    return bytes([tag]) + head + body


def dh_params_pem(prime: int, generator: int = 2) -> str:
    """PKCS #3 DHParameter (SEQUENCE of two INTEGERs) as PEM, for `load_dh_params`."""
    ints = b"".join(
        _der(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big")) for n in (prime, generator)
    )
    body = base64.encodebytes(_der(0x30, ints)).decode()
    return f"-----BEGIN DH PARAMETERS-----\n{body}-----END DH PARAMETERS-----\n"


@pytest.fixture(scope="module")
def rsa_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, str]:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("groups-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


def server_context(ca: trustme.CA, *, tls12: bool = False) -> ssl.SSLContext:
    """An RSA certificate: the DHE-RSA suites need one."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(MX, key_type=trustme.KeyType.RSA).configure_cert(ctx)
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def session(report: DomainReport) -> TlsSession:
    result = report.checks[CheckId.STARTTLS].result
    assert isinstance(result, StarttlsResult)
    (host,) = result.hosts
    (address,) = host.addresses
    assert address.probe is not None and address.probe.tls is not None
    return address.probe.tls


def codes(report: DomainReport) -> set[str]:
    return {f.code for f in report.checks[CheckId.STARTTLS].findings}


def test_tls_1_3_server_pinned_to_p256(rsa_ca: tuple[trustme.CA, str]) -> None:
    # our ClientHello carries an X25519 key share first: the server asks again for P-256
    ctx = server_context(rsa_ca[0])
    ctx.set_ecdh_curve("prime256v1")
    with counting_smtp_server(ctx) as (port, _):
        report = audit_one(port, rsa_ca[1])
    tls = session(report)
    assert (tls.version, tls.group, tls.group_bits) == ("TLSv1.3", "secp256r1", 256)
    assert "starttls.weak_key_exchange" not in codes(report)


def test_tls_1_2_server_pinned_to_p384(rsa_ca: tuple[trustme.CA, str]) -> None:
    ctx = server_context(rsa_ca[0], tls12=True)
    ctx.set_ecdh_curve("secp384r1")
    with counting_smtp_server(ctx) as (port, _):
        report = audit_one(port, rsa_ca[1])
    tls = session(report)
    assert tls.version == "TLSv1.2" and tls.cipher.startswith("ECDHE-")
    assert (tls.group, tls.group_bits) == ("secp384r1", 384)


def test_tls_1_2_dhe_with_a_1024_bit_prime_is_weak(
    rsa_ca: tuple[trustme.CA, str], tmp_path: Path
) -> None:
    from mailauth_audit.report.html import render_run_page
    from mailauth_audit.report.renderers import TextRenderer

    pem = tmp_path / "dh1024.pem"
    pem.write_text(dh_params_pem(MODP_1024))
    ctx = server_context(rsa_ca[0], tls12=True)
    ctx.set_ciphers("DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0")  # OpenSSL 3 refuses 1024 above 0
    ctx.load_dh_params(str(pem))
    with counting_smtp_server(ctx) as (port, _):
        report = audit_one(port, rsa_ca[1])
    tls = session(report)
    assert tls.cipher == "DHE-RSA-AES128-GCM-SHA256"
    assert (tls.group, tls.group_bits, tls.group_text) == ("DHE", 1024, "DHE 1024-bit")
    (weak,) = [
        f
        for f in report.checks[CheckId.STARTTLS].findings
        if f.code == "starttls.weak_key_exchange"
    ]
    assert "a 1024-bit DHE prime" in weak.detail
    run = AuditRun("", "", (report,))
    assert ">DHE 1024-bit</td>" in render_run_page(run)
    assert "group DHE 1024-bit" in TextRenderer().render(run)
