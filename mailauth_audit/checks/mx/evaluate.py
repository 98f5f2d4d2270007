"""The MX check's judgement, pure: null MX, implicit MX, hosts without addresses, addresses
not reachable from the Internet, aliases and duplicates (RFC 5321 §5.1, RFC 7505)."""

from __future__ import annotations

import functools
import ipaddress

from ...changes import ChangeAction, RecordChange
from ...findings import mx as F
from ...model import Finding, Severity
from ...records.zonefile import DEFAULT_TTL
from .result import MxHost, MxResult

# values only the domain's owner knows: a proposed record holding one is "needs your input"
MAIL_HOST = "<your-mail-host>"
PUBLIC_IPV4 = "<your-public-ipv4>"
PUBLIC_IPV6 = "<your-public-ipv6>"

__all__ = ["address_scope", "evaluate_mx"]


def evaluate_mx(facts: MxResult, domain: str) -> list[Finding]:
    """Findings about `domain`'s mail exchangers."""
    if not facts.domain_exists:
        return [F.DOMAIN_NXDOMAIN(domain=domain)]
    if facts.implicit_mx:
        if not facts.implicit_addresses:
            return [F.MISSING(domain=domain)]
        findings: list[Finding] = [
            F.IMPLICIT(
                domain=domain,
                addresses=", ".join(facts.implicit_addresses),
                evidence=facts.implicit_addresses,
                changes=[
                    RecordChange(
                        ChangeAction.ADD,
                        domain,
                        "MX",
                        DEFAULT_TTL,
                        proposed=f"10 {MAIL_HOST}.",
                        placeholders=(MAIL_HOST,),
                    )
                ],
            )
        ]
        findings += _address_findings(
            domain,
            [(domain, facts.implicit_addresses)],
            none_usable=not _usable(facts.implicit_addresses),
        )
        return findings

    findings = []
    if facts.null_mx:
        if facts.hosts or facts.unchecked_hosts:
            findings.append(
                F.NULL_MX_MIXED(
                    domain=domain,
                    count=len(facts.hosts) + len(facts.unchecked_hosts),
                    hosts=", ".join(h.host for h in facts.hosts),
                    evidence=facts.records,
                )
            )
        else:
            findings.append(F.NULL_MX(domain=domain, evidence=facts.records))
        if facts.null_mx_preference != 0:
            findings.append(
                F.NULL_MX_BAD_PREFERENCE(
                    domain=domain, preference=facts.null_mx_preference, evidence=facts.records
                )
            )
    if facts.hosts:
        findings += _host_findings(domain, facts)
    if facts.unchecked_hosts:
        findings.append(_unchecked_finding(domain, facts))
    return findings


def _unchecked_finding(domain: str, facts: MxResult) -> Finding:
    """The hosts the per-domain cap left unresolved: named, so the cut is never silent."""
    unchecked = facts.unchecked_hosts
    shown = ", ".join(unchecked[:5]) + (
        f" and {len(unchecked) - 5} more" if len(unchecked) > 5 else ""
    )
    checked = len({h.host for h in facts.hosts if not h.is_ip_literal})
    return F.HOSTS_NOT_CHECKED(
        domain=domain,
        total=checked + len(unchecked),
        checked=checked,
        unchecked=len(unchecked),
        hosts=shown,
        evidence=unchecked[:10],
    )


# Ranges for examples (RFC 5737, RFC 3849, RFC 9637): unroutable, but what test zones use.
_DOCUMENTATION = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20")
)


@functools.lru_cache(maxsize=4096)  # a pure function of the text; providers' MX addresses
def address_scope(text: str) -> str:  # recur in thousands of domains of a bulk run
    """ "public", "documentation", or why the address is not reachable from the Internet."""
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return "invalid"
    if any(addr in net for net in _DOCUMENTATION):
        return "documentation"
    # multicast addresses count as "global" to ipaddress, but no mail server listens there
    for scope in ("unspecified", "loopback", "link_local", "multicast"):
        if getattr(addr, f"is_{scope}"):
            return scope
    if addr.is_global:
        return "public"
    for scope in ("private", "reserved"):
        if getattr(addr, f"is_{scope}"):
            return scope
    return "non-global"


def _usable(addresses: tuple[str, ...]) -> bool:
    return any(address_scope(a) in ("public", "documentation") for a in addresses)


def _public_address_change(
    host: str, address: str, fixes: tuple[str, ...] | None = None
) -> RecordChange:
    """The host's non-public address replaced by the public one only its owner knows."""
    v6 = ":" in address
    placeholder = PUBLIC_IPV6 if v6 else PUBLIC_IPV4
    return RecordChange(
        ChangeAction.REPLACE,
        host,
        "AAAA" if v6 else "A",
        DEFAULT_TTL,
        current=address,
        proposed=placeholder,
        placeholders=(placeholder,),
        fixes=fixes or _NON_PUBLIC_FIXES,  # set here, not by the finding: one object each
    )


