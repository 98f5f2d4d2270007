"""Line format 5 reads back to the report it was written from, and every output renders
from it as from the report: the fixture zone's reports (passes, failures, checks in error,
skipped checks) and bench-like ones (providers' MX hosts on loopback, DKIM keys, DMARC of
every kind). What the line leaves out is what the reader derives: findings of checks that
judge their facts alone, skipped outcomes their check derives, the checklist."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import orjson
import pytest
from bench_like import bench_like_reports
from codec_cases import CASES, DOMAINS, audit
from old_lines import FORMAT4_BENCH_LINES, format4_line

from mailauth_audit.api import render
from mailauth_audit.bulk.jsonl import LINE_FORMAT, bulk_line
from mailauth_audit.bulk.summary import digest, digest_report
from mailauth_audit.checks.base import EvaluationContext
from mailauth_audit.checks.registry import CHECKS
from mailauth_audit.model import CheckId, CheckStatus, DomainReport
from mailauth_audit.report.codec import from_json

FIXTURE = [r for _, resolver, options in CASES for r in audit(resolver(), DOMAINS, options)]
BENCH = bench_like_reports(date(2026, 11, 30))
LINE_TARGET = 4096  # bytes per domain, default checks (benchmarks/bulk.py LINE_TARGET)


def _round_trip(report: DomainReport) -> DomainReport:
    line = bulk_line(report)
    doc = orjson.loads(line)
    assert doc["line_format"] == LINE_FORMAT == 5
    return from_json(doc)


@pytest.mark.parametrize("fmt", ["json", "text", "csv", "html"])
def test_every_report_renders_the_same_from_its_line(fmt: str) -> None:
    reports = FIXTURE + BENCH if fmt != "html" else FIXTURE[::4] + BENCH
    for report in reports:
        back = _round_trip(report)
        assert back == report, report.domain
        assert render(back, fmt) == render(report, fmt), (report.domain, fmt)


def test_the_digest_of_a_line_is_the_digest_of_its_report() -> None:
    # --resume and the bulk summary count findings from the line without decoding it
    for report in FIXTURE + BENCH:
        assert digest(orjson.loads(bulk_line(report))) == digest_report(report), report.domain


def test_findings_that_follow_from_the_facts_are_references() -> None:
    refs = written = 0
    for report in BENCH:
        doc = orjson.loads(bulk_line(report))
        for cid, outcome in doc["checks"].items():
            for f in outcome.get("findings", ()):
                if isinstance(f, dict):
                    assert not CHECKS[CheckId(cid)].judges_facts_only, (cid, f)
                    written += 1
                else:
                    refs += 1
    assert refs > 3 * written > 0


def test_a_skipped_check_the_rule_gives_is_one_word() -> None:
    seen = 0
    for report in BENCH:
        doc = orjson.loads(bulk_line(report))
        for cid in (CheckId.STARTTLS, CheckId.MX_IDENTITY):
            outcome = report.checks[cid]
            if outcome.status is CheckStatus.SKIPPED and "loopback" in (outcome.skip_reason or ""):
                assert doc["checks"][cid.value] == {"status": "skipped", "skip_reason": 0}
                seen += 1
    assert seen >= 8


def test_a_skipped_check_the_rule_does_not_give_keeps_its_facts() -> None:
    report = next(r for r in BENCH if r.checks[CheckId.STARTTLS].status is CheckStatus.SKIPPED)
    outcome = report.checks[CheckId.STARTTLS]
    other = dataclasses.replace(outcome, skip_reason="not probed: --no-probes")
    changed = dataclasses.replace(report, checks={**report.checks, CheckId.STARTTLS: other})
    doc = orjson.loads(bulk_line(changed))
    assert doc["checks"]["starttls"]["skip_reason"] == "not probed: --no-probes"
    assert from_json(doc) == changed


class _NoOptions:
    """Options a check that judges its facts alone must not read (but its text limits)."""

    def __init__(self, limits: Any) -> None:
        self.limits = limits

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"evaluate read options.{name}")


def test_checks_that_judge_their_facts_alone_read_no_option() -> None:
    from mailauth_audit.options import AuditOptions

    judged = 0
    for report in FIXTURE + BENCH:
        for cid, outcome in report.checks.items():
            cls = CHECKS[cid]
            if not cls.judges_facts_only or outcome.status not in (
                CheckStatus.PASS,
                CheckStatus.WARN,
                CheckStatus.FAIL,
            ):
                continue
            waits = (*cls.depends_on, *cls.evaluate_after)
            ctx = EvaluationContext(
                domain=report.domain,
                options=_NoOptions(AuditOptions().limits),  # type: ignore[arg-type]
                outcomes={d: report.checks[d] for d in waits if d in report.checks},
            )
            cls().evaluate(outcome.result, ctx)
            judged += 1
    assert judged > 50


def test_bench_like_lines_are_within_the_target() -> None:
    sizes = [len(bulk_line(r)) + 1 for r in BENCH]
    assert sum(sizes) / len(sizes) <= LINE_TARGET, sizes


def test_format_4_bench_lines_still_read_and_write_again_the_same_report() -> None:
    lines = FORMAT4_BENCH_LINES.splitlines()
    assert len(lines) >= 8
    for line in lines:
        report = from_json(orjson.loads(line))
        assert orjson.loads(format4_line(report)) == orjson.loads(line)
        # and a format-5 line of it reads back to it (its findings are those evaluate gives)
        assert _round_trip(report) == report
