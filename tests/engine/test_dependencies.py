"""Checks that depend on checks: waves, pulled-in dependencies, failed dependencies, cycles."""

from __future__ import annotations

import asyncio

import pytest
from fixture_zone import ZONE

from mailauth_audit.asyncapi import audit_domain
from mailauth_audit.checks.base import CheckContext
from mailauth_audit.checks.dependencies import DependencyCycle, validate_registry
from mailauth_audit.checks.dkim import DkimCheck
from mailauth_audit.checks.dkim.result import DkimResult
from mailauth_audit.checks.mx import MxCheck, MxResult
from mailauth_audit.checks.registry import CHECKS
from mailauth_audit.checks.spf import SpfCheck
from mailauth_audit.engine.plan import Wave, blocked_outcome, plan_checks
from mailauth_audit.errors import DnsRefused
from mailauth_audit.model import CheckId, CheckOutcome, CheckStatus, ErrorReason
from mailauth_audit.options import AuditOptions, Limits
from mailauth_audit.resolver.static import StaticResolver

EVENTS: list[str] = []
_DNS = (CheckId.MX, CheckId.SPF, CheckId.DMARC, CheckId.DKIM)


class DkimAfterMx(DkimCheck):
    """A DKIM check whose collect reads the MX outcome, as a STARTTLS check would."""

    depends_on = (CheckId.MX,)

    async def collect(self, ctx: CheckContext) -> DkimResult:
        mx = ctx.result(CheckId.MX, MxResult)
        EVENTS.append(f"dkim sees {len(mx.hosts)} mx hosts")
        return await super().collect(ctx)


class LoggingMx(MxCheck):
    async def collect(self, ctx: CheckContext) -> MxResult:
        EVENTS.append("mx start")
        await asyncio.sleep(0)
        result = await super().collect(ctx)
        EVENTS.append("mx end")
        return result


@pytest.fixture
def dependent(monkeypatch: pytest.MonkeyPatch) -> None:
    EVENTS.clear()
    monkeypatch.setitem(CHECKS, CheckId.DKIM, DkimAfterMx)
    monkeypatch.setitem(CHECKS, CheckId.MX, LoggingMx)


def test_todays_checks_are_one_wave_with_no_extra_steps() -> None:
    # the bulk hot path: every DNS check collects at once, then all are judged; the probe
    # checks need the MX hosts (depends_on) and make the one second wave
    plan = plan_checks(CheckId, CHECKS)
    assert plan.waves == (
        Wave(
            collect=(*_DNS, CheckId.MTA_STS, CheckId.DNSSEC, CheckId.DANE, CheckId.TLS_RPT),
            evaluate=(*_DNS, CheckId.DNSSEC, CheckId.DANE),
        ),
        # MTA-STS judges the MX certificates STARTTLS saw under `enforce`, and TLS-RPT is
        # judged after MTA-STS and DANE (a missing record matters when they are deployed)
        Wave(
            collect=(CheckId.STARTTLS, CheckId.MX_IDENTITY),
            evaluate=(CheckId.STARTTLS, CheckId.MTA_STS, CheckId.TLS_RPT, CheckId.MX_IDENTITY),
        ),
    )
    dns_only = plan_checks([CheckId.MX, CheckId.SPF, CheckId.DKIM, CheckId.DMARC], CHECKS)
    assert len(dns_only.waves) == 1


_DNS_CHECKS = (CheckId.MX, CheckId.SPF, CheckId.DMARC, CheckId.DKIM)


def test_dependent_check_collects_after_its_dependency_is_judged(dependent: None) -> None:
    plan = plan_checks(CheckId, CHECKS)
    assert [w.collect for w in plan.waves] == [
        (
            CheckId.MX,
            CheckId.SPF,
            CheckId.DMARC,
            CheckId.MTA_STS,
            CheckId.DNSSEC,
            CheckId.DANE,
            CheckId.TLS_RPT,
        ),
        (CheckId.DKIM, CheckId.STARTTLS, CheckId.MX_IDENTITY),
    ]
    report = asyncio.run(audit_domain("good.example", resolver=StaticResolver(ZONE)))
    assert EVENTS[:2] == ["mx start", "mx end"]
    assert EVENTS[2].startswith("dkim sees ") and EVENTS[2] != "dkim sees 0 mx hosts"
    assert report.checks[CheckId.DKIM].status is not CheckStatus.ERROR


