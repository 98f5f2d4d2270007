"""One root exception, and resolver errors that say *why* a question got no answer.

A timeout or SERVFAIL says nothing about the domain's records, so these are exceptions and
never values: the engine turns them into `status=error` with a reason, not into "missing".
"""

from __future__ import annotations

from enum import StrEnum

from .model import ErrorReason


class MailauthAuditError(Exception):
    """Root of every exception this package raises on purpose."""


class InvalidDomainError(MailauthAuditError, ValueError):
    """The text is not a domain name we can audit."""


class ConfigurationError(MailauthAuditError, ValueError):
    """Bad option values: an unparsable nameserver, an unreadable zone file."""


class ResolverError(MailauthAuditError):
    reason: ErrorReason = ErrorReason.DNS_PROTOCOL_ERROR
    label = "DNS error"

    def __init__(self, qname: str, rdtype: str, detail: str = "") -> None:
        self.qname = qname
        self.rdtype = rdtype
        self.detail = detail
        text = f"{self.label} for {rdtype} {qname}"
        super().__init__(f"{text}: {detail}" if detail else text)


class DnsTimeout(ResolverError):
    reason = ErrorReason.DNS_TIMEOUT
    label = "DNS timeout"


class DnsServfail(ResolverError):
    reason = ErrorReason.DNS_SERVFAIL
    label = "DNS server failure (SERVFAIL)"


class DnsRefused(ResolverError):
    reason = ErrorReason.DNS_REFUSED
    label = "DNS query refused (REFUSED)"


class DnsCnameLoop(ResolverError):
    reason = ErrorReason.DNS_CNAME_LOOP
    label = "CNAME loop or chain too long"


class DnsProtocolError(ResolverError):
    """A malformed or unexpected answer (bad wire data, an rcode we cannot interpret)."""

    reason = ErrorReason.DNS_PROTOCOL_ERROR
    label = "malformed or unexpected DNS answer"


class NetworkUnreachable(ResolverError):
    reason = ErrorReason.NETWORK_UNREACHABLE
    label = "network unreachable"


class ProbeFailure(StrEnum):
    """Why a probe (an SMTP or HTTPS connection to a server) could not be completed.

    Each value says "could not test", never "the server lacks the feature": a 421 from a
    rate-limited MX is not "no STARTTLS". The values are spelled so that they can become
    `ErrorReason` members as they are; until then `ProbeError.reason` falls back to the
    nearest existing one.
    """

    CONNECTION_REFUSED = "connection_refused"
    NETWORK_UNREACHABLE = "network_unreachable"
    TIMEOUT = "probe_timeout"
    TLS_HANDSHAKE_FAILED = "tls_handshake_failed"
    PROTOCOL_ERROR = "protocol_error"
    REPLY_TOO_LARGE = "reply_too_large"
    TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"  # an SMTP 4xx reply (421, 450, ...)
    REJECTED = "rejected"  # an SMTP 5xx greeting or HELO: the server will not talk to us


class ProbeError(MailauthAuditError):
    """A probe of `host` at `address`:`port` could not be completed; `stage` says where
    (connect, banner, ehlo, starttls, tls, request, body)."""

    failure: ProbeFailure = ProbeFailure.PROTOCOL_ERROR
    coarse_reason: ErrorReason = ErrorReason.PROTOCOL_ERROR
    label = "probe failed"

    def __init__(
        self, host: str, address: str, port: int, *, stage: str = "", detail: str = ""
    ) -> None:
        self.host = host
        self.address = address
        self.port = port
        self.stage = stage
        self.detail = detail
        where = f"{host} [{address}]:{port}"
        text = f"{self.label} ({stage}) at {where}" if stage else f"{self.label} at {where}"
        super().__init__(f"{text}: {detail}" if detail else text)

    @property
    def reason(self) -> ErrorReason:
        try:
            return ErrorReason(self.failure.value)
        except ValueError:
            return self.coarse_reason


