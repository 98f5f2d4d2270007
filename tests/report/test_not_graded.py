"""No grade without evidence, end to end: a real process against nsd on loopback, with `_dmarc`
lookups answered SERVFAIL or REFUSED (tests/report/partial_dns.py) or a resolver that refuses
everything (tests/dnsservers.py FaultServer).

Before this rule a dead resolver gave "Grade A (100/100), incomplete", a green badge and
"Nothing to fix", and a DMARC p=none finding lost to a SERVFAIL turned weak.example's C into
a B. Every format must now say "not graded" and agree with exit code 3.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fixture_zone import ZONE
from partial_dns import REFUSED, SERVFAIL, PartialFailureServer

from mailauth_audit.model import CheckId, Severity
from mailauth_audit.report.schema import committed_schema


def cli(
    *args: str, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def nsd(nsd_session_server: Callable[..., tuple[str, int]]) -> tuple[str, int]:
    return nsd_session_server({"example": ZONE})


@pytest.fixture(scope="module")
def ns(nsd: tuple[str, int]) -> str:
    return f"{nsd[0]}:{nsd[1]}"


@pytest.fixture(scope="module", params=[("servfail", SERVFAIL), ("refused", REFUSED)])
def dmarc_failing(request: pytest.FixtureRequest, nsd: tuple[str, int]) -> Iterator[str]:
    """A nameserver where every `_dmarc.` question fails, everything else is nsd's answer."""
    server = PartialFailureServer(nsd, "_dmarc.", request.param[1]).start()
    try:
        yield server.nameserver
    finally:
        server.stop()


def check(ns: str, fmt: str, *domains: str, extra: tuple[str, ...] = ()) -> tuple[int, str]:
    res = cli("check", "--nameserver", ns, "--timeout", "2", "--format", fmt, *extra, *domains)
    assert res.returncode in (0, 1, 3), res.stderr
    return res.returncode, res.stdout


def json_doc(ns: str, *domains: str) -> dict[str, Any]:
    code, out = check(ns, "json", *domains)
    doc = json.loads(out)
    jsonschema.validate(doc, committed_schema())
    return {"exit": code, **doc}


# --- one check lost: every format says "not graded" ---------------------------------------


def test_text_puts_not_graded_first(dmarc_failing: str) -> None:
    code, out = check(dmarc_failing, "text", "good.example")
    assert code == 3
    lines = out.splitlines()
    assert lines[0] == "good.example"
    assert lines[1].startswith("  NOT GRADED: 1 check could not complete: dmarc (dns_")
    assert "Provisional score 100/100" in lines[1]
    assert "Grade A" not in out and "nothing to fix" not in out.lower()
    # the verdict comes before the checks and the findings
    assert (
        out.index("NOT GRADED")
        < out.index(re.search(r"DMARC +error", out).group())
        < out.index("Findings")
    )


def test_json_grade_is_null_with_the_reason(dmarc_failing: str) -> None:
    doc = json_doc(dmarc_failing, "good.example")
    assert doc["exit"] == 3
    score = doc["domains"][0]["score"]
    assert score["grade"] is None and score["score"] is None and score["complete"] is False
    assert score["grade_status"] == "not_graded"
    assert score["not_graded_reason"].startswith("1 check could not complete: dmarc (dns_")
    assert score["provisional_score"] == 100 and score["checks_in_error"] == ["dmarc"]


def test_html_has_the_grey_badge_and_never_nothing_to_fix(dmarc_failing: str) -> None:
    code, page = check(dmarc_failing, "html", "good.example")
    assert code == 3
    assert 'class="grade grade-none grade-not-graded"' in page
    assert 'aria-label="Not graded: 1 check could not complete"' in page
    assert "Nothing to fix" not in page
    assert 'class="grade grade-A' not in page and "<strong>Grade A" not in page
    assert "<title>good.example — not graded — mailauth-audit</title>" in page
    text = " ".join(page.split())
    assert "Not graded — 1 check could not complete</strong> (DMARC: dns " in text
    assert "is provisional" in text


def test_csv_writes_a_dash_for_the_grade(dmarc_failing: str) -> None:
    code, out = check(dmarc_failing, "csv", "good.example", "not-graded-too.example")
    assert code == 3
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    for row in rows:
        assert row["grade"] == "-" and row["score"] == "-", row
        assert row["dmarc_status"] == "error" and row["score_complete"] == "false"
        assert row["not_graded_reason"].startswith("1 check could not complete: dmarc")
    assert rows[0]["provisional_score"] == "100"


def test_junit_shows_the_error_and_no_grade(dmarc_failing: str) -> None:
    code, out = check(dmarc_failing, "junit", "good.example")
    assert code == 3
    root = ET.fromstring(out)
    assert root.get("errors") == "1" and root.get("failures") == "0"
    suite = root.find("testsuite")
    assert suite is not None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["grade"] == "" and props["score"] == ""
    assert props["grade_status"] == "not_graded" and props["provisional_score"] == "100"
    assert props["grade_label"] == "not graded — 1 check could not complete"
    (case,) = [c for c in suite.findall("testcase") if c.get("name") == "dmarc"]
    error = case.find("error")
    assert error is not None and error.get("type", "").startswith("dns_")