_NON_PUBLIC_FIXES = (F.NON_PUBLIC_ADDRESS.code,)
_DOCUMENTATION_FIXES = (F.DOCUMENTATION_ADDRESS.code,)


def _address_findings(
    domain: str, named: list[tuple[str, tuple[str, ...]]], none_usable: bool
) -> list[Finding]:
    """non_public_address / documentation_address for (host, addresses) pairs."""
    bad: list[str] = []
    doc: list[str] = []
    changes: list[RecordChange] = []
    doc_changes: list[RecordChange] = []
    first_bad = first_doc = ""
    for host, addresses in named:
        for a in addresses:
            scope = address_scope(a)
            if scope == "documentation":
                doc.append(f"{host} {a}")
                first_doc = first_doc or host
                doc_changes.append(_public_address_change(host, a, _DOCUMENTATION_FIXES))
            elif scope != "public":
                bad.append(f"{host} {a} ({scope})")
                first_bad = first_bad or host
                changes.append(_public_address_change(host, a))
    findings = []
    if bad:
        severity = Severity.HIGH if none_usable else Severity.MEDIUM
        note = (
            " No MX host has a public address, so no mail reaches the domain."
            if none_usable
            else " Other MX hosts have public addresses, so mail is delayed, not lost."
        )
        findings.append(
            F.NON_PUBLIC_ADDRESS(
                domain=domain,
                addresses="; ".join(bad),
                host=first_bad,
                scope_note=note,
                severity=severity,
                evidence=bad,
                changes=changes,
            )
        )
    if doc:
        findings.append(
            F.DOCUMENTATION_ADDRESS(
                domain=domain,
                addresses="; ".join(doc),
                host=first_doc,
                evidence=doc,
                changes=doc_changes,
            )
        )
    return findings


def _host_findings(domain: str, facts: MxResult) -> list[Finding]:
    hosts = facts.hosts
    none_usable = not any(not h.is_ip_literal and _usable(h.addresses) for h in hosts)
    severity = Severity.HIGH if none_usable else Severity.MEDIUM
    findings: list[Finding] = []

    literals = [h for h in hosts if h.is_ip_literal]
    if literals:
        findings.append(
            F.IP_LITERAL_TARGET(
                domain=domain,
                hosts=", ".join(h.host for h in literals),
                example_address=literals[0].host.strip("[]"),
                preference=literals[0].preference,
                severity=severity,
                evidence=tuple(f"{h.preference} {h.host}." for h in literals),
            )
        )

    distinct: dict[str, MxHost] = {}
    for h in hosts:
        distinct.setdefault(h.host, h)
    unresolved = [h for h in distinct.values() if not h.is_ip_literal and not h.addresses]
    if unresolved:
        missing = [h.host for h in unresolved if not h.host_exists]
        findings.append(
            F.HOST_NO_ADDRESS(
                domain=domain,
                hosts=", ".join(h.host for h in unresolved),
                host=unresolved[0].host,
                nxdomain_note=f" ({', '.join(missing)}: name does not exist)" if missing else "",
                scope_note=""
                if none_usable
                else " Other MX hosts have addresses, so mail is delayed, not lost.",
                severity=severity,
                evidence=tuple(f"{h.preference} {h.host}." for h in unresolved),
            )
        )

    findings += _address_findings(
        domain, [(h.host, h.addresses) for h in distinct.values() if h.addresses], none_usable
    )

    aliases = [h for h in distinct.values() if h.cname_target]
    if aliases:
        findings.append(
            F.CNAME_TARGET(
                domain=domain,
                hosts=", ".join(f"{h.host} -> {h.cname_target}" for h in aliases),
                preference=aliases[0].preference,
                target=aliases[0].cname_target,
                evidence=tuple(f"{h.host}. CNAME {h.cname_target}." for h in aliases),
                changes=[
                    RecordChange(
                        ChangeAction.REPLACE,
                        domain,
                        "MX",
                        facts.ttl or DEFAULT_TTL,
                        current=f"{h.preference} {h.host}.",
                        proposed=f"{h.preference} {h.cname_target}.",
                    )
                    for h in aliases
                    if h.cname_target
                ],
            )
        )

    counts: dict[str, int] = {}
    for h in hosts:
        counts[h.host] = counts.get(h.host, 0) + 1
    dupes = [name for name, n in counts.items() if n > 1]
    if dupes:
        first = distinct[dupes[0]]
        findings.append(
            F.DUPLICATE_HOST(
                domain=domain,
                hosts=", ".join(dupes),
                host=first.host,
                preference=first.preference,
                evidence=tuple(f"{h.preference} {h.host}." for h in hosts if h.host in dupes),
            )
        )
    return findings
