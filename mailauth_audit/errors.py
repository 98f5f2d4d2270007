"""One root exception, and resolver errors that say *why* a question got no answer.

A timeout or SERVFAIL says nothing about the domain's records, so these are exceptions and
never values: the engine turns them into `status=error` with a reason, not into "missing".
"""

from __future__ import annotations

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
