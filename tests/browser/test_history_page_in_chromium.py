"""The history page in headless Chromium: the score chart is inline SVG, there is no
script, and a hostile record value in a drift event is shown as text, never as markup."""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path

from test_html_in_chromium import ARTIFACTS, chromium, dump_dom

sys.path.insert(0, str(Path(__file__).parents[1] / "store"))

from history_zones import BEFORE, KEY_1024, audit

from mailauth_audit.report.history_html import history_html
from mailauth_audit.store.store import open_store
from mailauth_audit.store.views import domain_history

HOSTILE_SPF = 'v=spf1 include:\\"><img src=x onerror=alert(1)>.example -all'


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_history_page_draws_the_chart_and_escapes_events(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "audits.db"))
    store.record_run(audit(BEFORE))
    store.record_run(audit(dict(BEFORE, dmarc="v=DMARC1; p=none", dkim={"s1": KEY_1024})))
    store.record_run(audit(dict(BEFORE, spf=HOSTILE_SPF)))
    view = domain_history(store, "shop.example")
    store.close()
    page = tmp_path / "history.html"
    page.write_text(history_html(view), encoding="utf-8")
    dom = dump_dom(page, tmp_path / "profile")
    parser = _Tags()
    parser.feed(dom)
    assert "script" not in parser.tags and "img" not in parser.tags
    assert parser.tags.count("circle") == 3 and "polyline" in parser.tags
    assert "dmarc.policy_weakened" in dom and "spf.include_changed" in dom
    assert "&quot;&gt;&lt;img" in dom or '"&gt;&lt;img' in dom  # shown, as text
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "history-page.png"
    chromium(["--screenshot=" + str(shot), "--window-size=900,900", page.as_uri()], tmp_path / "p2")
    assert shot.stat().st_size > 1000
