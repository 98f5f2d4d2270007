"""MX check: collecting on zone text, and the pure judgement of MxResult facts."""

from __future__ import annotations

import asyncio

import pytest

from mailauth_audit.checks.base import CheckContext, EvaluationContext, RunMemo
from mailauth_audit.checks.mx import MxCheck, MxHost, MxResult, address_scope, is_ip_literal
from mailauth_audit.errors import DnsServfail
from mailauth_audit.model import Severity
from mailauth_audit.options import AuditOptions, Limits
from mailauth_audit.resolver.static import StaticResolver

ZONE = """
$ORIGIN example.
$TTL 300
@ IN SOA ns.example. host.example. 1 3600 600 86400 300
mx1.provider IN A 198.51.100.10
mx1.provider IN AAAA 2001:db8::10
mx2.provider IN A 93.184.216.34
alias.provider IN CNAME mx2.provider.example.

good IN MX 10 mx1.provider.example.
good IN MX 20 mx2.provider.example.

nullmx IN MX 0 .
mixed IN MX 0 .
mixed IN MX 10 mx2.provider.example.
badpref IN MX 10 .

implicit IN A 192.0.2.25
bare IN TXT "v=spf1 -all"

loopback IN MX 10 mail.loopback.example.
mail.loopback IN A 127.0.0.1

literal IN MX 10 192.0.2.7.
aliased IN MX 10 alias.provider.example.
nohost IN MX 10 gone.nohost.example.
nohost IN MX 20 mx2.provider.example.
dup IN MX 10 mx2.provider.example.
dup IN MX 20 mx2.provider.example.
"""


def collect(domain: str, resolver: StaticResolver | None = None, memo: RunMemo | None = None):  # type: ignore[no-untyped-def]
    ctx = CheckContext(domain=domain, resolver=resolver or StaticResolver(ZONE))
    if memo is not None:
        ctx.memo = memo
    return asyncio.run(MxCheck().collect(ctx))


def judge(facts: MxResult, domain: str = "example.com") -> list:  # type: ignore[type-arg]
    return MxCheck().evaluate(facts, EvaluationContext(domain=domain))


def codes(findings: list) -> set[str]:  # type: ignore[type-arg]
    return {f.code for f in findings}


# --- collect, on zone text -------------------------------------------------------------------


def test_hosts_with_addresses_in_preference_order() -> None:
    facts = collect("good.example")
    assert facts.domain_exists and not facts.null_mx and not facts.implicit_mx
    assert [(h.preference, h.host) for h in facts.hosts] == [
        (10, "mx1.provider.example"),
        (20, "mx2.provider.example"),
    ]
    assert facts.hosts[0].addresses == ("198.51.100.10", "2001:db8::10")
    assert facts.records == ("10 mx1.provider.example.", "20 mx2.provider.example.")


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("good.example", {"mx.documentation_address"}),
        ("nullmx.example", {"mx.null_mx"}),
        ("mixed.example", {"mx.null_mx_mixed"}),
        ("badpref.example", {"mx.null_mx", "mx.null_mx_bad_preference"}),
        ("implicit.example", {"mx.implicit", "mx.documentation_address"}),
        ("bare.example", {"mx.missing"}),
        ("nothere.example", {"mx.domain_nxdomain"}),
        ("loopback.example", {"mx.non_public_address"}),
        ("literal.example", {"mx.ip_literal_target"}),
        ("aliased.example", {"mx.cname_target"}),
        ("nohost.example", {"mx.host_no_address"}),
        ("dup.example", {"mx.duplicate_host"}),
    ],
)
def test_zone_domains(domain: str, expected: set[str]) -> None:
    assert codes(judge(collect(domain), domain)) == expected


def test_loopback_target_is_non_public_and_high_when_it_is_the_only_host() -> None:
    facts = collect("loopback.example")
    assert facts.hosts[0].addresses == ("127.0.0.1",)
    [finding] = judge(facts)
    assert finding.code == "mx.non_public_address"
    assert finding.severity is Severity.HIGH
    assert "127.0.0.1" in finding.detail and "loopback" in finding.detail


def test_null_mx_facts() -> None:
    facts = collect("nullmx.example")
    assert facts.null_mx and facts.null_mx_preference == 0 and facts.hosts == ()
    mixed = collect("mixed.example")
    assert mixed.null_mx and [h.host for h in mixed.hosts] == ["mx2.provider.example"]


