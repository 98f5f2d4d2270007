"""Diff pages and the history folder in headless Chromium: no script, hostile record text
shown as text, and every link of the history page to a stored report resolves to that
audit's full report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin
from urllib.request import url2pathname

from test_html_in_chromium import TEMPLATE_TAGS, Dom, dump_dom

sys.path.insert(0, str(Path(__file__).parents[1] / "store"))

from history_zones import BEFORE, KEY_1024, audit

from mailauth_audit.report.history_html import diff_html
from mailauth_audit.store.store import open_store
from mailauth_audit.store.views import diff_domain, diff_runs

HOSTILE_SPF = 'v=spf1 include:\\"><img src=x onerror=alert(1)>.example -all'
LITERAL = '"><img src=x onerror=alert(1)>'


def _store(path: Path) -> str:
    url = str(path / "audits.db")
    store = open_store(url)
    store.record_run(audit(BEFORE))
    store.record_run(audit(dict(BEFORE, dmarc="v=DMARC1; p=none", dkim={"s1": KEY_1024})))
    store.record_run(audit(dict(BEFORE, spf=HOSTILE_SPF)))
    store.close()
    return url


def test_diff_pages_escape_records_and_run_no_script(tmp_path: Path) -> None:
    url = _store(tmp_path)
    store = open_store(url)
    domain_page, run_page = tmp_path / "diff.html", tmp_path / "run-diff.html"
    domain_page.write_text(diff_html(diff_domain(store, "shop.example")), encoding="utf-8")
    run_page.write_text(diff_html(diff_runs(store, 1, 2)), encoding="utf-8")
    store.close()
    dom = Dom(dump_dom(domain_page, tmp_path / "p1"))
    tags = {t for t, _ in dom.elements}
    assert tags <= TEMPLATE_TAGS | {"del", "ins"}, tags - TEMPLATE_TAGS
    assert "script" not in tags and "img" not in tags
    assert LITERAL in dom.text  # the record, shown as the text it is
    assert {"del", "ins"} <= tags and "changed SPF" in dom.text
    run = Dom(dump_dom(run_page, tmp_path / "p2"))
    assert {t for t, _ in run.elements} <= TEMPLATE_TAGS | {"del", "ins"}
    assert "Run 1 → run 2" in run.title and "1 worse" in run.text
    assert "dmarc" in run.text and "p=none" in run.text
    anchors = [a["href"] for t, a in run.elements if t == "a"]
    ids = {a.get("id") for _, a in run.elements}
    assert anchors and all(h and h[1:] in ids for h in anchors)  # in-page links resolve


def test_history_folder_links_resolve_to_each_stored_report(tmp_path: Path) -> None:
    url = _store(tmp_path)
    folder = tmp_path / "pages"
    done = subprocess.run(
        [sys.executable, "-m", "mailauth_audit", "history", "shop.example", "--store", url,
         "-f", "html", "--output-dir", str(folder)],
        capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = folder / "history.html"
    dom = Dom(dump_dom(page, tmp_path / "p1"))
    links = [a["href"] for t, a in dom.elements if t == "a" and ".html" in (a.get("href") or "")]
    assert links == ["audit-3.html", "audit-2.html", "audit-1.html"]  # newest first, relative
    for href in links:
        target = Path(url2pathname(urljoin(page.as_uri(), href).removeprefix("file://")))
        assert target.is_file()
    report = Dom(dump_dom(folder / links[0], tmp_path / "p2"))
    assert "shop.example" in report.title
    assert LITERAL in report.text and "img" not in {t for t, _ in report.elements}
    assert "script" not in {t for t, _ in report.elements}
