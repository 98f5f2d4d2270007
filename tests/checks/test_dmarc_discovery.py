"""DMARC policy discovery (checks/dmarc/discovery.py) is one function: the domain check and
message verification both find the applying record through it, so they cannot disagree, and
verification asks only the questions discovery needs (no report-authorisation lookups)."""

from __future__ import annotations

import asyncio

import pytest

from mailauth_audit.checks.base import CheckContext, RunMemo
from mailauth_audit.checks.dmarc import DmarcCheck, discover_policy
from mailauth_audit.errors import DnsServfail
from mailauth_audit.messages.verify import VerifyOptions, verify_message_sync
from mailauth_audit.resolver.base import Answer, RRType
from mailauth_audit.resolver.static import StaticResolver

ZONE = r"""
$TTL 300
org.example.            IN A 192.0.2.9
_dmarc.org.example.     IN TXT ( "v=DMARC1; p=reject; sp=quarantine; np=reject; "
                                 "adkim=s; rua=mailto:r@reports.example" )
sub.org.example.        IN A 192.0.2.1
own.example.            IN A 192.0.2.2
_dmarc.own.example.     IN TXT "v=DMARC1; p=none; t=y; aspf=s"
rua-only.example.       IN A 192.0.2.3
_dmarc.rua-only.example. IN TXT "v=DMARC1; p=bogus; rua=mailto:d@rua-only.example"
none.example.           IN A 192.0.2.4
"""

DOMAINS = ["org.example", "sub.org.example", "gone.org.example", "own.example"]
DOMAINS += ["rua-only.example", "none.example"]


class CountingResolver(StaticResolver):
    """Records every question, so tests can assert what was (not) asked."""

    def __init__(self, zone: str, fail: frozenset[str] = frozenset()) -> None:
        super().__init__(zone)
        self.asked: list[tuple[str, RRType]] = []
        self.fail = fail

    async def resolve(self, name: str, rdtype: RRType) -> Answer:  # type: ignore[override]
        self.asked.append((name.lower(), rdtype))
        if name.lower() in self.fail:
            raise DnsServfail(name, rdtype.name)
        return await super().resolve(name, rdtype)


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_check_and_discovery_agree(domain: str) -> None:
    resolver = StaticResolver(ZONE)
    found = asyncio.run(discover_policy(domain, resolver))
    facts = asyncio.run(DmarcCheck().collect(CheckContext(domain=domain, resolver=resolver)))
    assert (found.record_text, found.record_domain, found.policy_domain) == (
        facts.record,
        facts.record_domain,
        facts.policy_domain,
    )
    assert (found.policy, found.effective_policy_source, found.domain_exists) == (
        facts.effective_policy,
        facts.effective_policy_source,
        facts.domain_exists,
    )
    assert (found.adkim, found.aspf, found.testing, found.inherited) == (
        facts.adkim,
        facts.aspf,
        facts.testing,
        facts.inherited,
    )
    assert found.organizational_domain == facts.organizational_domain
    assert found.lookups == facts.lookups


@pytest.mark.parametrize(
    ("domain", "policy", "source"),
    [
        ("org.example", "reject", "p"),
        ("sub.org.example", "quarantine", "sp"),
        ("gone.org.example", "reject", "np"),  # NXDOMAIN: np applies (RFC 9989 §4.10.1)
        ("own.example", "none", "p"),
        ("rua-only.example", "none", "default"),  # invalid p, usable rua: p=none
        ("none.example", None, None),
    ],
)
def test_discovery_finds_the_policy_receivers_apply(
    domain: str, policy: str | None, source: str | None
) -> None:
    found = asyncio.run(discover_policy(domain, StaticResolver(ZONE)))
    assert (found.policy, found.effective_policy_source) == (policy, source)


def test_discovery_memoises_dmarc_names_for_the_run() -> None:
    resolver = CountingResolver(ZONE)
    memo = RunMemo()
    for domain in ("sub.org.example", "org.example"):
        asyncio.run(discover_policy(domain, resolver, memo))
    asked = [name for name, _ in resolver.asked]
    assert asked.count("_dmarc.org.example") == 1


def test_a_failure_that_could_change_the_policy_is_raised_not_taken_for_no_dmarc() -> None:
    resolver = CountingResolver(ZONE, fail=frozenset({"_dmarc.org.example"}))
    with pytest.raises(DnsServfail):
        asyncio.run(discover_policy("sub.org.example", resolver))


def test_verification_asks_no_report_authorisation() -> None:
    # Given a From domain whose record names an external report address,
    # when a message from it is verified,
    # then only discovery's questions are asked: the audit's report-address checks are not.
    resolver = CountingResolver(ZONE)
    raw = (
        b"From: a@org.example\r\nTo: b@example.net\r\nSubject: hi\r\n"
        b"Date: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@org.example>\r\n\r\nHello.\r\n"
    )
    report = verify_message_sync(raw, resolver, None, VerifyOptions())
    assert report.dmarc is not None and report.dmarc.policy == "reject"
    assert not [name for name, _ in resolver.asked if "._report._dmarc." in name]
    assert ("_dmarc.org.example", RRType.TXT) in resolver.asked
