"""The per-domain wall-clock budget (Limits.domain_timeout): unfinished checks end as
error: domain_deadline, finished ones keep their results, other domains are unaffected."""

from __future__ import annotations

import asyncio
import math
import time

import pytest
from fixture_zone import ZONE

from mailauth_audit.asyncapi import audit_domain, audit_domains
from mailauth_audit.checks.base import RunMemo
from mailauth_audit.engine.outcome import DomainDeadlineExceeded, outcome_from_exception
from mailauth_audit.model import CheckId, CheckStatus, ErrorReason
from mailauth_audit.options import AuditOptions, Limits
from mailauth_audit.resolver.base import Answer, RRType
from mailauth_audit.resolver.static import StaticResolver


class HangingResolver:
    """The zone, except that names in `hang` never get an answer (a server that stalls)."""

    def __init__(self, hang: set[str]) -> None:
        self.inner = StaticResolver(ZONE)
        self.hang = hang

    async def resolve(
        self, name: str, rdtype: RRType, *, dnssec_ok: bool = False, checking_disabled: bool = False
    ) -> Answer:
        if name.rstrip(".").lower() in self.hang:
            await asyncio.sleep(3600)
        return await self.inner.resolve(
            name, rdtype, dnssec_ok=dnssec_ok, checking_disabled=checking_disabled
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


def _options(seconds: float) -> AuditOptions:
    return AuditOptions(limits=Limits(domain_timeout=seconds))


def test_a_stalled_check_ends_as_domain_deadline_and_the_others_keep_their_results() -> None:
    # Given a zone whose _dmarc name never answers, and a budget of 0.3 s
    resolver = HangingResolver({"_dmarc.good.example"})
    started = time.monotonic()
    # When the domain is audited
    report = asyncio.run(audit_domain("good.example", _options(0.3), resolver=resolver))
    # Then the audit ends at the budget, DMARC says why, MX and SPF are judged as usual
    assert time.monotonic() - started < 5
    dmarc = report.checks[CheckId.DMARC]
    assert dmarc.status is CheckStatus.ERROR and dmarc.result is None
    assert dmarc.error is not None and dmarc.error.reason is ErrorReason.DOMAIN_DEADLINE
    assert "0.3 s" in dmarc.error.message
    for cid in (CheckId.MX, CheckId.SPF):
        assert report.checks[cid].status is CheckStatus.PASS
        assert report.checks[cid].result is not None
    assert report.has_errors


def test_a_domain_within_its_budget_is_not_touched() -> None:
    report = asyncio.run(audit_domain("good.example", _options(30), resolver=StaticResolver(ZONE)))
    assert not report.has_errors


def test_one_domain_running_out_of_time_does_not_affect_the_next() -> None:
    # Given two domains, one of whose SPF record never comes
    resolver = HangingResolver({"weak.example"})
    run = asyncio.run(
        audit_domains(["weak.example", "good.example"], _options(0.3), resolver=resolver)
    )
    weak, good = run.domains
    assert weak.checks[CheckId.SPF].error is not None
    assert weak.checks[CheckId.SPF].error.reason is ErrorReason.DOMAIN_DEADLINE
    assert not good.has_errors


def test_the_deadline_maps_to_its_reason_in_the_one_mapping() -> None:
    outcome = outcome_from_exception(CheckId.MX, DomainDeadlineExceeded(60))
    assert outcome.status is CheckStatus.ERROR
    assert outcome.error is not None and outcome.error.reason is ErrorReason.DOMAIN_DEADLINE


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, -math.inf])
def test_domain_timeout_must_be_finite_and_positive(bad: float) -> None:
    with pytest.raises(ValueError, match="domain_timeout"):
        Limits(domain_timeout=bad)


@pytest.mark.parametrize("field", ["max_report_authorizations", "max_mx_hosts"])
def test_caps_must_be_at_least_one(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Limits(**{field: 0})  # type: ignore[arg-type]


def test_memo_waiters_compute_the_value_themselves_when_its_owner_is_cancelled() -> None:
    # Given domain A computing a shared value slowly and domain B waiting for it
    async def scenario() -> str:
        memo = RunMemo()
        calls: list[str] = []

        async def slow() -> str:
            calls.append("a")
            await asyncio.sleep(3600)
            return "never"

        async def fast() -> str:
            calls.append("b")
            return "value"

        owner = asyncio.create_task(memo.get_or_compute("ns", "k", slow))
        await asyncio.sleep(0)
        waiter = asyncio.create_task(memo.get_or_compute("ns", "k", fast))
        await asyncio.sleep(0)
        # When A's deadline cancels it
        owner.cancel()
        result = await asyncio.wait_for(waiter, 5)
        # Then B is not cancelled with it: it computes the value
        assert calls == ["a", "b"]
        with pytest.raises(asyncio.CancelledError):
            await owner
        return result

    assert asyncio.run(scenario()) == "value"
