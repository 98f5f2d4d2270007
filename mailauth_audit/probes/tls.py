"""The client TLS context both probes use, and the facts of a finished handshake."""

from __future__ import annotations

import contextlib
import ipaddress
import ssl
import warnings

from .certs import TrustStore, hostname_matches, peer_chain_der, summarize_certificate
from .handshake import HandshakeObserver, KeyExchangeGroup, group_bits
from .results import TlsSession

__all__ = ["probe_ssl_context", "server_name_indication", "tls_session"]


def probe_ssl_context(
    alpn: tuple[str, ...] = (),
    *,
    max_version: ssl.TLSVersion | None = None,
    observe_legacy: bool = False,
) -> ssl.SSLContext:
    """Verification off on purpose: the handshake must succeed with any certificate so
    that the certificate can be recorded; `TrustStore` judges it afterwards. TLS 1.0 and
    1.1 stay allowed where the local OpenSSL has them: an MX that only speaks them still
    offers STARTTLS, and the version is reported. `max_version` caps what is offered (the
    "does it still accept TLS 1.1?" probe); without it the newest version is offered.
    `observe_legacy` lowers OpenSSL's security level so that a server speaking only TLS 1.0
    or SHA-1 signatures completes the handshake and is reported as such (SMTP probes)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with contextlib.suppress(ValueError, ssl.SSLError):  # depends on the OpenSSL build
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    if max_version is not None:
        with warnings.catch_warnings():  # naming TLS 1.1 is deprecated; offering it is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.maximum_version = max_version
    if observe_legacy or (max_version is not None and max_version < ssl.TLSVersion.TLSv1_2):
        # OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 signatures) above security level 0; the probe
        # only observes what the server accepts, it protects nothing
        with contextlib.suppress(ssl.SSLError):
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def server_name_indication(host: str) -> str | None:
    """SNI carries host names only (RFC 6066 §3): an address literal is not sent."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.rstrip(".")
    return None


def tls_session(
    ssl_object: ssl.SSLObject | ssl.SSLSocket,
    *,
    host: str,
    trust: TrustStore,
    max_chain: int,
    observer: HandshakeObserver | None = None,
) -> TlsSession:
    presented = peer_chain_der(ssl_object)
    chain_der = tuple(presented[:max_chain])
    summaries = []
    leaf_parsed = False
    for index, der in enumerate(chain_der):
        try:
            summaries.append(summarize_certificate(der))
        except ValueError:  # unparsable: kept as DER, left out of the summaries
            continue
        leaf_parsed = leaf_parsed or index == 0
    trust_error = trust.verify(chain_der)
    cipher = ssl_object.cipher()
    group = _group(ssl_object, observer, cipher[0] if cipher else "")
    return TlsSession(
        version=ssl_object.version() or "unknown",
        cipher=cipher[0] if cipher else "unknown",
        cipher_bits=cipher[2] if cipher else None,
        group=group.name if group is not None else None,
        chain_der=chain_der,
        chain=tuple(summaries),
        chain_truncated=len(presented) > max_chain,
        trusted=trust_error is None,
        trust_error=trust_error,
        trust_store=trust.label,
        hostname_matches=leaf_parsed and hostname_matches(summaries[0], host),
        sni=server_name_indication(host),
        group_bits=group.bits if group is not None else None,
    )


def _group(
    ssl_object: ssl.SSLObject | ssl.SSLSocket, observer: HandshakeObserver | None, cipher: str
) -> KeyExchangeGroup | None:
    """The ssl module's own answer where it has one (Python >= 3.15), else what the
    observer read from the server's handshake messages, else None (never a guess)."""
    reported = getattr(ssl_object, "group", None)
    name = reported() if callable(reported) else None
    if isinstance(name, str) and name:
        return group_bits(name)
    return observer.group(cipher) if observer is not None else None
