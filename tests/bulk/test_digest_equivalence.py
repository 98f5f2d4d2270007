"""digest_report (read off the typed report, in the workers) must equal digest (read off the
JSON line, on --resume): otherwise a resumed run's summary would differ from a straight one."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from fixture_zone import FIXTURE_DOMAINS, ZONE

from mailauth_audit.bulk.summary import digest, digest_report
from mailauth_audit.engine.auditor import Auditor
from mailauth_audit.errors import DnsServfail, DnsTimeout
from mailauth_audit.model import DomainReport
from mailauth_audit.options import AuditOptions
from mailauth_audit.report.serialize import domain_json_line
from mailauth_audit.resolver.base import Answer, RRType
from mailauth_audit.resolver.static import StaticResolver


class _FailingFor:
    """The fixture zone, except that questions whose name contains `needle` fail."""

    def __init__(self, needle: str, exc: type[Exception]) -> None:
        self.inner = StaticResolver(ZONE, origin="example")
        self.needle = needle
        self.exc = exc

    async def resolve(self, name: str, rdtype: RRType) -> Answer:
        if self.needle in name:
            raise self.exc(name, rdtype.name)
        return await self.inner.resolve(name, rdtype)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _audit(resolver: object, domains: list[str], options: AuditOptions) -> list[DomainReport]:
    async def run() -> list[DomainReport]:
        async with Auditor(options, resolver=resolver) as auditor:  # type: ignore[arg-type]
            return [r async for r in auditor.audit_stream(domains)]

    return asyncio.run(run())


CASES = [
    ("fixture zone", lambda: StaticResolver(ZONE, origin="example"), AuditOptions()),
    ("DMARC in error", lambda: _FailingFor("_dmarc", DnsTimeout), AuditOptions()),
    ("DKIM in error", lambda: _FailingFor("_domainkey", DnsServfail), AuditOptions()),
    ("SPF in error", lambda: _FailingFor("spf", DnsTimeout), AuditOptions()),
    (
        "some checks skipped",
        lambda: StaticResolver(ZONE, origin="example"),
        AuditOptions(checks=frozenset({"spf", "dkim"})),  # type: ignore[arg-type]
    ),
]


@pytest.mark.parametrize(("name", "resolver", "options"), CASES, ids=[c[0] for c in CASES])
def test_digest_of_the_report_equals_digest_of_its_json_line(
    name: str, resolver: object, options: AuditOptions
) -> None:
    domains = [*FIXTURE_DOMAINS, "not a domain!", "-bad-.example", "Good.Example."]
    reports = _audit(resolver(), domains, options)  # type: ignore[operator]
    assert len(reports) == len(domains)
    for report in reports:
        from_line = digest(orjson.loads(domain_json_line(report)))
        assert digest_report(report) == from_line, report.domain


def test_the_cases_cover_errors_skips_and_invalid_names() -> None:
    seen_status = set()
    seen_check_status = set()
    for _, resolver, options in CASES:
        for report in _audit(resolver(), [*FIXTURE_DOMAINS, "not a domain!"], options):
            seen_status.add(report.status.value)
            seen_check_status.update(o.status.value for o in report.checks.values())
    assert {"completed", "invalid"} <= seen_status
    assert {"error", "skipped", "pass", "fail", "warn"} <= seen_check_status
