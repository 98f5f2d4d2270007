"""The HTML report in a real browser: headless Chromium loads generated pages from files.

We read the DOM Chromium built (--dump-dom), not our own string, so these tests see what a
reader sees: the summary, a finding with its remediation, and hostile TXT records shown as
literal text with no element or attribute of theirs. Screenshots go to test-artifacts/
(gitignored) for people to look at. Without chromium the tests skip, except under CI=true.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mailauth_audit.asyncapi import audit_domains
from mailauth_audit.demo.sample import audit_demo
from mailauth_audit.report.html import write_report_folder
from mailauth_audit.resolver.static import StaticResolver

ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
# Tags our templates emit; anything else in the DOM would have come from a record.
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "a", "header", "main", "footer", "span",
    "div", "article", "section", "h1", "h2", "h3", "h4", "h5", "h6", "p", "strong", "ul", "ol",
    "li", "table", "caption", "thead", "tbody", "tr", "th", "td", "pre", "code", "dl", "dt",
    "dd", "br",
}  # fmt: skip

# Records written to break a report: markup, attribute breakouts and entities, in SPF, DMARC
# and DKIM records that the report shows as evidence.
HOSTILE_ZONE = r"""
$ORIGIN example.
$TTL 300
@        IN SOA ns1.example. hostmaster.example. 1 3600 600 86400 300
@        IN NS  ns1.example.
ns1      IN A   192.0.2.1
evil     IN MX  10 mx.evil.example.
mx.evil  IN A   192.0.2.25
evil     IN TXT "v=spf1 include:\"><img src=x onerror=alert(1)>.example &amp; &lt;b&gt; -all"
_dmarc.evil IN TXT ( "v=DMARC1; p=reject; rua=mailto:a@evil.example; "
                     "x=<script>document.title='pwned'</script>&#60;i&#62;" )
