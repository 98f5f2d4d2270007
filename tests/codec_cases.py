"""Reports of every kind the fixture zone gives, for the codec and bulk-line tests: passes,
failures, checks in error (each DNS failure kind), skipped checks, resolver notes, invalid
names, and a hand-built report with every awkward character in its texts."""

from __future__ import annotations

import asyncio

from fixture_zone import FIXTURE_DOMAINS, ZONE

from mailauth_audit.engine.auditor import Auditor
from mailauth_audit.errors import DnsRefused, DnsServfail, DnsTimeout
from mailauth_audit.model import (
    CheckError,
    CheckId,
    CheckOutcome,
    CheckStatus,
    DomainReport,
    DomainStatus,
    ErrorReason,
    Finding,
    Severity,
)
from mailauth_audit.options import AuditOptions
from mailauth_audit.resolver.base import Answer, RRType
from mailauth_audit.resolver.static import StaticResolver

AWKWARD = "".join(chr(c) for c in range(0x20)) + '"\\/ é ü\u2028\u2029\x7f 𝄞 \ufffd'
DOMAINS = [*FIXTURE_DOMAINS, "not a domain!", "-bad-.example", "Good.Example."]


class FailingFor:
    """The fixture zone, except that questions whose name contains `needle` fail."""

    def __init__(self, needle: str, exc: type[Exception]) -> None:
        self.inner = StaticResolver(ZONE, origin="example")
        self.needle = needle
        self.exc = exc

    async def resolve(
        self, name: str, rdtype: RRType, *, dnssec_ok: bool = False, checking_disabled: bool = False
    ) -> Answer:
        if self.needle in name:
            raise self.exc(name, rdtype.name)
        return await self.inner.resolve(
            name, rdtype, dnssec_ok=dnssec_ok, checking_disabled=checking_disabled
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


def audit(resolver: object, domains: list[str], options: AuditOptions) -> list[DomainReport]:
    async def run() -> list[DomainReport]:
        async with Auditor(options, resolver=resolver) as auditor:  # type: ignore[arg-type]
            return [r async for r in auditor.audit_stream(domains)]

    return asyncio.run(run())


CASES = [
    ("fixture zone", lambda: StaticResolver(ZONE, origin="example"), AuditOptions()),
    ("DMARC in error", lambda: FailingFor("_dmarc", DnsTimeout), AuditOptions()),
    ("DKIM in error", lambda: FailingFor("_domainkey", DnsServfail), AuditOptions()),
    ("SPF in error", lambda: FailingFor("spf", DnsTimeout), AuditOptions()),
    ("everything refused", lambda: FailingFor("", DnsRefused), AuditOptions()),
    (
        "some checks skipped",
        lambda: StaticResolver(ZONE, origin="example"),
        AuditOptions(checks=frozenset({"spf", "dkim"})),  # type: ignore[arg-type]
    ),
]


def hand_built() -> DomainReport:
    finding = Finding(
        "spf.awkward", Severity.LOW, CheckId.SPF, AWKWARD, AWKWARD, AWKWARD, (AWKWARD, ""), ()
    )
    return DomainReport(
        "timeout.example",
        DomainStatus.COMPLETED,
        {
            CheckId.MX: CheckOutcome(CheckId.MX, CheckStatus.SKIPPED, skip_reason="not requested"),
            CheckId.SPF: CheckOutcome(CheckId.SPF, CheckStatus.WARN, findings=(finding,)),
            CheckId.DKIM: CheckOutcome(
                CheckId.DKIM,
                CheckStatus.ERROR,
                error=CheckError(ErrorReason.BUG, AWKWARD, trace="Traceback\n  line 1"),
            ),
        },
        input="TIMEOUT.example",
        dns_queries=2**40,
    )


def all_reports() -> list[tuple[str, DomainReport]]:
    """(case name, report) for every domain of every case, and the hand-built report."""
    out = [
        (name, report)
        for name, resolver, options in CASES
        for report in audit(resolver(), DOMAINS, options)
    ]
    return [*out, ("hand-built", hand_built())]
