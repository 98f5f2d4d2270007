"""The domain check and message verification agree on RFC 7208 §4.6.4's void-lookup limit.

The same zone is read twice: by `SpfCheck` (through the audit API, so the check's status is
the one a report shows) and by `verify` (pyspf, through the same resolver) for a delivery from
an address the record does not list. When the tree holds more than two void lookups, counting
the address lookups of `mx` hosts, the check must say `fail` with a high
`spf.void_lookup_limit_exceeded` exactly when pyspf answers permerror.
"""

from __future__ import annotations

import pytest

import mailauth_audit
from mailauth_audit import AuditOptions, CheckId, CheckStatus, Limits
from mailauth_audit.checks.spf import SpfResult, zone_txt_line
from mailauth_audit.messages.model import AuthResult, Envelope, EnvelopeSource
from mailauth_audit.messages.verify import verify_message_sync
from mailauth_audit.model import Severity
from mailauth_audit.resolver.base import Answer, RRType
from mailauth_audit.resolver.static import StaticResolver

CLIENT_IP = "198.51.100.77"  # listed by no record below

ZONE = r"""
$TTL 300
; three MX hosts without any address: the MX answer is fine, each host lookup is void
mx3.test.              IN TXT "v=spf1 mx -all"
mx3.test.              IN MX 10 h1.mx3.test.
mx3.test.              IN MX 20 h2.mx3.test.
mx3.test.              IN MX 30 h3.mx3.test.
h1.mx3.test.           IN TXT "no address here"
h2.mx3.test.           IN TXT "no address here"
; h3.mx3.test does not exist at all (NXDOMAIN)

; two void hosts: at the limit, not over it
mx2.test.              IN TXT "v=spf1 mx -all"
mx2.test.              IN MX 10 h1.mx2.test.
mx2.test.              IN MX 20 h2.mx2.test.

; one void host, one void `a`, one void `mx` target elsewhere: three in all
mixed.test.            IN TXT "v=spf1 a:gone.mixed.test mx mx:nomx.mixed.test -all"
mixed.test.            IN MX 10 h1.mixed.test.
mixed.test.            IN MX 20 ok.mixed.test.
ok.mixed.test.         IN A 192.0.2.10
nomx.mixed.test.       IN A 192.0.2.11

; three MX hosts with addresses (one IPv6 only): nothing void
live.test.             IN TXT "v=spf1 mx -all"
live.test.             IN MX 10 a.live.test.
live.test.             IN MX 20 b.live.test.
live.test.             IN MX 30 c.live.test.
a.live.test.           IN A 192.0.2.20
b.live.test.           IN A 192.0.2.21
c.live.test.           IN A 192.0.2.22

; eleven MX names: the `mx` mechanism itself is a permerror, whatever the hosts hold
mx11.test.             IN TXT "v=spf1 mx -all"
""" + "\n".join(
    f"mx11.test. IN MX {10 + i} h{i}.mx11.test.\nh{i}.mx11.test. IN A 192.0.2.{30 + i}"
    for i in range(11)
)


def check(domain: str) -> tuple[CheckStatus, SpfResult, dict[str, Severity]]:
    report = mailauth_audit.audit_domain(
        domain, AuditOptions(checks=frozenset({CheckId.SPF})), resolver=StaticResolver(ZONE)
    )
    outcome = report.checks[CheckId.SPF]
    assert isinstance(outcome.result, SpfResult)
    tree = outcome.result.tree
    # counted while the tree is drawn: the same as the sum over the nodes of the tree
    nodes = list(tree.walk()) if tree else []
    assert outcome.result.void_lookups == sum(n.void_lookups for n in nodes)
    return outcome.status, outcome.result, {f.code: f.severity for f in outcome.findings}


def verify(domain: str) -> AuthResult:
    raw = (
        f"From: a@{domain}\r\nTo: b@receiver.example\r\nSubject: t\r\n"
        "Date: Wed, 25 Nov 2026 10:00:00 +0000\r\n"
        f"Message-ID: <1@{domain}>\r\n\r\nHello.\r\n"
    ).encode()
    env = Envelope(CLIENT_IP, f"mail.{domain}", f"bounce@{domain}", EnvelopeSource.GIVEN)
    report = verify_message_sync(raw, StaticResolver(ZONE), env)
    assert report.spf is not None and report.spf.mail_from is not None
    return report.spf.mail_from.result


