"""A saved JSON report decodes back to an equal typed report: what the history store and
--resume rely on to judge saved facts again without asking DNS.

Every field of DomainReport and CheckOutcome is stored, so decoding gives an equal report;
the derived keys (findings, score, checklist) are recomputed from it, so re-encoding gives
the same JSON too, and that JSON validates against the committed schema.
"""

from __future__ import annotations

import json

import jsonschema
import orjson
import pytest
from codec_cases import AWKWARD, all_reports
from hypothesis import given, settings
from hypothesis import strategies as st

from mailauth_audit.model import (
    AuditRun,
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
from mailauth_audit.report.codec import CodecError, from_json, to_json
from mailauth_audit.report.schema import committed_schema
from mailauth_audit.report.serialize import domain_json_line, run_to_json

REPORTS = all_reports()
SCHEMA = committed_schema()


def _validate(doc: dict) -> None:  # type: ignore[type-arg]
    run = run_to_json(AuditRun("2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", ()))
    run["domains"] = [doc]
    jsonschema.validate(run, SCHEMA)


def test_the_cases_cover_every_kind_of_outcome() -> None:
    statuses = {o.status for _, r in REPORTS for o in r.checks.values()}
    assert statuses == set(CheckStatus)
    assert any(r.status is DomainStatus.INVALID for _, r in REPORTS)
    assert any(r.resolver_notes for _, r in REPORTS)
    assert {o.error.reason for _, r in REPORTS for o in r.checks.values() if o.error} >= {
        ErrorReason.DNS_TIMEOUT,
        ErrorReason.DNS_SERVFAIL,
        ErrorReason.DNS_REFUSED,
        ErrorReason.BUG,
    }
    assert all(any(cid in r.checks for _, r in REPORTS) for cid in CheckId)


@pytest.mark.parametrize(
    "report", [r for _, r in REPORTS], ids=[f"{n}:{r.domain}" for n, r in REPORTS]
)
def test_from_json_of_to_json_is_the_same_report(report: DomainReport) -> None:
    doc = to_json(report)
    _validate(doc)
    # through the bytes a file holds, not only the dict in memory
    for saved in (json.loads(json.dumps(doc)), orjson.loads(domain_json_line(report))):
        back = from_json(saved)
        assert back == report
        assert to_json(back) == doc  # findings, score and checklist recomputed alike
        assert back.verdict == report.verdict


findings = st.builds(
    Finding,
    code=st.text(min_size=1),
    severity=st.sampled_from(Severity),
    check=st.sampled_from(CheckId),
    title=st.text(),
    detail=st.text(),
    remediation=st.text(),
    evidence=st.lists(st.text(), max_size=3).map(tuple),
    references=st.lists(st.text(), max_size=3).map(tuple),
)


@st.composite
def outcomes(draw: st.DrawFn, cid: CheckId) -> CheckOutcome:
    status = draw(st.sampled_from(CheckStatus))
    if status is CheckStatus.ERROR:
        error = CheckError(
            draw(st.sampled_from(ErrorReason)), draw(st.text()), draw(st.none() | st.text())
        )
        return CheckOutcome(cid, status, error=error)
    if status is CheckStatus.SKIPPED:
        return CheckOutcome(cid, status, skip_reason=draw(st.text()))
    return CheckOutcome(cid, status, findings=tuple(draw(st.lists(findings, max_size=4))))


@st.composite
def reports(draw: st.DrawFn) -> DomainReport:
    cids = draw(st.lists(st.sampled_from(CheckId), unique=True))
    return DomainReport(
        draw(st.text()),
        draw(st.sampled_from(DomainStatus)),
        {cid: draw(outcomes(cid)) for cid in cids},
        input=draw(st.none() | st.text()),
        error=draw(st.none() | st.text()),
        dns_queries=draw(st.integers(min_value=0, max_value=2**62)),
    )


@settings(max_examples=200, deadline=None)
@given(reports())
def test_any_report_of_findings_and_errors_round_trips(report: DomainReport) -> None:
    # strings a UTF-8 file cannot hold (lone surrogates) are refused by the writer already
    text = json.dumps(to_json(report), ensure_ascii=False)
    try:
        text.encode()
    except UnicodeEncodeError:
        return
    assert from_json(json.loads(text)) == report


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ([], "DomainReport"),
        ({"status": "completed"}, "missing 'domain'"),
        ({"domain": "a.example", "status": "done"}, "DomainReport.status"),
        ({"domain": "a.example", "status": "completed", "checks": {"bimi": {}}}, "checks"),
        (
            {"domain": "a.example", "status": "completed", "checks": {"spf": {"status": "pass"}}}
            | {"dns_queries": "3"},
            "dns_queries",
        ),
        (
            {
                "domain": "a.example",
                "status": "completed",
                "checks": {"spf": {"status": "pass", "result": {"record": 1}}},
            },
            "checks.spf",
        ),
        ({"domain": "a.example", "status": "completed", "surprise": 1}, "unknown keys"),
    ],
)
def test_a_document_that_does_not_fit_the_model_is_refused_with_its_place(
    doc: object, where: str
) -> None:
    with pytest.raises(CodecError, match=where):
        from_json(doc)


def test_awkward_text_survives() -> None:
    report = next(r for n, r in REPORTS if n == "hand-built")
    back = from_json(json.loads(json.dumps(to_json(report), ensure_ascii=False)))
    assert back.checks[CheckId.SPF].findings[0].title == AWKWARD
