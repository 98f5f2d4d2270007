"""An IDN domain is shown as people write it (U-label) beside the A-label that was queried, in
the text report's heading and in a `domain_unicode` CSV column (`check --format csv` and a
bulk run's results.csv); the HTML does the same (tests/report/test_html_report.py).

The answers come from nsd on loopback serving `xn--bcher-kva.example` (`bücher.example`)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fixture_zone import ZONE

from mailauth_audit.report.csvout import CHECK_CSV_COLUMNS, CSV_COLUMNS

IDN_RECORDS = """\
xn--bcher-kva           IN MX 10 mx1.provider.example.
xn--bcher-kva           IN TXT "v=spf1 include:_spf.provider.example -all"
_dmarc.xn--bcher-kva    IN TXT "v=DMARC1; p=reject"
"""


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env=env,
        check=False,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def ns(nsd_session_server: Callable[..., tuple[str, int]]) -> str:
    host, port = nsd_session_server({"example": ZONE + IDN_RECORDS})
    return f"{host}:{port}"


def test_text_heading_shows_the_u_label_beside_the_a_label(ns: str) -> None:
    res = cli("check", "-n", ns, "--checks", "mx,spf,dmarc", "bücher.example", "good.example")
    assert res.returncode in (0, 1), res.stderr
    headings = [line for line in res.stdout.splitlines() if line and not line[0].isspace()]
    assert headings == ["bücher.example (xn--bcher-kva.example)", "good.example"]
    # the records were found: the A-label was what was asked
    assert "v=spf1 include:_spf.provider.example -all" in res.stdout


def test_check_csv_has_a_domain_unicode_column_last(ns: str) -> None:
    res = cli("check", "-n", ns, "--format", "csv", "bücher.example", "good.example")
    assert res.returncode in (0, 1, 3), res.stderr
    reader = csv.DictReader(io.StringIO(res.stdout, newline=""))
    rows = list(reader)
    assert tuple(reader.fieldnames or ()) == CHECK_CSV_COLUMNS
    assert CHECK_CSV_COLUMNS[-1] == "domain_unicode"  # appended: no column moved
    assert [(r["domain"], r["domain_unicode"]) for r in rows] == [
        ("xn--bcher-kva.example", "bücher.example"),
        ("good.example", "good.example"),
    ]
    assert rows[0]["mx_status"] == "pass"


def test_bulk_results_csv_has_the_domain_unicode_column(ns: str, tmp_path: Path) -> None:
    (tmp_path / "list.txt").write_text("bücher.example\ngood.example\n", encoding="utf-8")
    out = tmp_path / "out"
    res = cli("bulk", "list.txt", "-o", str(out), "-n", ns, "--no-progress", cwd=tmp_path)
    assert res.returncode in (0, 3), res.stderr
    with open(out / "results.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = sorted((r["domain"], r["domain_unicode"]) for r in reader)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    assert rows == [("good.example", "good.example"), ("xn--bcher-kva.example", "bücher.example")]
    # the index lists it as people write it too
    assert "bücher.example" in (out / "index.html").read_text(encoding="utf-8")
