"""A bulk run says where its answers came from and with which options that change them, and
`--resume` continues that run only (issue 11: provenance in every report).

run.json and summary.json record the --zone-file(s) with their SHA-256, --max-selectors and
the audit date; index.html's header names the zone files or the resolvers as every report's
header does. A changed zone file or --max-selectors is a resume mismatch (exit 2, saying
what differs); a resumed run keeps its run's audit date even on another day. Zone-file runs
need no server; the live runs ask nsd on loopback.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fixture_zone import ZONE

from mailauth_audit.bulk.core import BulkConfig, run_bulk_in_loop
from mailauth_audit.bulk.inputs import read_entries
from mailauth_audit.bulk.manifest import ResumeMismatch
from mailauth_audit.options import AuditOptions

DRAFT = """\
$ORIGIN draft.test.
$TTL 300
@       IN SOA ns1 hostmaster 1 3600 600 86400 300
@       IN NS  ns1
ns1     IN A   192.0.2.53
@       IN MX  10 mx
mx      IN A   192.0.2.25
@       IN TXT "v=spf1 mx -all"
_dmarc  IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@draft.test"
"""
RECORDED_DAY = date(2020, 6, 1)  # its date-style selectors: s2020, s2019, ed2020, ed2019


def _key(selector: str) -> str:
    m = re.search(rf"^{selector}\._domainkey\.\S+\s+IN TXT (.+)$", ZONE, re.M)
    assert m, selector
    return m.group(1)


# a key only a run dated 2019 or 2020 probes for (none of the fixed selectors)
DATED_RECORDS = f"""\
dated                   IN MX 10 mx1.provider.example.
dated                   IN TXT "v=spf1 include:_spf.provider.example -all"
_dmarc.dated            IN TXT "v=DMARC1; p=reject"
s2019._domainkey.dated  IN TXT {_key("brand2026")}
"""


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", "bulk", *args, "--no-progress"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
        cwd=cwd,
    )


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    (tmp_path / "draft.zone").write_text(DRAFT)
    (tmp_path / "list.txt").write_text("draft.test\nmx.draft.test\n")
    return tmp_path


@pytest.fixture(scope="module")
def ns(nsd_session_server: Callable[..., tuple[str, int]]) -> str:
    host, port = nsd_session_server({"example": ZONE + DATED_RECORDS})
    return f"{host}:{port}"


def test_zone_files_max_selectors_and_audit_date_are_recorded(draft: Path) -> None:
    res = cli("list.txt", "-o", "out", "--zone-file", "draft.zone", "--max-selectors", "7",
              cwd=draft)  # fmt: skip
    assert res.returncode == 0, res.stderr
    digest = hashlib.sha256((draft / "draft.zone").read_bytes()).hexdigest()
    today = date.today().isoformat()  # the run's date is UTC; tolerate a run at midnight
    manifest = read(draft / "out" / "run.json")
    assert manifest["zone_files"] == [{"path": "draft.zone", "sha256": digest}]
    assert manifest["max_selectors"] == 7
    assert manifest["audit_date"][:8] == today[:8]
    summary = read(draft / "out" / "summary.json")
    assert summary["summary_version"] == "1.3"
    options = summary["options"]
    assert options["zone_files"] == manifest["zone_files"]
    assert options["max_selectors"] == 7 and options["audit_date"] == manifest["audit_date"]
    assert summary["provenance"]["sources"][0]["sha256"] == digest
    page = (draft / "out" / "index.html").read_text(encoding="utf-8")
    header = page.split("<main", 1)[0]
    assert "DRAFT — audited from zone file draft.zone" in header and digest in header
    assert f"Audit date {manifest['audit_date']}" in page
    assert "most 7 DKIM selectors probed per domain" in page


def test_resume_with_a_changed_zone_file_is_refused(draft: Path) -> None:
    assert cli("list.txt", "-o", "out", "--zone-file", "draft.zone", cwd=draft).returncode == 0
    before = hashlib.sha256((draft / "draft.zone").read_bytes()).hexdigest()
    results = (draft / "out" / "results.jsonl").read_bytes()
    with (draft / "draft.zone").open("a") as fh:
        fh.write('@ IN TXT "google-site-verification=changed"\n')
    after = hashlib.sha256((draft / "draft.zone").read_bytes()).hexdigest()
    res = cli("list.txt", "-o", "out", "--zone-file", "draft.zone", "--resume", cwd=draft)
    assert res.returncode == 2, res.stderr
    assert "cannot resume" in res.stderr and "zone file draft.zone" in res.stderr
    assert before[:12] in res.stderr and after[:12] in res.stderr
    assert "Traceback" not in res.stderr
    assert (draft / "out" / "results.jsonl").read_bytes() == results  # untouched
    assert read(draft / "out" / "run.json")["zone_files"][0]["sha256"] == before


def test_resume_with_the_same_zone_file_under_another_path_is_accepted(draft: Path) -> None:
    assert cli("list.txt", "-o", "out", "--zone-file", "draft.zone", cwd=draft).returncode == 0
    shutil.copy(draft / "draft.zone", draft / "copy.zone")
    res = cli("list.txt", "-o", "out", "--zone-file", "copy.zone", "--resume", cwd=draft)
    assert res.returncode == 0, res.stderr
    assert read(draft / "out" / "summary.json")["domains_reported_this_run"] == 0


def test_resume_with_another_max_selectors_is_refused(draft: Path) -> None:
    assert cli("list.txt", "-o", "out", "--zone-file", "draft.zone", cwd=draft).returncode == 0
    res = cli("list.txt", "-o", "out", "--zone-file", "draft.zone", "--resume",
              "--max-selectors", "3", cwd=draft)  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "--max-selectors (40; now 3)" in res.stderr


def test_resume_from_zone_files_to_live_dns_is_refused(draft: Path, ns: str) -> None:
    assert cli("list.txt", "-o", "out", "--zone-file", "draft.zone", cwd=draft).returncode == 0
    res = cli("list.txt", "-o", "out", "-n", ns, "--resume", cwd=draft)
    assert res.returncode == 2, res.stderr
    assert "answers from zone file draft.zone" in res.stderr
    assert "now from DNS servers" in res.stderr


def test_live_run_index_names_the_resolver(ns: str, tmp_path: Path) -> None:
    (tmp_path / "list.txt").write_text("good.example\n")
    res = cli("list.txt", "-o", "out", "-n", ns, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    header = (tmp_path / "out" / "index.html").read_text(encoding="utf-8").split("<main", 1)[0]
    assert f"answers from resolver {ns}" in header and "DRAFT" not in header
    assert read(tmp_path / "out" / "run.json")["zone_files"] == []


def _dkim_selectors(out: Path) -> dict[str, str]:
    with (out / "results.csv").open(encoding="utf-8", newline="") as fh:
        return {row["domain"]: row["dkim_selectors"] for row in csv.DictReader(fh)}


def test_a_resumed_run_keeps_its_audit_date_on_another_day(ns: str, tmp_path: Path) -> None:
    """Given a run dated 2020-06-01 stopped before any domain, resumed by the CLI today:
    the resumed domains are probed for that run's date-style selectors (s2019 is found),
    not today's; a fresh run today does not probe s2019."""
    (tmp_path / "list.txt").write_text("dated.example\ngood.example\n")
    entries, _ = read_entries(["dated.example", "good.example"])
    config = BulkConfig(
        output_dir=tmp_path / "out",
        options=AuditOptions(nameservers=(ns,), today=RECORDED_DAY),
        progress=False,
    )
    stopped = asyncio.run(run_bulk_in_loop(entries, config, should_stop=lambda: True))
    assert stopped.interrupted and stopped.reported_now == 0
    assert read(tmp_path / "out" / "run.json")["audit_date"] == "2020-06-01"

    res = cli("list.txt", "-o", "out", "-n", ns, "--resume", cwd=tmp_path)
    assert res.returncode in (0, 1), res.stderr
    assert _dkim_selectors(tmp_path / "out")["dated.example"] == "s2019"
    assert read(tmp_path / "out" / "summary.json")["options"]["audit_date"] == "2020-06-01"
    assert read(tmp_path / "out" / "run.json")["audit_date"] == "2020-06-01"

    fresh = cli("list.txt", "-o", "fresh", "-n", ns, cwd=tmp_path)
    assert fresh.returncode in (0, 1), fresh.stderr
    assert _dkim_selectors(tmp_path / "fresh")["dated.example"] == ""


