"""Findings of the MX check (RFC 5321 §5.1, RFC 7505 null MX, RFC 2181 §10.3)."""

from __future__ import annotations

from ..model import CheckId, Severity
from .base import FindingSpec

_MX = CheckId.MX

DOMAIN_NXDOMAIN = FindingSpec(
    code="mx.domain_nxdomain",
    # critical: the root cause that stands alone for the SPF, DKIM and DMARC records that
    # cannot exist under the name (checks/crosscheck.py), so the grade stays an F
    severity=Severity.CRITICAL,
    check=_MX,
    title="The domain does not exist in DNS",
    detail="{domain} does not exist (NXDOMAIN): no mail can be delivered to it, and receivers "
    "reject mail that claims to come from it. No SPF, DKIM or DMARC record can exist under a "
    "name that does not exist, so those checks are skipped rather than reported missing.",
    remediation="Check the spelling. If the domain is yours, make sure it is registered and "
    "delegated to your DNS servers, then publish its MX records.",
    references=("RFC 5321 §5.1", "RFC 8020"),
)

MISSING = FindingSpec(
    code="mx.missing",
    severity=Severity.MEDIUM,
    check=_MX,
    title="No MX record and no address to fall back on",
    detail="{domain} publishes no MX record and has no A or AAAA record, so it cannot receive "
    "mail (bounces and DMARC reports included), and it does not say so explicitly.",
    remediation="If {domain} receives mail, publish its mail servers, e.g. "
    "`{domain}. 3600 IN MX 10 mx1.{domain}.`. If it neither sends nor receives mail, publish a "
    "null MX: `{domain}. 3600 IN MX 0 .`",
    references=("RFC 5321 §5.1", "RFC 7505 §3"),
)

IMPLICIT = FindingSpec(
    code="mx.implicit",
    severity=Severity.MEDIUM,
    check=_MX,
    title="No MX record: mail goes to the domain's own address (implicit MX)",
    detail="{domain} publishes no MX record, so senders deliver to its A/AAAA address "
    "({addresses}) as an implicit MX. That host is usually a web server that does not "
    "accept mail, so mail waits in queues for days before it bounces.",
    remediation="If {domain} receives mail, publish an explicit MX for the host that does, e.g. "
    "`{domain}. 3600 IN MX 10 mx1.{domain}.`. If it receives no mail, publish a null MX: "
    "`{domain}. 3600 IN MX 0 .`",
    references=("RFC 5321 §5.1", "RFC 7505 §3"),
)

NULL_MX = FindingSpec(
    code="mx.null_mx",
    severity=Severity.INFO,
    check=_MX,
    title="Null MX: the domain declares that it accepts no mail",
    detail="{domain} publishes a null MX (`MX 0 .`): senders fail mail to it at once instead "
    "of queueing it.",
    # no record proposed: only the owner knows which servers would receive the mail
    remediation="Nothing to do if {domain} receives no mail. To receive mail, replace the null "
    "MX with MX records naming the servers that accept it.",
    references=("RFC 7505 §3",),
)

NULL_MX_MIXED = FindingSpec(
    code="mx.null_mx_mixed",
    severity=Severity.HIGH,
    check=_MX,
    title="Null MX published alongside other MX records",
    detail="{domain} publishes a null MX together with {count} other MX record(s) ({hosts}). "
    "RFC 7505 says a domain with a null MX must not have other MX records; senders may treat "
    "the domain as accepting no mail, or ignore the null MX.",
    remediation="Keep one or the other. To receive no mail, keep only "
    "`{domain}. 3600 IN MX 0 .`; to receive mail, delete the `MX 0 .` record.",
    references=("RFC 7505 §3",),
)

NULL_MX_BAD_PREFERENCE = FindingSpec(
    code="mx.null_mx_bad_preference",
    severity=Severity.LOW,
    check=_MX,
    title="Null MX with a preference other than 0",
    detail="{domain}'s null MX has preference {preference}; RFC 7505 specifies 0.",
    remediation="Publish the null MX as `{domain}. 3600 IN MX 0 .`",
    references=("RFC 7505 §3",),
)

