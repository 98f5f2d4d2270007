"""`bulk --fail-on` exit codes (resumed runs included) and the CSV columns a person filters
a portfolio on, end to end against nsd serving tests/zones/example.zone.

Fixture domains by worst finding: good.example info, nomail.example low, weak.example
medium, toomany.example high, nothere.example critical (NXDOMAIN); outside.test is not in
nsd's zones, so nsd answers REFUSED and every check ends in error (exit 3)."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fixture_zone import ZONE

from mailauth_audit.asyncapi import audit_domain
from mailauth_audit.bulk.summary import BulkSummary, Digest
from mailauth_audit.cli.bulk import bulk_exit_code
from mailauth_audit.report.csvout import (
    CSV_COLUMNS,
    FILTER_COLUMNS,
    LATER_STATUS_COLUMNS,
    domain_csv_row,
)
from mailauth_audit.resolver.static import StaticResolver


@pytest.fixture(scope="module")
def ns(nsd_session_server: Callable[..., tuple[str, int]]) -> str:
    host, port = nsd_session_server({"example": ZONE})
    return f"{host}:{port}"


def bulk(tmp_path: Path, ns: str, domains: list[str], *args: str) -> tuple[int, str, Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    src = tmp_path / "list.txt"
    src.write_text("\n".join(domains) + "\n")
    out = tmp_path / "out"
    command = ["bulk", str(src), "-o", str(out), "--nameserver", ns, "--no-progress", *args]
    res = subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *command],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    return res.returncode, res.stderr, out


CLEAN = ["good.example", "nomail.example", "weak.example"]  # worst: medium


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ((), 0),
        (("--fail-on", "critical"), 0),
        (("--fail-on", "high"), 0),
        (("--fail-on", "medium"), 1),
        (("--fail-on", "info"), 1),
    ],
)
def test_fail_on_threshold(ns: str, tmp_path: Path, args: tuple[str, ...], code: int) -> None:
    rc, err, _ = bulk(tmp_path, ns, CLEAN, *args)
    assert rc == code, err


def test_a_nonexistent_domain_fails_at_critical(ns: str, tmp_path: Path) -> None:
    rc, err, out = bulk(tmp_path, ns, [*CLEAN, "nothere.example"], "--fail-on", "critical")
    assert rc == 1, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["findings_by_code"].get("mx.domain_nxdomain") == 1
    assert "spf.missing" not in summary["findings_by_code"]


def test_findings_exit_wins_over_incomplete_as_in_check(ns: str, tmp_path: Path) -> None:
    # Given a list where one domain cannot be checked (REFUSED) and one has a medium finding
    domains = ["outside.test", "weak.example"]
    # Then without --fail-on, or with a threshold nobody reaches, the run is incomplete: 3
    assert bulk(tmp_path / "a", ns, domains)[0] == 3
    assert bulk(tmp_path / "b", ns, domains, "--fail-on", "high")[0] == 3
    # and with a threshold a domain reaches, the verdict wins: 1
    rc, err, _ = bulk(tmp_path / "c", ns, domains, "--fail-on", "medium")
    assert rc == 1, err


def test_bad_fail_on_is_a_usage_error(ns: str, tmp_path: Path) -> None:
    rc, err, _ = bulk(tmp_path, ns, CLEAN, "--fail-on", "severe")
    assert rc == 2 and "--fail-on" in err


def _keep_lines(out: Path, domain: str) -> None:
    """Leave only `domain`'s result line, as if the run had stopped after it."""
    path = out / "results.jsonl"
    lines = [
        x for x in path.read_bytes().splitlines(keepends=True) if json.loads(x)["domain"] == domain
    ]
    assert len(lines) == 1
    path.write_bytes(b"".join(lines))


def test_resume_counts_the_findings_of_the_earlier_part(ns: str, tmp_path: Path) -> None:
    # Given a run whose earlier part reported toomany.example (high findings) and stopped
    domains = ["good.example", "toomany.example"]
    rc, err, out = bulk(tmp_path, ns, domains, "--fail-on", "high")
    assert rc == 1, err
    _keep_lines(out, "toomany.example")
    # When it is resumed and only good.example (info at most) is audited this time
    rc, err, out = bulk(tmp_path, ns, domains, "--resume", "--fail-on", "high")
    # Then the exit code still counts toomany.example
    assert rc == 1, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["domains_reported_this_run"] == 1
    assert summary["domains_reported_before_resume"] == 1
    assert summary["findings_by_severity"]["high"] >= 1


