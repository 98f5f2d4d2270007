"""MX check: where mail for the domain goes (RFC 5321 §5.1, RFC 7505 null MX).

`collect` asks for the MX RRset and the addresses of each distinct host (memoised per run: a
provider's MX host shared by 10,000 domains is resolved once); with no MX it asks for the
domain's own A/AAAA, the implicit MX of RFC 5321 §5.1. `evaluate` judges the facts.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from ..changes import ChangeAction, RecordChange
from ..findings import mx as F
from ..model import CheckId, Finding, Severity
from ..records.zonefile import DEFAULT_TTL
from ..resolver.base import RRType
from .base import Check, CheckContext, EvaluationContext, catalogue_of
from .concurrent import gather

# values only the domain's owner knows: a proposed record holding one is "needs your input"
MAIL_HOST = "<your-mail-host>"
PUBLIC_IPV4 = "<your-public-ipv4>"
PUBLIC_IPV6 = "<your-public-ipv6>"


@dataclass(frozen=True)
class MxHost:
    """One MX record other than the null MX, with what its host name resolves to."""

    preference: int
    host: str  # lowercase, no trailing dot
    addresses: tuple[str, ...]  # A then AAAA; () for IP literals (not looked up)
    cname_target: str | None  # set when the host is an alias: the canonical name it leads to
    is_ip_literal: bool  # the exchange is an IP address written as a name
    host_exists: bool  # False when the host name is NXDOMAIN


@dataclass(frozen=True)
class MxResult:
    """Facts about where mail for the domain goes."""

    domain_exists: bool  # False when the MX query was answered NXDOMAIN
    records: tuple[str, ...]  # the MX RRset as published ("10 mx1.example.com."), for evidence
    hosts: tuple[MxHost, ...]  # every MX record except the null MX, in preference order
    null_mx: bool  # an `MX 0 .` record is published (RFC 7505)
    null_mx_preference: int | None  # set when null_mx: the preference it was published with
    implicit_mx: bool  # no MX RRset on an existing domain: senders fall back to A/AAAA
    implicit_addresses: tuple[str, ...]  # set when implicit_mx: the domain's own A/AAAA
    # distinct host names past Limits.max_mx_hosts, in preference order: not resolved, and
    # their MX records are left out of `hosts`
    unchecked_hosts: tuple[str, ...] = ()
    ttl: int | None = None  # set when `records` is not empty: the TTL of the MX answer


@dataclass(frozen=True)
class _HostAddresses:
    addresses: tuple[str, ...]
    cname_target: str | None
    exists: bool


def is_ip_literal(host: str) -> bool:
    """An MX exchange like `192.0.2.1` or `[192.0.2.1]`: an address where a name must be."""
    text = host.removeprefix("[").removesuffix("]").removeprefix("ipv6:")
    if not text[:1].isdigit() and ":" not in text:
        return False  # IPv4 starts with a digit, IPv6 has a colon: most names are neither
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


async def _addresses(ctx: CheckContext, name: str) -> _HostAddresses:
    a, aaaa = await gather(
        [ctx.resolver.resolve(name, RRType.A), ctx.resolver.resolve(name, RRType.AAAA)]
    )
    chain = a.cname_chain or aaaa.cname_chain
    return _HostAddresses(
        addresses=tuple(a.texts()) + tuple(aaaa.texts()),
        cname_target=chain[-1] if chain else None,
        exists=not (a.nxdomain and aaaa.nxdomain),
    )


class MxCheck(Check[MxResult]):
    """Mail exchangers of the domain, per RFC 5321 §5.1 and RFC 7505."""

    id = CheckId.MX
    title = "MX (where mail for the domain goes)"
    result_type = MxResult
    catalogue = catalogue_of(F)
    standard = "RFC 5321, RFC 7505"

    @classmethod
    def summary(cls, result: MxResult | None) -> str:
        if result is not None and result.null_mx:
            return "null MX (accepts no mail)"
        hosts = result.hosts if result is not None else ()
        return ", ".join(f"{h.preference} {h.host}" for h in hosts) or "no MX"

    async def collect(self, ctx: CheckContext) -> MxResult:
        answer = await ctx.resolver.resolve(ctx.domain, RRType.MX)
        if answer.nxdomain:
            return MxResult(False, (), (), False, None, False, ())
        records = sorted(answer.mx(), key=lambda r: (r.preference, r.exchange))
        texts = tuple(f"{r.preference} {r.exchange or ''}." for r in records)
        if not records:
            own = await _addresses(ctx, ctx.domain)
            return MxResult(True, (), (), False, None, True, own.addresses)

        null = [r for r in records if r.exchange == ""]
        real = [r for r in records if r.exchange != ""]
        names = list(dict.fromkeys(r.exchange for r in real if not is_ip_literal(r.exchange)))
        # two queries per host, and the MX RRset is written by the zone owner: a bounded few
        cap = ctx.options.limits.max_mx_hosts
        names, unchecked = names[:cap], tuple(names[cap:])
        if unchecked:
            skip = set(unchecked)
            real = [r for r in real if r.exchange not in skip]

        addresses = await ctx.memo.get_many(
            [("mx.host_addresses", n, functools.partial(_addresses, ctx, n)) for n in names]
        )
        found: dict[str, _HostAddresses] = dict(zip(names, addresses, strict=True))
        hosts = []
        for r in real:
            info = found.get(r.exchange)
            hosts.append(
                MxHost(
                    preference=r.preference,
                    host=r.exchange,
                    addresses=info.addresses if info else (),
                    cname_target=info.cname_target if info else None,
                    is_ip_literal=info is None,
                    host_exists=info.exists if info else False,
                )
            )
        return MxResult(
            domain_exists=True,
            records=texts,
            hosts=tuple(hosts),
            null_mx=bool(null),
            null_mx_preference=null[0].preference if null else None,
            implicit_mx=False,
            implicit_addresses=(),
            unchecked_hosts=unchecked,
            ttl=answer.ttl,
        )

    def evaluate(self, facts: MxResult, ctx: EvaluationContext) -> list[Finding]:
        domain = ctx.domain
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


def _public_address_change(host: str, address: str) -> RecordChange:
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
    )


def _address_findings(
    domain: str, named: list[tuple[str, tuple[str, ...]]], none_usable: bool
) -> list[Finding]:
    """non_public_address / documentation_address for (host, addresses) pairs."""
    bad: list[str] = []
    doc: list[str] = []
    changes: list[RecordChange] = []
    first_bad = first_doc = ""
    for host, addresses in named:
        for a in addresses:
            scope = address_scope(a)
            if scope == "documentation":
                doc.append(f"{host} {a}")
                first_doc = first_doc or host
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
                domain=domain, addresses="; ".join(doc), host=first_doc, evidence=doc
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
