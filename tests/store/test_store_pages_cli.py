"""diff -f html and a stored audit's report (history --audit) from the command line, on
SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from history_zones import BEFORE, KEY_1024, audit
from test_store_cli import cli

from mailauth_audit.store.store import open_store


def test_diff_html_and_a_stored_audits_report(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    store.record_run(audit(BEFORE))
    store.record_run(audit(dict(BEFORE, dmarc="v=DMARC1; p=none", dkim={"s1": KEY_1024})))
    [first, second] = store.audits_of("shop.example")
    store.close()
    page = tmp_path / "diff.html"
    done = cli("diff", "shop.example", "--store", store_url, "-f", "html", "-o", str(page))
    assert done.returncode == 0, done.stderr
    html = page.read_text()
    assert "<script" not in html and "shop.example: what changed" in html
    assert "<del><code>v=DMARC1; p=reject" in html and "<ins><code>v=DMARC1; p=none" in html
    report = cli("history", "shop.example", "--audit", str(first.id), "--store", store_url,
                 "-f", "html")  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert "<!DOCTYPE html>" in report.stdout and "p=reject" in report.stdout
    # an audit of another domain is a usage error, before any output
    refused = cli("history", "other.example", "--audit", str(second.id), "--store", store_url)
    assert refused.returncode == 2 and "no audit" in refused.stderr and not refused.stdout