def test_implicit_mx_reads_the_domains_own_addresses() -> None:
    facts = collect("implicit.example")
    assert facts.implicit_mx and facts.implicit_addresses == ("192.0.2.25",)
    assert facts.hosts == ()


def test_nxdomain_domain_costs_one_query() -> None:
    r = StaticResolver(ZONE)
    facts = collect("nothere.example", r)
    assert not facts.domain_exists
    assert r.queries == 1


def test_cname_and_ip_literal_hosts_are_noted() -> None:
    aliased = collect("aliased.example").hosts[0]
    assert aliased.cname_target == "mx2.provider.example"
    assert aliased.addresses == ("93.184.216.34",)
    r = StaticResolver(ZONE)
    literal = collect("literal.example", r).hosts[0]
    assert literal.is_ip_literal and literal.addresses == ()
    assert r.queries == 1  # an address written as a name is not looked up


def test_missing_host_is_noted_as_not_existing() -> None:
    facts = collect("nohost.example")
    gone = facts.hosts[0]
    assert gone.host == "gone.nohost.example"
    assert not gone.host_exists and gone.addresses == ()
    [finding] = judge(facts)
    assert finding.severity is Severity.MEDIUM  # mx2 still takes the mail


def test_shared_host_is_resolved_once_per_run() -> None:
    # Given one run (one memo) auditing domains that share mx2.provider.example
    r = StaticResolver(ZONE)
    memo = RunMemo()
    collect("dup.example", r, memo)  # MX + A + AAAA of mx2 (listed twice, asked once)
    assert r.queries == 3
    # When another domain of the run uses the same host
    collect("nohost.example", r, memo)
    # Then only its MX and the new host are asked: MX + A + AAAA of gone.nohost
    assert r.queries == 3 + 3


def test_resolver_errors_propagate() -> None:
    r = StaticResolver(ZONE, faults={"mx2.provider.example": DnsServfail})
    with pytest.raises(DnsServfail):
        collect("good.example", r)


# --- evaluate, table-driven on facts ----------------------------------------------------------


def host(
    name: str,
    *addresses: str,
    pref: int = 10,
    cname: str | None = None,
    literal: bool = False,
    exists: bool = True,
) -> MxHost:
    return MxHost(pref, name, addresses, cname, literal, exists)


def mx(*hosts: MxHost, null_pref: int | None = None) -> MxResult:
    records = tuple(f"{h.preference} {h.host}." for h in hosts)
    if null_pref is not None:
        records = (f"{null_pref} .", *records)
    return MxResult(True, records, hosts, null_pref is not None, null_pref, False, ())


PUBLIC = "93.184.216.34"
PUBLIC6 = "2606:4700::1"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (mx(host("a.example", PUBLIC)), {}),
        (mx(host("a.example", PUBLIC6)), {}),
        (mx(null_pref=0), {"mx.null_mx": Severity.INFO}),
        (
            mx(null_pref=5),
            {"mx.null_mx": Severity.INFO, "mx.null_mx_bad_preference": Severity.LOW},
        ),
        (mx(host("a.example", PUBLIC), null_pref=0), {"mx.null_mx_mixed": Severity.HIGH}),
        (mx(host("a.example")), {"mx.host_no_address": Severity.HIGH}),
        (
            mx(host("a.example", PUBLIC), host("b.example", pref=20)),
            {"mx.host_no_address": Severity.MEDIUM},
        ),
        (mx(host("10.0.0.5", literal=True)), {"mx.ip_literal_target": Severity.HIGH}),
        (
            mx(host("a.example", PUBLIC), host("10.0.0.5", literal=True)),
            {"mx.ip_literal_target": Severity.MEDIUM},
        ),
        (mx(host("a.example", "10.1.2.3")), {"mx.non_public_address": Severity.HIGH}),
        (mx(host("a.example", "169.254.1.1")), {"mx.non_public_address": Severity.HIGH}),
        (mx(host("a.example", "fe80::1")), {"mx.non_public_address": Severity.HIGH}),
        (mx(host("a.example", "fd00::1")), {"mx.non_public_address": Severity.HIGH}),
        (mx(host("a.example", "0.0.0.0")), {"mx.non_public_address": Severity.HIGH}),
        (mx(host("a.example", "240.0.0.1")), {"mx.non_public_address": Severity.HIGH}),
        (mx(host("a.example", "::1")), {"mx.non_public_address": Severity.HIGH}),
        (
            mx(host("a.example", PUBLIC), host("b.example", "127.0.0.1", pref=20)),
            {"mx.non_public_address": Severity.MEDIUM},
        ),
        (mx(host("a.example", "192.0.2.1")), {"mx.documentation_address": Severity.INFO}),
        (mx(host("a.example", "2001:db8::1")), {"mx.documentation_address": Severity.INFO}),
        (
            mx(host("a.example", PUBLIC, cname="c.example")),
            {"mx.cname_target": Severity.LOW},
        ),
        (
            mx(host("a.example", PUBLIC), host("a.example", PUBLIC, pref=20)),
            {"mx.duplicate_host": Severity.LOW},
        ),
        (
            MxResult(False, (), (), False, None, False, ()),
            {"mx.domain_nxdomain": Severity.CRITICAL},
        ),
        (MxResult(True, (), (), False, None, True, ()), {"mx.missing": Severity.MEDIUM}),
        (MxResult(True, (), (), False, None, True, (PUBLIC,)), {"mx.implicit": Severity.MEDIUM}),
        (
            MxResult(True, (), (), False, None, True, ("127.0.0.1",)),
            {"mx.implicit": Severity.MEDIUM, "mx.non_public_address": Severity.HIGH},
        ),
    ],
)
def test_evaluate(facts: MxResult, expected: dict[str, Severity]) -> None:
    assert {f.code: f.severity for f in judge(facts)} == expected