class ProbeConnectionRefused(ProbeError):
    failure = ProbeFailure.CONNECTION_REFUSED
    coarse_reason = ErrorReason.NETWORK_UNREACHABLE
    label = "connection refused"


class ProbeNetworkError(ProbeError):
    """Any other failure to reach the address (unreachable, reset while connecting)."""

    failure = ProbeFailure.NETWORK_UNREACHABLE
    coarse_reason = ErrorReason.NETWORK_UNREACHABLE
    label = "network error"


class ProbeTimeout(ProbeError):
    """A stage's or the whole probe's deadline passed (`ProbeLimits`)."""

    failure = ProbeFailure.TIMEOUT
    coarse_reason = ErrorReason.NETWORK_UNREACHABLE
    label = "timed out"


class ProbeTlsHandshakeFailed(ProbeError):
    """The TLS handshake itself failed (no shared version or cipher, reset mid-handshake).
    An untrusted or mismatched certificate is NOT this: it is recorded in the result."""

    failure = ProbeFailure.TLS_HANDSHAKE_FAILED
    label = "TLS handshake failed"


class ProbeProtocolError(ProbeError):
    """The server spoke something that is not the protocol (a malformed reply line, bytes
    sent before a TLS handshake, a broken HTTP response)."""

    failure = ProbeFailure.PROTOCOL_ERROR
    label = "protocol error"


class ProbeReplyTooLarge(ProbeError):
    """A reply passed a `ProbeLimits` size bound (line length, line count, total bytes)."""

    failure = ProbeFailure.REPLY_TOO_LARGE
    label = "reply too large"


class ProbeSmtpReplyError(ProbeError):
    """An SMTP reply that ends the probe; `code` and `text` are the server's (bounded)."""

    def __init__(
        self, host: str, address: str, port: int, *, stage: str = "", code: int, text: str = ""
    ) -> None:
        self.code = code
        self.text = text
        super().__init__(host, address, port, stage=stage, detail=f"{code} {text}".strip())


class ProbeTemporarilyUnavailable(ProbeSmtpReplyError):
    """An SMTP 4xx reply (421 service not available, 450, 454 ...): try again later."""

    failure = ProbeFailure.TEMPORARILY_UNAVAILABLE
    label = "temporarily unavailable"


class ProbeRejected(ProbeSmtpReplyError):
    """An SMTP 5xx greeting or HELO reply: the server refuses this client for good."""

    failure = ProbeFailure.REJECTED
    label = "rejected by the server"


class OutsideZoneFile(ResolverError):
    """--zone-file: the name is in none of the loaded zones, so the files cannot say whether
    it has records; only a nameserver could (see resolver/zonefiles.py)."""

    reason = ErrorReason.OUTSIDE_ZONE_FILE
    label = "outside the zone file(s): not checked"


class NoAuthoritativeServer(ResolverError):
    """--authoritative: the zone of the name, or an address for any of its servers, could
    not be found, so there is no server to ask directly."""

    reason = ErrorReason.NO_AUTHORITATIVE_SERVER
    label = "no authoritative server found"


class ResolverNotValidating(ResolverError):
    """Signed answers came back and the AD bit never did: the resolver does not validate
    DNSSEC, so "secure" and "insecure" cannot be told apart through it. Never "insecure"."""

    reason = ErrorReason.RESOLVER_NOT_VALIDATING
    label = "resolver does not validate DNSSEC"

    def __init__(self, servers: str, qname: str, rdtype: str) -> None:
        super().__init__(
            qname,
            rdtype,
            f"{servers or 'the resolver'} sent signed answers without the AD bit; "
            "name a validating resolver with --dnssec-resolver",
        )
        # the message leads with the verdict ("resolver does not validate DNSSEC: ...")
        self.args = (f"{self.label}: {self.detail} (asked {rdtype} {qname})",)