IP_LITERAL_TARGET = FindingSpec(
    code="mx.ip_literal_target",
    severity=Severity.HIGH,
    check=_MX,
    title="MX target is an IP address, not a host name",
    detail="The MX of {domain} names {hosts}: an MX target must be a host name. Senders look "
    "it up as a name and find no address, so mail to this MX is not delivered.",
    remediation="Give the server a name and point the MX at it: "
    "`mail.{domain}. 3600 IN A {example_address}` and "
    "`{domain}. 3600 IN MX {preference} mail.{domain}.`",
    references=("RFC 5321 §5.1", "RFC 1035 §3.3.9"),
)

CNAME_TARGET = FindingSpec(
    code="mx.cname_target",
    severity=Severity.LOW,
    check=_MX,
    title="MX target is an alias (CNAME)",
    detail="The MX host(s) {hosts} of {domain} are CNAME aliases. RFC 2181 and RFC 5321 say "
    "an MX must name the canonical host; most senders cope, some do not.",
    remediation="Point the MX at the canonical name: `{domain}. 3600 IN MX {preference} {target}.`",
    references=("RFC 5321 §5.1", "RFC 2181 §10.3"),
)

HOST_NO_ADDRESS = FindingSpec(
    code="mx.host_no_address",
    severity=Severity.HIGH,
    check=_MX,
    title="MX host has no address",
    detail="The MX host(s) {hosts} of {domain} have no A or AAAA record{nxdomain_note}: "
    "senders cannot deliver to them.{scope_note}",
    remediation="Publish the address of each mail server (e.g. `{host}. 3600 IN A <IPv4 "
    "address>`), or remove the MX records that point at hosts you no longer use.",
    references=("RFC 5321 §5.1",),
)

NON_PUBLIC_ADDRESS = FindingSpec(
    code="mx.non_public_address",
    severity=Severity.HIGH,
    check=_MX,
    title="MX host resolves to a non-public address",
    detail="MX host(s) of {domain} resolve to addresses that are not reachable on the "
    "Internet: {addresses}. Senders either fail or try to deliver inside their own "
    "network.{scope_note}",
    remediation="Publish the public address of the mail server instead, e.g. "
    "`{host}. 3600 IN A <public IPv4 address>`; keep internal addresses in internal DNS only.",
    references=("RFC 5321 §5.1", "RFC 6890", "RFC 1918"),
)

DOCUMENTATION_ADDRESS = FindingSpec(
    code="mx.documentation_address",
    severity=Severity.INFO,
    check=_MX,
    title="MX host resolves to a documentation address",
    detail="MX host(s) of {domain} resolve to addresses reserved for documentation and "
    "examples ({addresses}). That is expected in test zones; on a real domain mail cannot "
    "be delivered to them.",
    remediation="On a real domain replace each of these addresses of {host} (and the other "
    "hosts listed) with the public address of the mail server.",
    references=("RFC 5737", "RFC 3849", "RFC 9637"),
)

DUPLICATE_HOST = FindingSpec(
    code="mx.duplicate_host",
    severity=Severity.LOW,
    check=_MX,
    title="The same host is listed in more than one MX record",
    detail="{domain} lists {hosts} more than once. The duplicates add nothing and make the "
    "intended preference order unclear.",
    remediation="Keep one record per host, e.g. `{domain}. 3600 IN MX {preference} {host}.`",
    references=("RFC 5321 §5.1",),
)

HOSTS_NOT_CHECKED = FindingSpec(
    code="mx.hosts_not_checked",
    severity=Severity.LOW,
    check=_MX,
    title="Too many MX hosts: some were not checked",
    detail="{domain} names {total} distinct MX hosts. Only the first {checked} by preference "
    "were resolved; {unchecked} were not checked ({hosts}), so whether mail can be delivered "
    "to them is unknown.",
    remediation="Publish only the mail servers that accept mail for {domain}, usually two to "
    "four, e.g. `{domain}. 3600 IN MX 10 mx1.{domain}.`; senders try only a few of them.",
    references=("RFC 5321 §5.1",),
)