def test_remediation_gives_a_null_mx_record_for_missing_mx() -> None:
    [finding] = judge(MxResult(True, (), (), False, None, True, ()), "parked.example")
    assert "parked.example. 3600 IN MX 0 ." in finding.remediation


def test_cname_remediation_points_at_the_canonical_host() -> None:
    [finding] = judge(mx(host("a.example", PUBLIC, pref=5, cname="real.example")), "d.example")
    assert "d.example. 3600 IN MX 5 real.example." in finding.remediation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", True),
        ("[192.0.2.1]", True),
        ("2001:db8::1", True),
        ("127.0.0.1.broken.example", False),
        ("mx1.example.com", False),
    ],
)
def test_is_ip_literal(text: str, expected: bool) -> None:
    assert is_ip_literal(text) is expected


@pytest.mark.parametrize(
    ("address", "scope"),
    [
        ("93.184.216.34", "public"),
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.0.1", "link_local"),
        ("198.51.100.1", "documentation"),
        ("2001:db8::1", "documentation"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "non-global"),
        ("not an address", "invalid"),
    ],
)
def test_address_scope(address: str, scope: str) -> None:
    assert address_scope(address) == scope


# --- the per-domain cap on MX hosts ---------------------------------------------------------


def test_hosts_past_the_cap_are_not_resolved_but_reported() -> None:
    # Given five MX hosts and a cap of two
    zone = "\n".join(
        [f"many.example. 300 IN MX {10 * i} mx{i}.many.example." for i in range(1, 6)]
        + [f"mx{i}.many.example. 300 IN A 192.0.2.{i}" for i in range(1, 6)]
    )
    r = StaticResolver(zone)
    ctx = CheckContext(
        domain="many.example", resolver=r, options=AuditOptions(limits=Limits(max_mx_hosts=2))
    )
    facts = asyncio.run(MxCheck().collect(ctx))
    # Then two hosts are resolved (MX + A/AAAA each), the other three are named, not dropped
    assert r.queries == 1 + 2 * 2
    assert [h.host for h in facts.hosts] == ["mx1.many.example", "mx2.many.example"]
    assert facts.unchecked_hosts == ("mx3.many.example", "mx4.many.example", "mx5.many.example")
    assert len(facts.records) == 5
    findings = judge(facts, "many.example")
    assert codes(findings) == {"mx.documentation_address", "mx.hosts_not_checked"}
    unchecked = next(f for f in findings if f.code == "mx.hosts_not_checked")
    assert unchecked.severity is Severity.LOW  # the check is not a clean pass
    assert "mx3.many.example" in unchecked.detail and unchecked.evidence[0] == "mx3.many.example"


def test_null_mx_mixed_counts_the_unchecked_hosts_too() -> None:
    facts = MxResult(
        True, ("0 .", "10 a.example."), (), True, 0, False, (), unchecked_hosts=("a.example",)
    )
    found = {f.code for f in judge(facts)}
    assert {"mx.null_mx_mixed", "mx.hosts_not_checked"} <= found
