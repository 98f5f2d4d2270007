"""Findings of the mx_identity check: reverse DNS of the MX addresses (RFC 1912 §2.1,
forward-confirmed reverse DNS as M3AAWG and the large providers ask for), the name the
server gives itself (RFC 5321 §4.1.1.1, §4.3.1), IPv6 reachability (RFC 3974 §3)."""

from __future__ import annotations

from ..model import CheckId, Severity
from .base import FindingSpec

_ID = CheckId.MX_IDENTITY

NO_PTR = FindingSpec(
    code="mx_identity.no_ptr",
    severity=Severity.LOW,
    check=_ID,
    title="MX address has no reverse DNS (PTR)",
    detail="{addresses} have no PTR record. Mail servers that also send from these addresses "
    "are refused or scored down by receivers that require reverse DNS.",
    remediation="Ask whoever holds the address block (your hosting or network provider) to "
    "publish a PTR record naming the server, e.g. `{reverse}. 3600 IN PTR {host}.`",
    references=("RFC 1912 §2.1",),
)

NOT_CONFIRMED = FindingSpec(
    code="mx_identity.ptr_not_confirmed",
    severity=Severity.LOW,
    check=_ID,
    title="MX reverse DNS is not forward-confirmed",
    detail="The PTR name of {addresses} does not resolve back to the address (forward-confirmed "
    "reverse DNS fails): {pairs}.",
    remediation="Make the PTR name resolve to the address, e.g. `{ptr}. 3600 IN {rtype} "
    "{address}`, or change the PTR to a name that does.",
    references=("RFC 1912 §2.1", "RFC 8601 §3"),
)

BANNER_MISMATCH = FindingSpec(
    code="mx_identity.banner_name_mismatch",
    severity=Severity.INFO,
    check=_ID,
    title="MX greets with a name that is neither its MX name nor its PTR",
    detail="{pairs}. Nothing breaks, but a consistent name (banner, EHLO, PTR, certificate) "
    "makes the server easier to recognise and to debug.",
    remediation="Set the server's own name to its MX or PTR name, e.g. in Postfix: "
    "`myhostname = {host}`.",
    references=("RFC 5321 §4.1.1.1", "RFC 5321 §4.3.1"),
)

IPV6_UNREACHABLE = FindingSpec(
    code="mx_identity.ipv6_unreachable",
    severity=Severity.MEDIUM,
    check=_ID,
    title="MX publishes an IPv6 address that does not answer",
    detail="{addresses} (IPv6) could not be reached on port {port} ({reasons}) while the same "
    "host answered over IPv4. Senders with IPv6 try it first and wait for a timeout.",
    remediation="Make the server listen on its IPv6 address (Postfix: `inet_protocols = all`) "
    "and open port {port} to it, or remove the AAAA record of {host}.",
    references=("RFC 3974 §3", "RFC 5321 §5.1"),
)