def test_a_lost_p_none_finding_no_longer_improves_the_grade(ns: str, dmarc_failing: str) -> None:
    # Given weak.example, graded C with every check answered (DMARC p=none among its
    # findings), When `_dmarc` lookups fail, Then it has no grade at all, where it used to
    # climb to B because the lost DMARC findings cost nothing
    full = json_doc(ns, "weak.example")["domains"][0]["score"]
    assert full["grade"] == "C" and full["grade_status"] == "graded"
    lost = json_doc(dmarc_failing, "weak.example")["domains"][0]["score"]
    assert lost["grade"] is None and lost["score"] is None
    assert lost["provisional_score"] > full["score"], "the provisional score is too kind..."
    _, text = check(dmarc_failing, "text", "weak.example")
    assert "Grade B" not in text and "NOT GRADED" in text  # ...so it is never the grade


# --- everything lost: a dead resolver ------------------------------------------------------


def test_a_resolver_that_refuses_everything_grades_nothing(
    fault_server: Callable[..., Any], tmp_path: Path
) -> None:
    host, port = fault_server("refused").address
    ns = f"{host}:{port}"
    code, text = check(ns, "text", "good.example")
    assert code == 3
    assert f"NOT GRADED: {len(CheckId)} checks could not complete" in text and "Grade" not in text
    folder = tmp_path / "site"
    res = cli("check", "--nameserver", ns, "--format", "html", "-o", f"{folder}/", "good.example")
    assert res.returncode == 3, res.stderr
    index = (folder / "index.html").read_text()
    assert "1 domain not graded" in index and "(provisional)" in index
    page = (folder / "good.example.html").read_text()
    assert "grade-not-graded" in page and "Nothing to fix" not in page


def test_bulk_against_a_dead_resolver_has_a_not_graded_bucket(
    fault_server: Callable[..., Any], tmp_path: Path
) -> None:
    host, port = fault_server("refused").address
    src = tmp_path / "list.txt"
    src.write_text("good.example\nweak.example\nbroken.example\nnot a domain\n")
    out = tmp_path / "out"
    res = cli("bulk", str(src), "-o", str(out), "--nameserver", f"{host}:{port}", "--no-progress")
    assert res.returncode == 3, res.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["grades"] == {"invalid": 1, "not_graded": 3}
    assert summary["domains_not_graded"] == summary["domains_with_errors"] == 3
    index = (out / "index.html").read_text()
    assert "3 of 4 domains are not graded" in index
    assert "<title>not graded: 3 (75.0 %)</title>" in index  # its own bar in "Grades"
    assert "<title>A: 0 (0.0 %)</title>" in index
    rows = list(csv.DictReader(io.StringIO((out / "results.csv").read_text(), newline="")))
    assert sorted(r["grade"] for r in rows) == ["", "-", "-", "-"]


def test_bulk_with_dmarc_lost_counts_no_domain_as_graded(
    dmarc_failing: str, tmp_path: Path
) -> None:
    src = tmp_path / "list.txt"
    src.write_text("good.example\nweak.example\n")
    out = tmp_path / "out"
    res = cli("bulk", str(src), "-o", str(out), "--nameserver", dmarc_failing, "--no-progress")
    assert res.returncode == 3, res.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["grades"] == {"not_graded": 2}
    worst = {d["domain"]: d for d in summary["worst_domains"]}
    assert worst["weak.example"]["grade"] is None
    assert worst["weak.example"]["grade_status"] == "not_graded"
    assert "not graded</td>" in (out / "index.html").read_text()


# --- JUnit agrees with --fail-on ------------------------------------------------------------


@pytest.mark.parametrize("fail_on", [None, *(s.value for s in Severity)])
def test_junit_failures_agree_with_the_fail_on_exit_code(ns: str, fail_on: str | None) -> None:
    # weak.example has medium, low and info findings and no check in error
    extra = ("--fail-on", fail_on) if fail_on else ()
    code, out = check(ns, "junit", "weak.example", "good.example", extra=extra)
    root = ET.fromstring(out)
    failures = int(root.get("failures", "0"))
    assert root.get("errors") == "0"
    assert (code == 1) == (failures > 0), (fail_on, code, failures)
    if fail_on in ("medium", "low", "info"):
        assert code == 1 and failures > 0
    else:
        assert code == 0 and failures == 0
    for case in root.iter("testcase"):
        failure = case.find("failure")
        text = (failure.text if failure is not None else None) or ""
        out_text = (case.findtext("system-out") or "") + text
        # below the threshold: a passed test with its findings in system-out
        if failure is None and out_text:
            assert case.find("system-out") is not None