default._domainkey.evil IN TXT "v=DKIM1; p=<svg onload=alert(2)>' style='x"
"""


def _need_chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (CI must install it: see .ci/run)")
        pytest.skip("chromium is not installed")
    return CHROMIUM


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    exe = _need_chromium()
    cmd = [
        exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", *args,
    ]  # fmt: skip
    env = {**os.environ, "HOME": str(profile)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def dump_dom(page: Path, profile: Path) -> str:
    return chromium(["--dump-dom", page.as_uri()], profile).stdout


def screenshot(page: Path, name: str, profile: Path) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    target.unlink(missing_ok=True)
    for _attempt in range(2):  # chromium occasionally exits 0 without writing the file
        chromium([f"--screenshot={target}", "--window-size=1280,2000", page.as_uri()], profile)
        if target.exists():
            break
    assert target.exists(), f"chromium wrote no screenshot to {target}"
    return target


class Dom(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []
        self._title = False
        self.title = ""
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._title = False

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self._title:
            self.title += data

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _need_chromium()
    folder = tmp_path_factory.mktemp("demo")
    write_report_folder(asyncio.run(audit_demo()), folder)
    return folder


def test_summary_finding_and_remediation_are_in_the_rendered_page(
    demo_folder: Path, tmp_path: Path
) -> None:
    dom = Dom(dump_dom(demo_folder / "broken.example.html", tmp_path / "profile"))
    assert dom.title.startswith("broken.example — grade F")
    text = dom.text
    # summary: grade, one line per check, urgent fixes
    assert "Grade F , score" in text
    assert "One line per check" in text and "Most urgent fixes" in text
    for check in ("MX", "SPF", "DKIM", "DMARC"):
        assert check in text
    # a finding, its explanation, reference and the record to paste
    assert "More than one DMARC record at the same name" in text
    assert "dmarc.multiple_records" in text and "RFC 9989 §4.10" in text
    zone_blocks = [a for t, a in dom.elements if t == "pre" and a.get("class") == "zone"]
    assert zone_blocks, "remediation records are shown as zone-file blocks"
    assert '_dmarc.broken.example. 3600 IN TXT "v=DMARC1; p=reject"' in text
    # the provider checklist never claims what it cannot see
    assert "not observable" in text and "needs test message" in text
    shot = screenshot(
        demo_folder / "broken.example.html", "report-broken.example.png", tmp_path / "p2"
    )
    assert png_size(shot) == (1280, 2000) and shot.stat().st_size > 50_000


def test_index_page_renders_sorted_worst_first(demo_folder: Path, tmp_path: Path) -> None:
    dom = Dom(dump_dom(demo_folder / "index.html", tmp_path / "profile"))
    links = [
        a["href"] for t, a in dom.elements if t == "a" and (a.get("href") or "").endswith(".html")
    ]
    assert links[0] == "broken.example.html" and links[-1] in (
        "perfect.example.html",
        "parked.example.html",
    )
    shot = screenshot(demo_folder / "index.html", "report-index.png", tmp_path / "p2")
    assert png_size(shot)[0] == 1280


@pytest.mark.parametrize(
    ("zone", "domain", "literals"),
    [
        (
            HOSTILE_ZONE,
            "evil.example",
            [
                'include:"><img src=x onerror=alert(1)>.example &amp; &lt;b&gt; -all',
                "x=<script>document.title='pwned'</script>&#60;i&#62;",
                "p=<svg onload=alert(2)>' style='x",
            ],
        ),
        (
            (ROOT / "tests" / "zones" / "example.zone").read_text(),
            "hostile.example",
            [
                "include:<script>alert(1)</script>.example",
                'p=<script>alert(1)</script>; rua=mailto:"><img@x',
                "<b>not-base64</b>",
            ],
        ),
    ],
    ids=["markup-in-spf-dmarc-dkim", "fixture-hostile.example"],
)
def test_hostile_records_are_shown_literally_and_add_nothing_to_the_dom(
    zone: str, domain: str, literals: list[str], tmp_path: Path
) -> None:
    _need_chromium()
    run = asyncio.run(audit_domains([domain], resolver=StaticResolver(zone)))
    folder = tmp_path / "out"
    write_report_folder(run, folder)
    page = folder / f"{domain}.html"
    dom = Dom(dump_dom(page, tmp_path / "profile"))
    assert dom.title.startswith(domain), "no script ran (it would have changed the title)"
    tags = {t for t, _ in dom.elements}
    assert tags <= TEMPLATE_TAGS, tags - TEMPLATE_TAGS
    for tag, attrs in dom.elements:
        for name, value in attrs.items():
            assert not name.startswith("on") and name not in ("src", "style"), (tag, name, value)
            assert "alert" not in (value or ""), (tag, name, value)
    raw_text = "".join(dom.texts)
    for literal in literals:
        assert literal in raw_text, literal
    screenshot(page, f"report-hostile-{domain}.png", tmp_path / "p2")


def test_a_domain_with_a_check_in_error_is_not_graded_in_the_rendered_page(
    tmp_path: Path,
) -> None:
    # Given _dmarc.good.example answering SERVFAIL, When its page is rendered by Chromium,
    # Then a reader sees "not graded" (never a letter, never "Nothing to fix")
    from mailauth_audit.errors import DnsServfail

    _need_chromium()
    zone = (ROOT / "tests" / "zones" / "example.zone").read_text()
    resolver = StaticResolver(zone, faults={"_dmarc.good.example": DnsServfail})
    folder = tmp_path / "site"
    write_report_folder(asyncio.run(audit_domains(["good.example"], resolver=resolver)), folder)
    dom = Dom(dump_dom(folder / "good.example.html", tmp_path / "profile"))
    assert dom.title == "good.example — not graded — mailauth-audit"
    badges = [a for t, a in dom.elements if t == "div" and "grade" in (a.get("class") or "")]
    assert [b.get("class") for b in badges] == ["grade grade-none grade-not-graded"]
    assert badges[0].get("aria-label") == "Not graded: 1 check could not complete"
    text = dom.text
    assert (
        "? not graded good.example Not graded — 1 check could not complete (DMARC: dns servfail)"
        in text
    )
    assert "100 out of 100 , is provisional" in text
    assert "Nothing to fix" not in text and "Grade A ," not in text
    index = Dom(dump_dom(folder / "index.html", tmp_path / "p2"))
    assert "1 domain not graded" in index.text and "100 (provisional)" in index.text
    screenshot(folder / "good.example.html", "report-not-graded.png", tmp_path / "p3")


# --- phones and the dark scheme ---------------------------------------------------------------

FRAME = """<!DOCTYPE html><html><head><title>probe</title></head><body style="margin:0">
<iframe id="f" src="{src}" width="{width}" height="900" style="border:0"></iframe>
<script>window.onload = function () {{
  var w = document.getElementById("f").contentWindow, d = w.document, right = 0;
  d.querySelectorAll("table *, pre, svg").forEach(function (e) {{
    right = Math.max(right, Math.ceil(e.getBoundingClientRect().right));
  }});
  document.title = [d.documentElement.scrollWidth, right, w.innerWidth,
                    w.getComputedStyle(d.body).backgroundColor].join("|");
}};</script></body></html>"""


def measure(page: Path, width: int, profile: Path, *extra: str) -> tuple[int, int, int, str]:
    """The page laid out `width` px wide: its scroll width, the right edge of its widest
    table cell, record or chart, the viewport's width and the body's background colour.

    Headless Chromium will not make a window narrower than 500 px, so the page is loaded
    unchanged (its CSP and all) into an iframe that wide, and the frame around it measures.
    """
    frame = page.with_name(f"probe-{width}-{page.name}")
    frame.write_text(FRAME.format(src=page.name, width=width))
    args = ["--allow-file-access-from-files", "--window-size=1280,900", *extra]
    dom = Dom(chromium([*args, "--dump-dom", frame.as_uri()], profile).stdout)
    frame.unlink()
    scroll, right, inner, background = dom.title.split("|")
    return int(scroll), int(right), int(inner), background


def bulk_folder(tmp: Path) -> Path:
    from mailauth_audit.bulk.inputs import read_entries
    from mailauth_audit.bulk.runner import BulkConfig, run_bulk
    from mailauth_audit.resolver.caching import CachingResolver

    zone = (ROOT / "tests" / "zones" / "example.zone").read_text()
    names = ["good.example", "weak.example", "broken.example", "hostile.example",
             "toomany.example", "loopy.example", "nomail.example", "not a domain"]  # fmt: skip
    entries, stats = read_entries(names)
    out = tmp / "bulk"
    run_bulk(
        entries,
        BulkConfig(
            output_dir=out,
            progress=False,
            resolver_factory=lambda: CachingResolver(StaticResolver(zone)),
            html_pages=True,
        ),
        input_stats=stats,
    )
    return out


@pytest.mark.parametrize("width", [390, 1280])
def test_pages_fit_the_window_without_sideways_scrolling(
    demo_folder: Path, width: int, tmp_path: Path
) -> None:
    # Given the demo's pages and a bulk run's index, When Chromium lays them out in a
    # 390-px (phone) or 1280-px window, Then nothing is wider than the window
    pages = [demo_folder / "index.html", demo_folder / "broken.example.html",
             demo_folder / "sprawling.example.html"]  # fmt: skip
    bulk = bulk_folder(tmp_path)
    pages += [bulk / "index.html", bulk / "domains" / "hostile.example.html"]
    for n, page in enumerate(pages):
        scroll, right, inner, _ = measure(page, width, tmp_path / f"profile{n}")
        assert inner == width
        assert scroll <= width and right <= width, (page.name, scroll, right)
    shot_page = bulk / "index.html"
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"bulk-index-{width}.png"
    chromium([f"--screenshot={target}", f"--window-size={width},2400", shot_page.as_uri()],
             tmp_path / "shot")  # fmt: skip


def test_dark_scheme_follows_the_reader_preference(demo_folder: Path, tmp_path: Path) -> None:
    page = demo_folder / "broken.example.html"
    *_, light = measure(page, 390, tmp_path / "light")
    *_, dark = measure(page, 390, tmp_path / "dark", "--force-dark-mode")
    assert light == "rgb(244, 246, 249)"
    assert dark == "rgb(18, 22, 31)", "prefers-color-scheme: dark applies the dark palette"
    ARTIFACTS.mkdir(exist_ok=True)
    chromium([f"--screenshot={ARTIFACTS / 'report-dark-390.png'}", "--window-size=390,2000",
              "--force-dark-mode", page.as_uri()], tmp_path / "shot")  # fmt: skip
