"""Score, grade and the provider checklist: the documented formula, the same in every format."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jsonschema
import pytest

from mailauth_audit.asyncapi import audit_domains
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
    status_from_findings,
)
from mailauth_audit.report.renderers import JsonRenderer, TextRenderer
from mailauth_audit.report.schema import committed_schema
from mailauth_audit.report.serialize import SCHEMA_VERSION
from mailauth_audit.report.verdict_text import grade_label, verdict_line
from mailauth_audit.resolver.static import StaticResolver
from mailauth_audit.verdicts.checklist import ChecklistState, EvidenceSource, provider_checklist
from mailauth_audit.verdicts.score import (
    GRADES,
    GradeStatus,
    grade_for,
    score_domain,
    sort_key,
)

ZONE = (Path(__file__).parents[1] / "zones" / "example.zone").read_text()


def finding(sev: Severity, check: CheckId = CheckId.SPF, code: str = "spf.x") -> Finding:
    return Finding(code, sev, check, "title", "detail", "remediation")


def report_with(*sevs: Severity, error: bool = False) -> DomainReport:
    by_check: dict[CheckId, list[Finding]] = {c: [] for c in CheckId}
    for i, s in enumerate(sevs):
        cid = list(CheckId)[i % len(CheckId)]
        by_check[cid].append(finding(s, cid, f"{cid.value}.f{i}"))
    checks = {
        cid: CheckOutcome(cid, status_from_findings(fs), None, tuple(fs))
        for cid, fs in by_check.items()
    }
    if error:
        checks[CheckId.DKIM] = CheckOutcome(
            CheckId.DKIM,
            CheckStatus.ERROR,
            error=CheckError(ErrorReason.DNS_TIMEOUT, "could not check: DNS timeout"),
        )
    return DomainReport("example.com", DomainStatus.COMPLETED, checks)


@pytest.mark.parametrize(
    ("sevs", "score", "grade"),
    [
        ((), 100, "A"),
        ((Severity.INFO,) * 10, 100, "A"),  # info never costs anything
        ((Severity.LOW,), 97, "A"),
        ((Severity.LOW,) * 4, 88, "B"),
        ((Severity.MEDIUM,), 92, "B"),  # capped: a medium finding is never an A
        ((Severity.MEDIUM, Severity.MEDIUM, Severity.LOW), 81, "B"),
        ((Severity.MEDIUM,) * 4, 68, "C"),
        ((Severity.HIGH,), 80, "D"),  # capped: a high finding is at most D
        ((Severity.HIGH, Severity.HIGH, Severity.HIGH), 40, "D"),
        ((Severity.HIGH,) * 4, 20, "F"),
        ((Severity.CRITICAL,), 60, "F"),  # capped: critical is F whatever the score
        ((Severity.CRITICAL,) * 3, 0, "F"),  # clamped at 0
    ],
)
def test_documented_formula(sevs: tuple[Severity, ...], score: int, grade: str) -> None:
    s = score_domain(report_with(*sevs))
    assert (s.score, s.grade, s.complete) == (score, grade, True)
    assert s.penalty == sum(
        {"critical": 40, "high": 20, "medium": 8, "low": 3}.get(x, 0) for x in sevs
    )


@pytest.mark.parametrize(
    ("score", "worst", "grade"),
    [(90, None, "A"), (89, None, "B"), (75, None, "B"), (74, None, "C"), (60, None, "C"),
     (59, None, "D"), (40, None, "D"), (39, None, "F"), (100, Severity.LOW, "A"),
     (100, Severity.MEDIUM, "B"), (100, Severity.HIGH, "D"), (100, Severity.CRITICAL, "F"),
     (10, Severity.MEDIUM, "F")],
)  # fmt: skip
def test_grade_thresholds_and_caps(score: int, worst: Severity | None, grade: str) -> None:
    assert grade_for(score, worst) == grade


def test_a_check_in_error_means_no_grade_only_a_provisional_score() -> None:
    # Given a LOW finding and DKIM in error, When judged, Then there is no grade or score:
    # 97 (what the completed checks give) is only provisional, with the reason beside it
    report = report_with(Severity.LOW, error=True)
    s = score_domain(report)
    assert s.score is None and s.grade is None and not s.complete and not s.graded
    assert s.grade_status is GradeStatus.NOT_GRADED and s.provisional_score == 97
    assert s.checks_in_error == (CheckId.DKIM,)
    assert s.not_graded_reason == "1 check could not complete: dkim (dns_timeout)"
    assert grade_label(s) == "not graded — 1 check could not complete"
    assert "nothing to fix" not in verdict_line(s).lower()
    assert report.verdict == s and report.grade is None  # the library's report object


def test_every_check_in_error_is_not_an_a() -> None:
    checks = {
        c: CheckOutcome(c, CheckStatus.ERROR, error=CheckError(ErrorReason.DNS_REFUSED, "x"))
        for c in CheckId
    }
    s = DomainReport("dead.example", DomainStatus.COMPLETED, checks).verdict
    assert s.grade is None and s.provisional_score == 100
    assert s.not_graded_reason is not None and s.not_graded_reason.startswith(
        f"{len(CheckId)} checks"
    )
    assert grade_label(s) == f"not graded — {len(CheckId)} checks could not complete"
    # not graded sorts before every grade: nobody can vouch for it
    graded = score_domain(report_with(Severity.CRITICAL))
    assert sorted([graded, s], key=sort_key)[0] is s


def test_invalid_domain_has_no_score_and_sorts_last() -> None:
    s = score_domain(DomainReport("not a domain", DomainStatus.INVALID, error="bad"))
    assert s.score is None and s.grade is None and grade_label(s) == "invalid"
    graded = [score_domain(report_with(*x)) for x in [(), (Severity.HIGH,) * 4, (Severity.LOW,)]]
    order = sorted([s, *graded], key=sort_key)
    assert [o.grade for o in order] == ["F", "A", "A", None]
    assert [o.score for o in order][:3] == [20, 97, 100]  # lower score first within a grade
    assert GRADES == ("A", "B", "C", "D", "F")


@pytest.fixture(scope="module")
def fixture_run():  # type: ignore[no-untyped-def]
    names = ["good.example", "weak.example", "broken.example", "hostile.example",
             "nomail.example", "toomany.example", "not a domain"]  # fmt: skip
    return asyncio.run(audit_domains(names, resolver=StaticResolver(ZONE)))


def test_json_text_and_score_agree(fixture_run) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(JsonRenderer().render(fixture_run))
    assert doc["schema_version"] == SCHEMA_VERSION == "1.12"
    jsonschema.validate(doc, committed_schema())
    text = TextRenderer().render(fixture_run)
    for report, d in zip(fixture_run.domains, doc["domains"], strict=True):
        s = score_domain(report)
        assert d["score"]["score"] == s.score and d["score"]["grade"] == s.grade
        counts = {
            sev.value: sum(f["severity"] == sev.value for f in d["findings"]) for sev in Severity
        }
        assert {k: d["score"][k] for k in counts} == counts
        if s.grade:
            assert f"Grade {grade_label(s)}" in text


def test_checklist_in_json_never_marks_spam_rate_or_test_message_items_as_met(fixture_run) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(JsonRenderer().render(fixture_run))
    for d in doc["domains"]:
        items = {i["id"]: i for i in d["checklist"]["items"]}
        if d["status"] == "invalid":
            assert items == {}
            continue
        assert items["spam_rate"]["state"] == "not_observable"
        assert items["spam_rate"]["source"] == "provider_only"
        for i in items.values():
            if i["source"] == "test_message":
                assert i["state"] == "needs_test_message"
            if i["source"] != "dns":
                assert i["state"] not in ("met", "not_met")
        c = d["checklist"]
        assert c["met"] + c["not_met"] + c["open"] == len(items)


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("good.example", {"spf": "met", "dkim": "met", "dkim_key_length": "met", "dmarc": "met",
                          "dmarc_alignment_possible": "met"}),
        ("weak.example", {"spf": "met", "dkim_key_length": "met", "dmarc": "met"}),  # 1024 ok
        ("broken.example", {"spf": "not_met", "dkim": "not_met", "dmarc": "not_met",
                            "dmarc_alignment_possible": "not_met"}),
        ("toomany.example", {"spf": "not_met", "dmarc": "met"}),  # 15 lookups: SPF fails
        ("hostile.example", {"spf": "not_met", "dmarc": "not_met"}),
    ],
)  # fmt: skip
def test_checklist_dns_items(fixture_run, domain: str, expected: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    report = next(d for d in fixture_run.domains if d.domain == domain)
    states = {i.id: i.state.value for i in provider_checklist(report).items}
    assert {k: states[k] for k in expected} == expected


def test_checklist_says_unknown_when_the_check_errored() -> None:
    c = provider_checklist(report_with(error=True))
    dkim = {i.id: i for i in c.items}["dkim"]
    assert dkim.state is ChecklistState.UNKNOWN and dkim.source is EvidenceSource.DNS
    assert "DNS timeout" in dkim.evidence
