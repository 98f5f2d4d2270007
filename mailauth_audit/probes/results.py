"""Typed facts a probe brings back. Frozen: one result is shared by every domain whose MX or
policy host it describes (the run-wide cache hands out the same object)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CertificateSummary:
    """The fields of one certificate that a check judges; the DER stays in `TlsSession`."""

    subject: str  # RFC 4514 text
    issuer: str  # RFC 4514 text
    dns_names: tuple[str, ...]  # subjectAltName dNSName entries, as written
    ip_addresses: tuple[str, ...]  # subjectAltName iPAddress entries
    common_name: str | None  # the subject's last CN, when it has one
    not_before: datetime  # UTC
    not_after: datetime  # UTC
    key_type: str  # "rsa", "ec", "ed25519", "ed448", "dsa" or "unknown"
    key_bits: int | None  # RSA/DSA modulus or EC curve size; None for the EdDSA keys
    curve: str | None  # EC keys only: "secp256r1", ...
    signature_algorithm: str  # "sha256WithRSAEncryption", "ecdsa-with-SHA384", ...
    serial_number: str  # hex
    sha256_fingerprint: str  # hex of the DER's SHA-256
    self_issued: bool  # subject == issuer


@dataclass(frozen=True)
class TlsSession:
    """A completed handshake. The handshake never requires trust: an untrusted or
    mismatched certificate is still TLS, and the two verdicts are recorded beside it."""

    version: str  # "TLSv1.3", "TLSv1.2", ...
    cipher: str  # OpenSSL cipher suite name
    cipher_bits: int | None
    # key-exchange group: "X25519", "secp256r1", "ffdhe2048", "X25519MLKEM768"; "DHE" for a
    # TLS 1.2 server's own prime (its size in group_bits); None when the TLS library did not
    # report it, or the key exchange has no group (RSA key transport)
    group: str | None
    chain_der: tuple[bytes, ...]  # as presented, leaf first, at most max_chain_certificates
    chain: tuple[CertificateSummary, ...]  # the same certificates, parsed
    chain_truncated: bool  # the server presented more than max_chain_certificates
    trusted: bool  # the chain builds to a root of the trust store (system or CA file)
    trust_error: str | None  # set when not trusted: the verifier's reason
    trust_store: str  # "system" or the CA file's path
    hostname_matches: bool  # the leaf names the host asked for (RFC 6125, SAN first)
    sni: str | None  # server name sent in the ClientHello (None for an address literal)
    # the group's size: curve bits (X25519: 253) or the DHE prime's bits; None with group
    # None or a code point this tool does not know
    group_bits: int | None = None

    @property
    def group_text(self) -> str:
        """The group as reports show it; an unreported group is said to be, never guessed."""
        if self.group is None:
            return "not reported"
        if self.group == "DHE" and self.group_bits:
            return f"DHE {self.group_bits}-bit"
        return self.group


@dataclass(frozen=True)
class SmtpReply:
    code: int
    lines: tuple[str, ...]  # text after the code on each line, decoded leniently

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class SmtpProbeResult:
    """What one SMTP server said, from its greeting up to (and after) STARTTLS."""

    host: str  # the MX host name the probe was for (SNI and name check use it)
    address: str  # the IP address connected to
    port: int
    banner: SmtpReply  # the 220 greeting
    ehlo_name: str  # the name this probe sent in EHLO
    esmtp: bool  # EHLO was accepted (False: the server only took HELO)
    ehlo_greeting: str  # first line of the EHLO reply (the server's name for itself)
    extensions: tuple[tuple[str, str], ...]  # (KEYWORD upper-cased, parameters) before TLS
    starttls_offered: bool
    # set when STARTTLS was sent: the server's answer (220 = go ahead; a 5xx is recorded here)
    starttls_reply: SmtpReply | None
    tls: TlsSession | None  # set when the handshake completed
    # set after TLS: the extensions of the EHLO repeated inside TLS (RFC 3207 §4.2); None when
    # that EHLO got no usable answer
    extensions_after_tls: tuple[tuple[str, str], ...] | None

    def has_extension(self, keyword: str, *, after_tls: bool = False) -> bool:
        source = self.extensions_after_tls if after_tls else self.extensions
        wanted = keyword.upper()
        return any(k == wanted for k, _ in source or ())


@dataclass(frozen=True)
class HttpsFetchResult:
    """One HTTPS GET, redirects never followed (RFC 8461 §3.3 forbids following them for a
    policy fetch; a caller that wants to follow one reads `location`)."""

    host: str  # the name sent in SNI and Host
    address: str
    port: int
    path: str
    status: int
    reason: str  # the status line's reason phrase
    content_type: str | None  # the header as sent
    media_type: str | None  # its type/subtype, lower-cased, parameters dropped
    charset: str | None  # its charset parameter, lower-cased
    content_encoding: str | None  # when set, `body` is still encoded (never decoded here)
    content_length: int | None  # the header's value, when it was a number
    body: bytes  # at most max_body_bytes
    truncated: bool  # the server had more than max_body_bytes to send
    location: str | None  # the Location header of a 3xx reply (not followed)
    http_version: str  # "HTTP/1.1", "HTTP/1.0"
    tls: TlsSession

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400
