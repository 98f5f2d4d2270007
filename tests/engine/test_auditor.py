"""The engine on zone text: error mapping, skipping, ordering, bounded streaming."""

from __future__ import annotations

import asyncio

import pytest
from fixture_zone import ZONE

from mailauth_audit.asyncapi import audit_domain, audit_domains
from mailauth_audit.checks.base import EvaluationContext
from mailauth_audit.checks.mx import MxCheck
from mailauth_audit.checks.registry import CHECKS
from mailauth_audit.engine.auditor import Auditor, evaluation_order
from mailauth_audit.errors import DnsRefused, DnsServfail, DnsTimeout, ResolverError
from mailauth_audit.model import (
    CheckId,
    CheckStatus,
    DomainStatus,
    ErrorReason,
)
from mailauth_audit.options import AuditOptions, Limits
from mailauth_audit.resolver.static import StaticResolver


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def resolver(**faults: type[ResolverError]) -> StaticResolver:
    return StaticResolver(ZONE, faults={k.replace("__", "."): v for k, v in faults.items()})


def test_registry_has_one_check_per_id() -> None:
    assert set(CHECKS) == set(CheckId)
    for cid, cls in CHECKS.items():
        assert cls.id is cid
        assert cls.standard, f"{cls.__name__} must cite its standard"


def test_dkim_is_judged_after_what_it_looks_at() -> None:
    order = evaluation_order(CheckId)
    for cid in CheckId:
        for dep in CHECKS[cid].evaluate_after:
            assert order.index(dep) < order.index(cid)


@pytest.mark.parametrize(
    ("fault_name", "fault", "check", "reason"),
    [
        ("_dmarc.good.example", DnsTimeout, CheckId.DMARC, ErrorReason.DNS_TIMEOUT),
        ("good.example", DnsServfail, CheckId.SPF, ErrorReason.DNS_SERVFAIL),
        ("good.example", DnsRefused, CheckId.MX, ErrorReason.DNS_REFUSED),
        ("_domainkey.good.example", DnsTimeout, CheckId.DKIM, ErrorReason.DNS_TIMEOUT),
    ],
)
def test_resolver_errors_become_error_outcomes_never_missing(
    fault_name: str, fault: type[ResolverError], check: CheckId, reason: ErrorReason
) -> None:
    # Given a zone where one name's server misbehaves
    r = StaticResolver(ZONE, faults={fault_name: fault})
    # When the domain is audited
    report = run(audit_domain("good.example", resolver=r))
    # Then the affected check could not be completed, with the reason, and no finding
    outcome = report.checks[check]
    assert report.status is DomainStatus.COMPLETED
    assert outcome.status is CheckStatus.ERROR
    assert outcome.error is not None and outcome.error.reason is reason
    assert outcome.error.message.startswith("could not check:")
    assert outcome.findings == ()
    assert not any(f.code.endswith(".missing") for f in report.findings)
    assert report.has_errors


def test_unaffected_checks_still_complete_when_one_errors() -> None:
    report = run(audit_domain("good.example", resolver=resolver(_dmarc__good__example=DnsTimeout)))
    assert report.checks[CheckId.SPF].status is CheckStatus.PASS
    assert report.checks[CheckId.MX].status is CheckStatus.PASS


def test_a_bug_in_a_check_is_reported_as_bug_with_trace_only_in_debug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class BrokenMx(MxCheck):
        def evaluate(self, facts, ctx: EvaluationContext):  # type: ignore[no-untyped-def]
            raise ZeroDivisionError("boom")

    monkeypatch.setitem(CHECKS, CheckId.MX, BrokenMx)
    plain = run(audit_domain("good.example", resolver=resolver()))
    debug = run(audit_domain("good.example", AuditOptions(debug=True), resolver=resolver()))
    for report in (plain, debug):
        err = report.checks[CheckId.MX].error
        assert err is not None and err.reason is ErrorReason.BUG
        assert "ZeroDivisionError" in err.message
    assert plain.checks[CheckId.MX].error.trace is None  # type: ignore[union-attr]
    assert "ZeroDivisionError" in (debug.checks[CheckId.MX].error.trace or "")  # type: ignore[union-attr]
    assert plain.checks[CheckId.SPF].status is CheckStatus.PASS


def test_checks_not_requested_are_skipped_and_not_queried() -> None:
    r = resolver()
    opts = AuditOptions(checks=frozenset({CheckId.SPF}))
    report = run(audit_domain("good.example", opts, resolver=r))
    assert report.checks[CheckId.SPF].status is CheckStatus.PASS
    for cid in (CheckId.MX, CheckId.DKIM, CheckId.DMARC):
        assert report.checks[cid].status is CheckStatus.SKIPPED
        assert report.checks[cid].skip_reason == "not requested"


def test_invalid_domain_is_a_report_not_an_exception() -> None:
    report = run(audit_domain("not a domain", resolver=resolver()))
    assert report.status is DomainStatus.INVALID
    assert report.error and "invalid domain name" in report.error
    assert report.checks == {}


def test_audit_domains_keeps_input_order_and_normalises() -> None:
    names = ["Weak.Example.", "good.example", "nope nope", "nomail.example"]
    run_ = run(audit_domains(names, resolver=resolver()))
    assert [d.domain for d in run_.domains] == [
        "weak.example",
        "good.example",
        "nope nope",
        "nomail.example",
    ]
    assert run_.domains[0].input == "Weak.Example."
    assert run_.domains[2].status is DomainStatus.INVALID


def test_stream_is_bounded_and_reports_every_domain() -> None:
    # Given more domains than workers, and a resolver that yields to the loop on every query
    base = resolver()

    class Yielding:
        async def resolve(self, name, rdtype, **flags):  # type: ignore[no-untyped-def]
            await asyncio.sleep(0)
            return await base.resolve(name, rdtype, **flags)

        async def aclose(self) -> None:
            return None

    active = 0
    peak = 0

    class Counting(Auditor):
        async def audit_domain(self, text: str):  # type: ignore[no-untyped-def]
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            try:
                return await super().audit_domain(text)
            finally:
                active -= 1

    opts = AuditOptions(limits=Limits(max_concurrent_domains=3))
    names = [f"d{i}.good.example" for i in range(40)]

    async def go() -> list[str]:
        auditor = Counting(opts, Yielding())
        return [r.domain async for r in auditor.audit_stream(iter(names))]

    # When they are streamed, then every domain is reported once and at most 3 run at a time
    done = run(go())
    assert sorted(done) == sorted(names)
    assert peak == 3