def test_resume_of_a_clean_run_stays_clean(ns: str, tmp_path: Path) -> None:
    domains = ["good.example", "weak.example"]  # worst: medium
    rc, err, out = bulk(tmp_path, ns, domains, "--fail-on", "high")
    assert rc == 0, err
    _keep_lines(out, "weak.example")
    rc, err, _ = bulk(tmp_path, ns, domains, "--resume", "--fail-on", "high")
    assert rc == 0, err
    rc, err, _ = bulk(tmp_path, ns, domains, "--resume", "--fail-on", "medium")
    assert rc == 1, err  # weak.example's line, from the first part, counts


def test_bulk_exit_code_precedence() -> None:
    def digest(findings: tuple[int, ...], errors: tuple[tuple[str, str], ...] = ()) -> Digest:
        return Digest(
            "d.example", "completed", (), errors, None, None, (), findings, (), 90, "A", 1
        )

    s = BulkSummary()
    s.add(digest((0, 0, 1, 0, 0)))
    assert bulk_exit_code(s, None) == 0
    assert bulk_exit_code(s, "high") == 0
    assert bulk_exit_code(s, "medium") == 1
    assert s.findings_at_or_above("critical") == 0 and s.findings_at_or_above("info") == 1
    s.add(digest((0, 0, 0, 0, 0), errors=(("dmarc", "dns_timeout"),)))
    assert bulk_exit_code(s, None) == 3
    assert bulk_exit_code(s, "high") == 3
    assert bulk_exit_code(s, "low") == 1


# ---- results.csv ------------------------------------------------------------------------


def test_results_csv_has_the_filter_columns(ns: str, tmp_path: Path) -> None:
    domains = ["good.example", "weak.example", "nomail.example", "toomany.example"]
    rc, err, out = bulk(tmp_path, ns, [*domains, "nothere.example", "outside.test"])
    assert rc == 3, err  # outside.test: REFUSED
    with (out / "results.csv").open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = {r[0]: dict(zip(header, r, strict=True)) for r in reader}
    # the existing columns keep their positions; the new ones follow
    assert tuple(header) == CSV_COLUMNS
    # the filter columns, the status columns of checks added since, then domain_unicode
    start = header.index(FILTER_COLUMNS[0])
    assert tuple(header[start : start + len(FILTER_COLUMNS)]) == FILTER_COLUMNS
    later = list(LATER_STATUS_COLUMNS)
    assert header[start + len(FILTER_COLUMNS) :] == [*later, "domain_unicode"]
    want = {
        "good.example": {
            "grade": "A",
            "dmarc_policy": "reject",
            "dmarc_effective_policy": "reject",
            "spf_lookups": "3",
            "spf_verdict": "fail",
            "dkim_selectors": "selector1",
            "dkim_key_sizes": "rsa2048",
            "dkim_min_rsa_bits": "2048",
            "mx_hosts": "mx1.provider.example mx2.provider.example",
            "mta_sts_mode": "no_record",
            "tls_rpt_rua": "no_record",
            "mta_sts_status": "pass",
            "findings_high": "0",
            # mta_sts.not_deployed, dnssec.insecure and dane.not_deployed joined the one before
            "findings_info": "4",
            "dnssec_verdict": "insecure",
            "dnssec_mx_verdicts": "insecure insecure",
            "dane": "not_deployed",
        },
        "weak.example": {
            "dmarc_policy": "none",
            "spf_verdict": "neutral",
            "dkim_key_sizes": "rsa1024",
            "dkim_min_rsa_bits": "1024",
            "findings_medium": "4",
        },
        "nomail.example": {"mx_hosts": ".", "spf_lookups": "0", "dkim_selectors": ""},
        "toomany.example": {"spf_lookups": "15", "spf_verdict": "permerror", "grade": "F"},
        "nothere.example": {
            "grade": "F",
            "findings_critical": "1",
            "findings_high": "0",
            "findings_medium": "0",
            "spf_status": "skipped",
            "spf_verdict": "",
            "dmarc_policy": "",
            "mx_hosts": "",
        },
        "outside.test": {"grade": "-", "dmarc_policy": "", "spf_lookups": "", "mx_hosts": ""},
    }
    for domain, cells in want.items():
        assert {k: rows[domain][k] for k in cells} == cells, domain


def test_filter_cells_are_guarded_against_formulas() -> None:
    """MX host names and DKIM selectors are written by others: a leading -, =, + or @ would
    run as a formula in a spreadsheet."""
    zone = """
evil.example.   300 IN MX 10 -cmd.evil.example.
-cmd.evil.example. 300 IN A 192.0.2.1
evil.example.   300 IN TXT "v=spf1 -all"
"""
    report = asyncio.run(audit_domain("evil.example", resolver=StaticResolver(zone)))
    row = domain_csv_row(report)
    assert row["mx_hosts"] == "'-cmd.evil.example"
