"""Certificates after the handshake: parse the presented chain, judge trust and the name.

The handshake runs with verification off so that a self-signed or mismatched certificate
is recorded (it is still STARTTLS, and still tells us something) instead of ending the
probe. Trust is then decided here with `cryptography`'s path builder: the Web PKI rules
for CA certificates, a lenient profile for the leaf (any extension allowed, but an
extendedKeyUsage without serverAuth is refused, as OpenSSL's "sslserver" purpose does).
The name is matched by our own RFC 6125 function, separately from trust.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import os
import ssl
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from ..errors import ConfigurationError
from .results import CertificateSummary

__all__ = [
    "TrustStore",
    "hostname_matches",
    "peer_chain_der",
    "summarize_certificate",
]

_PEM_END = b"-----END CERTIFICATE-----"


def summarize_certificate(der: bytes) -> CertificateSummary:
    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = tuple(san.get_values_for_type(x509.DNSName))
        ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except (x509.ExtensionNotFound, ValueError):
        dns_names, ips = (), ()
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(cns[-1].value) if cns else None
    key_type, key_bits, curve = _key_facts(cert)
    oid = cert.signature_algorithm_oid
    return CertificateSummary(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        dns_names=dns_names,
        ip_addresses=ips,
        common_name=common_name,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=key_type,
        key_bits=key_bits,
        curve=curve,
        signature_algorithm=getattr(oid, "_name", None) or oid.dotted_string,
        serial_number=format(cert.serial_number, "x"),
        sha256_fingerprint=hashlib.sha256(der).hexdigest(),
        self_issued=cert.subject == cert.issuer,
    )


def _key_facts(cert: x509.Certificate) -> tuple[str, int | None, str | None]:
    try:
        key = cert.public_key()
    except (ValueError, TypeError):  # unsupported algorithm or a broken key
        return "unknown", None, None
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ec", key.curve.key_size, key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519", None, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "ed448", None, None
    if isinstance(key, dsa.DSAPublicKey):
        return "dsa", key.key_size, None
    return "unknown", None, None


def hostname_matches(summary: CertificateSummary, host: str) -> bool:
    """RFC 6125 §6.4: the DNS-IDs of the subjectAltName; the CN only when the certificate
    has no dNSName at all (what OpenSSL's X509_check_host does). A wildcard stands for the
    whole left-most label and nothing else. An address literal matches iPAddress entries."""
    wanted = host.rstrip(".").lower()
    try:
        ip = ipaddress.ip_address(wanted.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None:
        return any(_same_ip(ip, text) for text in summary.ip_addresses)
    names = summary.dns_names or ((summary.common_name,) if summary.common_name else ())
    return any(_dns_id_matches(name, wanted) for name in names)


def _same_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, text: str) -> bool:
    try:
        return ipaddress.ip_address(text) == ip
    except ValueError:
        return False


def _dns_id_matches(pattern: str, host: str) -> bool:
    pattern = pattern.rstrip(".").lower()
    if not pattern or not host:
        return False
    if pattern == host:
        return True
    if not pattern.startswith("*."):
        return False
    suffix = pattern[2:]
    # the wildcard covers exactly one label, and never a bare public suffix like "*.com"
    if "*" in suffix or "." not in suffix:
        return False
    label, _, rest = host.partition(".")
    return bool(label) and rest == suffix


class TrustStore:
    """Trust anchors loaded once per prober: the system bundle, or a CA file (tests, a
    private PKI). Verifies a presented chain without looking at names."""

    def __init__(self, ca_file: str | os.PathLike[str] | None = None) -> None:
        if ca_file is not None:
            path = Path(ca_file)
            self.label = str(path)
        else:
            path = _system_bundle()
            self.label = "system"
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read CA file {path}: {exc.strerror}") from None
        roots = _load_pems(data)
        if not roots:
            raise ConfigurationError(f"no usable certificate in CA file {path}")
        self._store = Store(roots)

    def verify(self, chain_der: Sequence[bytes], *, at: datetime | None = None) -> str | None:
        """None when the chain builds to a trust anchor at `at` (now); else the reason."""
        if not chain_der:
            return "no certificate presented"
        try:
            leaf = x509.load_der_x509_certificate(chain_der[0])
            intermediates = [x509.load_der_x509_certificate(d) for d in chain_der[1:]]
        except ValueError as exc:
            return f"unparsable certificate: {exc}"
        builder = (
            PolicyBuilder()
            .store(self._store)
            .time(at or datetime.now(UTC))
            .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_EE)
        )
        try:
            builder.build_client_verifier().verify(leaf, intermediates)
        except VerificationError as exc:
            return _plain_reason(str(exc))
        return None


def _plain_reason(message: str) -> str:
    """The path builder's "candidates exhausted" with nothing more means no issuer was
    found at all, the common case of a self-signed certificate or an unknown CA."""
    if "candidates exhausted" in message and "no interior errors" in message:
        return "no chain to a trusted root (self-signed, unknown issuer or missing intermediate)"
    return message.removeprefix("validation failed: ")


def _require_server_auth(policy: object, cert: object, eku: x509.ExtendedKeyUsage | None) -> None:
    allowed = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE)
    if eku is not None and not any(oid in eku for oid in allowed):
        raise ValueError("extendedKeyUsage does not allow serverAuth")


# The leaf is judged leniently (Web PKI rules would refuse, for instance, a critical
# subjectAltName beside a non-empty subject, which OpenSSL and so every MTA accepts).
_EE = ExtensionPolicy.permit_all().may_be_present(
    x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _require_server_auth
)


def _system_bundle() -> Path:
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    try:
        import certifi  # httpx depends on it: present wherever the probes are
    except ImportError:  # pragma: no cover - only without httpx's dependencies
        raise ConfigurationError("no system CA bundle found; give a CA file") from None
    return Path(certifi.where())


def _load_pems(data: bytes) -> list[x509.Certificate]:
    """Each PEM block on its own: one certificate the parser refuses must not cost the
    whole bundle."""
    certs = []
    with warnings.catch_warnings():
        # old roots with a non-positive serial still load, with a deprecation warning
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        for block in data.split(_PEM_END)[:-1]:
            start = block.find(b"-----BEGIN CERTIFICATE-----")
            if start < 0:
                continue
            with contextlib.suppress(ValueError):
                certs.append(x509.load_pem_x509_certificate(block[start:] + _PEM_END + b"\n"))
    return certs


def peer_chain_der(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> list[bytes]:
    """The certificates the server sent, leaf first. Python 3.13 has a public method; 3.11
    and 3.12 have the same one on the private `_sslobj`; failing both, the leaf alone."""
    public = getattr(ssl_object, "get_unverified_chain", None)
    if public is not None:
        return [bytes(c) for c in public()]
    private = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    if private is not None:
        chain = private() or []
        return [c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]  # type: ignore[attr-defined]
    leaf = ssl_object.getpeercert(binary_form=True)
    return [leaf] if leaf else []