def test_three_mx_hosts_without_addresses_are_three_void_lookups() -> None:
    status, facts, found = check("mx3.test")
    assert facts.void_lookups == 3
    assert found.get("spf.void_lookup_limit_exceeded") is Severity.HIGH
    assert status is CheckStatus.FAIL
    assert verify("mx3.test") is AuthResult.PERMERROR
    assert facts.tree is not None
    mx = facts.tree.children[0]
    assert not mx.void and mx.mx_names == 3
    assert mx.void_hosts == ("h1.mx3.test", "h2.mx3.test", "h3.mx3.test")


@pytest.mark.parametrize(
    ("domain", "voids", "permerror"),
    [
        ("mx3.test", 3, True),
        ("mx2.test", 2, False),
        ("mixed.test", 3, True),
        ("live.test", 0, False),
        ("mx11.test", 0, True),
    ],
)
def test_check_and_verify_agree(domain: str, voids: int, permerror: bool) -> None:
    status, facts, found = check(domain)
    result = verify(domain)
    assert facts.void_lookups == voids
    assert (result is AuthResult.PERMERROR) is permerror, result
    high = {code for code, sev in found.items() if sev.rank >= Severity.HIGH.rank}
    assert (status is CheckStatus.FAIL) is permerror, (status, found)
    assert bool(high & {"spf.void_lookup_limit_exceeded", "spf.mx_too_many_names"}) is permerror
    if not permerror:
        assert result is AuthResult.FAIL  # `-all`: nothing matched, nothing broke


def test_void_hosts_are_named_in_the_finding() -> None:
    _, facts, _ = check("mixed.test")
    report = mailauth_audit.audit_domain(
        "mixed.test", AuditOptions(checks=frozenset({CheckId.SPF})), resolver=StaticResolver(ZONE)
    )
    f = next(f for f in report.findings if f.code == "spf.void_lookup_limit_exceeded")
    assert "a:gone.mixed.test" in f.detail and "mx:nomx.mixed.test" in f.detail
    assert "h1.mixed.test" in f.detail
    assert facts.tree is not None and facts.tree.children[1].void_hosts == ("h1.mixed.test",)


def test_mx_host_lookups_are_bounded_and_the_cut_is_reported() -> None:
    # Given twenty `mx` terms whose targets each hold ten MX hosts (200 distinct host names),
    # then at most Limits.max_spf_mx_hosts of those hosts are asked for addresses, the tree is
    # marked incomplete and spf.tree_truncated says how many hosts were not looked up.
    terms = " ".join(f"mx:t{i}.wide.test" for i in range(20))
    lines = ["$TTL 300", zone_txt_line("wide.test", f"v=spf1 {terms} -all")]
    for i in range(20):
        lines += [f"t{i}.wide.test. IN MX {10 + j} h{j}.t{i}.wide.test." for j in range(10)]
    resolver = _Counting("\n".join(lines))
    options = AuditOptions(checks=frozenset({CheckId.SPF}), limits=Limits(max_spf_mx_hosts=25))
    report = mailauth_audit.audit_domain("wide.test", options, resolver=resolver)
    outcome = report.checks[CheckId.SPF]
    assert isinstance(outcome.result, SpfResult)
    host_questions = {n for n, _t in resolver.asked if n.startswith("h")}
    assert len(host_questions) == 25
    assert len(resolver.asked) <= 1 + 20 + 2 * 25
    assert not outcome.result.complete
    assert outcome.result.void_lookups == 25  # a lower bound, and said to be one
    by = {f.code: f for f in outcome.findings}
    assert "175 MX hosts' addresses not looked up" in by["spf.tree_truncated"].detail
    assert "25 at least" in by["spf.void_lookup_limit_exceeded"].detail


def test_a_null_mx_is_not_a_void_lookup() -> None:
    zone = 'nullmx.test. IN TXT "v=spf1 mx -all"\nnullmx.test. IN MX 0 .\n'
    report = mailauth_audit.audit_domain(
        "nullmx.test", AuditOptions(checks=frozenset({CheckId.SPF})), resolver=StaticResolver(zone)
    )
    result = report.checks[CheckId.SPF].result
    assert isinstance(result, SpfResult) and result.void_lookups == 0


class _Counting(StaticResolver):
    def __init__(self, zone: str) -> None:
        super().__init__(zone)
        self.asked: list[tuple[str, RRType]] = []

    async def resolve(self, name: str, rdtype: RRType) -> Answer:
        self.asked.append((name.lower(), rdtype))
        return await super().resolve(name, rdtype)