def test_failed_dependency_ends_dependent_in_error_naming_it(dependent: None) -> None:
    r = StaticResolver(ZONE, faults={"good.example": DnsRefused})
    report = asyncio.run(audit_domain("good.example", resolver=r))
    mx, dkim = report.checks[CheckId.MX], report.checks[CheckId.DKIM]
    assert mx.error is not None and mx.error.reason is ErrorReason.DNS_REFUSED
    assert dkim.status is CheckStatus.ERROR and dkim.findings == () and dkim.result is None
    assert dkim.error is not None and dkim.error.reason is ErrorReason.DEPENDENCY_FAILED
    assert "MX" in dkim.error.message and "dns_refused" in dkim.error.message
    assert not any(e.startswith("dkim sees") for e in EVENTS)  # never run on missing input
    assert report.grade is None  # no verdict without evidence


def test_requested_check_pulls_in_its_dependency_which_is_reported(dependent: None) -> None:
    opts = AuditOptions(checks=frozenset({CheckId.DKIM}))
    report = asyncio.run(audit_domain("good.example", opts, resolver=StaticResolver(ZONE)))
    assert report.checks[CheckId.MX].status is CheckStatus.PASS
    assert report.checks[CheckId.DKIM].status is not CheckStatus.SKIPPED
    for cid in (CheckId.SPF, CheckId.DMARC):
        assert report.checks[cid].skip_reason == "not requested"


def test_dependency_cut_by_the_deadline_fails_its_dependent(
    dependent: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    class HangingMx(MxCheck):
        async def collect(self, ctx: CheckContext) -> MxResult:
            await asyncio.sleep(60)
            raise AssertionError("not reached")

    monkeypatch.setitem(CHECKS, CheckId.MX, HangingMx)
    opts = AuditOptions(limits=Limits(domain_timeout=0.2))
    report = asyncio.run(audit_domain("good.example", opts, resolver=StaticResolver(ZONE)))
    mx, dkim = report.checks[CheckId.MX], report.checks[CheckId.DKIM]
    assert mx.error is not None and mx.error.reason is ErrorReason.DOMAIN_DEADLINE
    assert dkim.error is not None and dkim.error.reason is ErrorReason.DEPENDENCY_FAILED
    assert report.checks[CheckId.SPF].status is CheckStatus.PASS


def test_reading_an_undeclared_outcome_is_a_bug_not_a_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Sneaky(DkimCheck):
        async def collect(self, ctx: CheckContext) -> DkimResult:
            ctx.outcome(CheckId.MX)
            raise AssertionError("not reached")

    monkeypatch.setitem(CHECKS, CheckId.DKIM, Sneaky)
    report = asyncio.run(audit_domain("good.example", resolver=StaticResolver(ZONE)))
    err = report.checks[CheckId.DKIM].error
    assert err is not None and err.reason is ErrorReason.BUG and "depends_on" in err.message


def test_skipped_dependency_skips_the_dependent_with_the_reason() -> None:
    skipped = CheckOutcome(CheckId.MX, CheckStatus.SKIPPED, skip_reason="no MX hosts")
    out = blocked_outcome(CheckId.DKIM, (CheckId.MX,), {CheckId.MX: skipped})
    assert out is not None and out.status is CheckStatus.SKIPPED
    assert out.skip_reason == "it needs MX, which was skipped (no MX hosts)"
    done = CheckOutcome(CheckId.MX, CheckStatus.PASS)
    assert blocked_outcome(CheckId.DKIM, (CheckId.MX,), {CheckId.MX: done}) is None


def test_cycles_are_rejected_when_the_registry_is_built() -> None:
    class MxAfterDkim(MxCheck):
        depends_on = (CheckId.DKIM,)

    with pytest.raises(DependencyCycle, match=r"mx -> dkim -> mx|dkim -> mx -> dkim"):
        validate_registry({**CHECKS, CheckId.MX: MxAfterDkim, CheckId.DKIM: DkimAfterMx})


def test_a_cycle_through_evaluate_after_is_rejected_too() -> None:
    class SpfAfterDkim(SpfCheck):
        depends_on = (CheckId.DKIM,)

    # DKIM's evaluate waits for SPF's outcome; SPF's collect would wait for DKIM's
    with pytest.raises(DependencyCycle):
        validate_registry({**CHECKS, CheckId.SPF: SpfAfterDkim})


def test_the_real_registry_is_valid() -> None:
    validate_registry(CHECKS)
