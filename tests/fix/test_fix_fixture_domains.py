"""The change set of every fixture domain, applied to the fixture zone and audited again.

What `fix` promises (issue "Remediation that works when followed literally"): no finding the
applied changes claim to fix comes back, no new finding at or above the severity of the
worst finding they fixed appears, the grade never goes down, and the corrected zone holds
no placeholder. The counts are printed with the test output.
"""

from __future__ import annotations

import asyncio

import pytest
from fixture_zone import FIXTURE_DOMAINS, ZONE

from mailauth_audit.asyncapi import fix_domain
from mailauth_audit.fix.runner import FixOutcome


def _fix_all() -> list[FixOutcome]:
    async def run() -> list[FixOutcome]:
        return [await fix_domain(d, zone_text=ZONE) for d in FIXTURE_DOMAINS]

    return asyncio.run(run())


@pytest.fixture(scope="module")
def outcomes() -> list[FixOutcome]:
    return _fix_all()


def test_applied_changes_fix_what_they_claim_and_nothing_gets_worse(
    outcomes: list[FixOutcome], capsys: pytest.CaptureFixture[str]
) -> None:
    with_findings = [o for o in outcomes if o.before.findings]
    applied = fixed = held = 0
    for o in with_findings:
        assert not o.came_back, (o.domain, [f.code for f in o.came_back])
        claimed = [f for f in o.before.findings if f.code in o.claimed]
        if claimed:
            worst = max(f.severity.rank for f in claimed)
            worse = [f.code for f in o.new if f.severity.rank >= worst]
            assert not worse, (o.domain, worse)
        else:
            assert not o.new, (o.domain, [f.code for f in o.new])
        before, after = o.before.verdict.score, o.after.verdict.score
        assert before is not None and after is not None and after >= before, o.domain
        assert o.corrected_zone is not None
        for change in o.plan.needs_input:
            for placeholder in change.placeholders:
                assert placeholder not in o.corrected_zone, (o.domain, placeholder)
        applied += len(o.applied)
        fixed += len(claimed)
        held += len(o.plan.needs_input)
    with capsys.disabled():
        print(
            f"\nfix over {len(with_findings)} fixture domains with findings: "
            f"{applied} changes applied, {fixed} findings fixed, 0 came back, "
            f"{held} changes need the owner's input"
        )
    assert applied and fixed


def test_every_other_line_of_the_zone_is_kept(outcomes: list[FixOutcome]) -> None:
    for o in outcomes:
        assert o.corrected_zone is not None and o.edit is not None
        before = ZONE.split("\n")
        after = set(o.corrected_zone.split("\n"))
        gone = [line for line in before if line not in after]
        # one line per replaced or removed record (the fixture writes each on one line)
        assert len(gone) <= sum(1 for c in o.applied if c.current is not None), o.domain
        assert "$ORIGIN example." in after and "$TTL 300" in after


def test_placeholders_reach_the_zone_only_when_allowed() -> None:
    held = asyncio.run(fix_domain("bigtxt.example", zone_text=ZONE))
    allowed = asyncio.run(fix_domain("bigtxt.example", zone_text=ZONE, allow_placeholders=True))
    assert held.plan.needs_input
    # a placeholder may stand in a TXT value only: in an address the zone would not parse
    assert all(c.rtype != "TXT" for c in allowed.plan.needs_input)
    assert len(allowed.plan.needs_input) < len(held.plan.needs_input)
    assert held.corrected_zone is not None and allowed.corrected_zone is not None
    assert "<your-report-mailbox>" not in held.corrected_zone
    assert '"v=DMARC1; p=none; rua=mailto:<your-report-mailbox>"' in allowed.corrected_zone
    # the policy itself needed no input: it is published either way
    assert '_dmarc.bigtxt.example. 3600 IN TXT "v=DMARC1; p=none"' in held.corrected_zone
