"""CSV and JUnit parse with the standard library and say what the JSON says."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mailauth_audit.asyncapi import audit_domains
from mailauth_audit.cli.main import main
from mailauth_audit.model import (
    AuditRun,
    CheckError,
    CheckId,
    CheckOutcome,
    CheckStatus,
    DomainReport,
    DomainStatus,
    ErrorReason,
    Severity,
)
from mailauth_audit.report.csvout import CHECK_CSV_COLUMNS, CSV_COLUMNS, domain_csv_row
from mailauth_audit.report.renderers import CsvRenderer, JsonRenderer, JunitRenderer
from mailauth_audit.resolver.static import StaticResolver

ZONE_PATH = Path(__file__).parents[1] / "zones" / "example.zone"
NAMES = ["good.example", "weak.example", "broken.example", "toomany.example", "hostile.example",
         "nomail.example", "loopy.example", "missing.example", "not a domain"]  # fmt: skip


@pytest.fixture(scope="module")
def run() -> AuditRun:
    r = asyncio.run(audit_domains(NAMES, resolver=StaticResolver(ZONE_PATH.read_text())))
    # one domain whose DKIM check could not be completed, to cover <error>
    errored = DomainReport(
        "timeout.example",
        DomainStatus.COMPLETED,
        {
            **{c: CheckOutcome(c, CheckStatus.PASS) for c in CheckId},
            CheckId.DKIM: CheckOutcome(
                CheckId.DKIM,
                CheckStatus.ERROR,
                error=CheckError(ErrorReason.DNS_TIMEOUT, "could not check: DNS timeout"),
            ),
            CheckId.MX: CheckOutcome(CheckId.MX, CheckStatus.SKIPPED, skip_reason="not requested"),
        },
    )
    return AuditRun(r.started_at, r.finished_at, (*r.domains, errored), r.dns_queries)


@pytest.fixture(scope="module")
def doc(run: AuditRun) -> dict[str, Any]:
    return json.loads(JsonRenderer().render(run))  # type: ignore[no-any-return]


def test_csv_has_one_row_per_domain_matching_the_json(run: AuditRun, doc: dict[str, Any]) -> None:
    text = CsvRenderer().render(run)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert tuple(rows[0].keys()) == CHECK_CSV_COLUMNS
    assert len(rows) == len(doc["domains"])
    for row, d in zip(rows, doc["domains"], strict=True):
        assert row["domain"] == d["domain"] and row["status"] == d["status"]
        if d["score"]["grade_status"] == "not_graded":  # a check in error: no grade, "-"
            assert row["grade"] == row["score"] == "-"
            assert row["provisional_score"] == str(d["score"]["provisional_score"])
            assert row["not_graded_reason"] == d["score"]["not_graded_reason"]
        else:
            assert row["grade"] == (d["score"]["grade"] or "")
            assert row["score"] == ("" if d["score"]["score"] is None else str(d["score"]["score"]))
        for cid in CheckId:
            check = d["checks"].get(cid.value)
            assert row[f"{cid.value}_status"] == (check["status"] if check else "")
        for sev in Severity:
            n = sum(f["severity"] == sev.value for f in d["findings"])
            assert row[f"findings_{sev.value}"] == str(n)
        assert row["error"] == (d["error"] or "")


def test_csv_row_neutralises_spreadsheet_formulas() -> None:
    report = DomainReport("=cmd|'/c calc'!A1", DomainStatus.INVALID, error="@SUM(1)")
    row = domain_csv_row(report)
    assert row["domain"].startswith("'=") and row["error"].startswith("'@")
    assert set(row) == set(CSV_COLUMNS)


def test_junit_has_one_testcase_per_check_per_domain_matching_the_json(
    run: AuditRun, doc: dict[str, Any]
) -> None:
    root = ET.fromstring(JunitRenderer().render(run))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [d["domain"] for d in doc["domains"]]
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite, d in zip(suites, doc["domains"], strict=True):
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert props["grade"] == (d["score"]["grade"] or "")
        cases = suite.findall("testcase")
        if d["status"] == "invalid":
            assert len(cases) == 1 and cases[0].find("error") is not None
        else:
            assert [c.get("name") for c in cases] == list(d["checks"])
        for case in cases:
            if case.get("name") not in d["checks"]:
                continue
            check = d["checks"][case.get("name")]
            failure, error, skipped = (case.find(x) for x in ("failure", "error", "skipped"))
            assert (failure is not None) == (check["status"] == "fail")
            assert (error is not None) == (check["status"] == "error")
            assert (skipped is not None) == (check["status"] == "skipped")
            if failure is not None:
                worst = check["findings"][0]["severity"]
                assert failure.get("type") == worst in ("critical", "high")
                for fd in check["findings"]:
                    assert fd["code"] in (failure.text or "")
            if error is not None:
                assert error.get("type") == check["error"]["reason"]
            if check["status"] == "warn":
                out = case.find("system-out")
                assert out is not None and check["findings"][0]["code"] in (out.text or "")
        for k in totals:
            totals[k] += int(suite.get(k, "0"))
            assert int(suite.get(k, "0")) >= 0
        assert int(suite.get("tests", "0")) == len(cases)
    for k, v in totals.items():
        assert root.get(k) == str(v)
    assert totals["errors"] >= 2 and totals["skipped"] >= 1 and totals["failures"] >= 4


def test_junit_survives_control_characters_in_records() -> None:
    report = DomainReport("x.example", DomainStatus.INVALID, error="bad \x00\x1b name")
    xml = JunitRenderer().render(AuditRun("a", "b", (report,)))
    assert ET.fromstring(xml).find(".//error").get("message") == "bad \\x00\\x1b name"  # type: ignore[union-attr]


@pytest.mark.parametrize("fmt", ["csv", "junit"])
def test_cli_formats(fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"r.{fmt}"
    res = CliRunner().invoke(
        main,
        ["check", "--zone-file", str(ZONE_PATH), "--format", fmt, "-o", str(out),
         "good.example", "broken.example"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    text = out.read_text()
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        assert [(r["domain"], r["grade"]) for r in rows] == [
            ("good.example", "A"),
            ("broken.example", "D"),
        ]
    else:
        # one test case per check per domain: two domains, every check of CheckId
        assert ET.fromstring(text).get("tests") == str(2 * len(CheckId))