def test_a_resume_with_another_explicit_audit_date_is_refused(draft: Path) -> None:
    entries, _ = read_entries(["draft.test"])

    def run(day: date, resume: bool) -> None:
        config = BulkConfig(
            output_dir=draft / "out", options=AuditOptions(today=day), resume=resume,
            progress=False, resolver_factory=lambda: _draft_resolver(draft),
        )  # fmt: skip
        asyncio.run(run_bulk_in_loop(entries, config))

    run(RECORDED_DAY, resume=False)
    with pytest.raises(ResumeMismatch, match=r"audit date \(2020-06-01; now 2021-01-01\)"):
        run(date(2021, 1, 1), resume=True)
    run(RECORDED_DAY, resume=True)  # the same date: the same run


def test_a_run_json_from_before_these_fields_is_resumed_on_what_it_holds(draft: Path) -> None:
    assert cli("list.txt", "-o", "out", "--zone-file", "draft.zone", cwd=draft).returncode == 0
    path = draft / "out" / "run.json"
    old = {k: v for k, v in read(path).items() if k not in ("zone_files", "max_selectors",
                                                              "audit_date")}  # fmt: skip
    path.write_text(json.dumps(old))
    res = cli("list.txt", "-o", "out", "--zone-file", "draft.zone", "--resume",
              "--max-selectors", "3", cwd=draft)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert read(path)["max_selectors"] == 3  # recorded from now on


def _draft_resolver(folder: Path) -> Any:
    from mailauth_audit.resolver.caching import CachingResolver
    from mailauth_audit.resolver.static import StaticResolver

    return CachingResolver(StaticResolver((folder / "draft.zone").read_text()))


@pytest.mark.parametrize("processes", ["1", "2"])
def test_domain_pages_say_where_their_answers_came_from(draft: Path, processes: str) -> None:
    # the pages of --html-pages are reports too: written by the run's process or by a worker
    res = cli("list.txt", "-o", "out", "--zone-file", "draft.zone", "--html-pages",
              "--processes", processes, cwd=draft)  # fmt: skip
    assert res.returncode == 0, res.stderr
    digest = hashlib.sha256((draft / "draft.zone").read_bytes()).hexdigest()
    page = (draft / "out" / "domains" / "draft.test.html").read_text(encoding="utf-8")
    header = page.split("<main", 1)[0]
    assert "DRAFT — audited from zone file draft.zone" in header and digest in header
