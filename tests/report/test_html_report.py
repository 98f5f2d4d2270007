"""HTML rendering on reports built from fixtures: every status and severity, empty and huge runs,
hostile text, remediation records, the report folder and the CLI's -o FOLDER/."""

from __future__ import annotations

import asyncio
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailauth_audit.asyncapi import audit_domains
from mailauth_audit.changes import ChangeAction, RecordChange
from mailauth_audit.checks.spf import SpfResult
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
    Finding,
    Severity,
)
from mailauth_audit.report.changes import finding_blocks, prose_parts
from mailauth_audit.report.html import (
    render_pages,
    render_run_page,
    write_report_folder,
)
from mailauth_audit.report.renderers import RENDERERS, HtmlRenderer, OutputFormat
from mailauth_audit.resolver.static import StaticResolver

ZONE_PATH = Path(__file__).parents[1] / "zones" / "example.zone"
ZONE = ZONE_PATH.read_text()
# Tags our templates use; anything else in a page came from somewhere it should not have.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "a", "header", "main", "footer", "span",
    "div", "article", "section", "h1", "h2", "h3", "h4", "h5", "h6", "p", "strong", "ul", "ol",
    "li", "table", "caption", "thead", "tbody", "tr", "th", "td", "pre", "code", "dl", "dt",
    "dd", "br",
}  # fmt: skip


class PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = dict(attrs)
        self.tags.append((tag, d))
        if d.get("id"):
            self.ids.append(d["id"] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> PageParser:
    p = PageParser()
    p.feed(page)
    p.close()
    return p


# the only pages outside the report it links to: the standards and the providers' rules
OWN_LINKS = (
    "https://www.rfc-editor.org/rfc/rfc",
    "https://support.google.com/a/answer/81126",
    "https://senders.yahooinc.com/best-practices/",
)


def assert_self_contained_and_inert(page: str) -> PageParser:
    p = parse(page)
    tags = {t for t, _ in p.tags}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    for tag, attrs in p.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name not in ("src", "srcset", "action", "formaction"), (tag, name)
            if name == "href":
                assert value and (value.startswith(("#", *OWN_LINKS)) or value.endswith(".html")), (
                    value
                )
    assert len(p.ids) == len(set(p.ids)), "duplicate ids break the in-page links"
    for _, attrs in p.tags:
        href = attrs.get("href") or ""
        if href.startswith("#"):
            assert href[1:] in p.ids, f"dangling link {href}"
    return p


def f(sev: Severity, cid: CheckId, n: int, remediation: str = "Do the thing.") -> Finding:
    return Finding(
        code=f"{cid.value}.case_{sev.value}_{n}",
        severity=sev,
        check=cid,
        title=f"{sev.value} title {n}",
        detail=f"detail of {sev.value} {n}",
        remediation=remediation,
        evidence=(f"evidence {n}",),
        references=("RFC 7208 §4.6.4",),
    )


def every_status_report() -> DomainReport:
    return DomainReport(
        "example.com",
        DomainStatus.COMPLETED,
        {
            CheckId.MX: CheckOutcome(
                CheckId.MX, CheckStatus.PASS, None, (f(Severity.INFO, CheckId.MX, 1),)
            ),
            CheckId.SPF: CheckOutcome(
                CheckId.SPF,
                CheckStatus.FAIL,
                None,
                (f(Severity.CRITICAL, CheckId.SPF, 2), f(Severity.HIGH, CheckId.SPF, 3)),
            ),
            CheckId.DKIM: CheckOutcome(
                CheckId.DKIM,
                CheckStatus.WARN,
                None,
                (f(Severity.MEDIUM, CheckId.DKIM, 4), f(Severity.LOW, CheckId.DKIM, 5)),
            ),
            CheckId.DMARC: CheckOutcome(
                CheckId.DMARC,
                CheckStatus.ERROR,
                error=CheckError(ErrorReason.DNS_TIMEOUT, "could not check: DNS timeout for TXT"),
            ),
        },
    )


def run_of(*reports: DomainReport) -> AuditRun:
    return AuditRun("2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", tuple(reports))


def test_every_status_and_severity_is_shown_in_words() -> None:
    skipped = DomainReport(
        "skip.example",
        DomainStatus.COMPLETED,
        {c: CheckOutcome(c, CheckStatus.SKIPPED, skip_reason="not requested") for c in CheckId},
    )
    page = HtmlRenderer().render(run_of(every_status_report(), skipped))
    p = assert_self_contained_and_inert(page)
    classes = " ".join(a.get("class") or "" for _, a in p.tags)
    for st in CheckStatus:
        assert f"status-{st.value}" in classes
    for sev in Severity:
        assert f"sev-{sev.value}" in classes
    text = " ".join(p.text)
    for n in range(1, 6):
        assert f"title {n}" in text and f"evidence {n}" in text
    assert "could not check: DNS timeout for TXT" in text
    assert "Skipped: not requested." in text


def test_summary_has_grade_one_line_per_check_and_three_urgent_fixes_worst_first() -> None:
    page = HtmlRenderer().render(run_of(every_status_report()))
    p = parse(page)
    text = " ".join(" ".join(p.text).split())
    # 100 - 40 - 20 - 8 - 3 = 29, but the DMARC error means no grade: 29 is only provisional
    assert "Not graded — 1 check could not complete (DMARC: dns timeout)" in text
    assert "29 out of 100 , is provisional" in text
    assert "Grade F" not in text
    fixes = page.split('<ol class="fixes">')[1].split("</ol>")[0]
    assert (
        fixes.index("critical title 2")
        < fixes.index("high title 3")
        < fixes.index("medium title 4")
    )
    assert "low title 5" not in fixes and "info title 1" not in fixes
    rows = page.split('class="checks-summary')[1].split("</table>")[0]
    report = every_status_report()
    assert rows.count("<tr>") == 1 + len(report.checks)  # one row per check the report holds


def test_proposed_records_are_set_apart_for_pasting() -> None:
    page = HtmlRenderer().render(run_of(every_status_report()))
    assert page.count('<pre class="zone"><code>') == 0  # no proposals in this report
    change = RecordChange(
        ChangeAction.ADD, "_dmarc.example.com", "TXT", 300, proposed="v=DMARC1; p=none"
    )
    proposing = Finding(
        "dmarc.missing",
        Severity.HIGH,
        CheckId.DMARC,
        "No DMARC record",
        "detail",
        'Start with:\n_dmarc.example.com. 300 IN TXT "v=DMARC1; p=none"\nthen.',
        changes=(change,),
    )
    # prose that quotes a record without a typed change is prose: nothing parses it back
    quoting = f(
        Severity.MEDIUM, CheckId.DMARC, 2, 'Or:\n_dmarc.example.com. 60 IN TXT "v=DMARC1; p=reject"'
    )
    rep = DomainReport(
        "example.com",
        DomainStatus.COMPLETED,
        {CheckId.DMARC: CheckOutcome(CheckId.DMARC, CheckStatus.FAIL, None, (proposing, quoting))},
    )
    page = HtmlRenderer().render(run_of(rep))
    assert (
        '<pre class="zone"><code>_dmarc.example.com. 300 IN TXT &#34;v=DMARC1; p=none&#34;'
        "</code></pre>" in page
    )
    assert "Add a TXT record at _dmarc.example.com" in page
    assert page.count('<pre class="zone"><code>') == 1


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Plain advice.", [("text", "Plain advice.")]),
        ("Remove `ptr` now.", [("text", "Remove "), ("code", "ptr"), ("text", " now.")]),
        ("`a` and `b`", [("code", "a"), ("text", " and "), ("code", "b")]),
        ("odd ` one", [("text", "odd "), ("code", " one")]),
        ("", []),
    ],
)
def test_prose_parts(text: str, parts: list[tuple[str, str]]) -> None:
    assert list(prose_parts(text)) == parts


def test_no_renderer_parses_remediation_text() -> None:
    """Proposed records come from typed changes: no zone-line pattern in report/ or the
    templates, and none of the old regex helpers."""
    package = Path(__file__).resolve().parents[2] / "mailauth_audit"
    files = [*(package / "report").glob("*.py"), *(package / "templates").rglob("*.html")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for gone in ("remediation_segments", "remediation_blocks", "parse_zone_line", "ZoneLine"):
            assert gone not in text, (path.name, gone)
        assert "IN\\s" not in text and "_ZONE_LINE" not in text, path.name


def test_control_and_bidi_characters_are_shown_as_escapes() -> None:
    evil = Finding(
        "spf.x", Severity.HIGH, CheckId.SPF, "t\x1b[31mred", "d\u202eesrever\x00",
        "r\x07", ("ev\r\nX-Injected: 1",),
    )  # fmt: skip
    rep = DomainReport(
        "example.com",
        DomainStatus.COMPLETED,
        {CheckId.SPF: CheckOutcome(CheckId.SPF, CheckStatus.FAIL, None, (evil,))},
    )
    page = HtmlRenderer().render(run_of(rep))
    for raw in ("\x1b", "\u202e", "\x00", "\x07", "\r"):
        assert raw not in page
    for shown in ("t\\x1b[31mred", "d\\u202eesrever\\x00", "r\\x07", "ev\\x0d"):
        assert shown in page


@pytest.fixture(scope="module")
def fixture_run() -> AuditRun:
    names = ["good.example", "weak.example", "broken.example", "toomany.example",
             "hostile.example", "nomail.example", "bigtxt.example", "loopy.example",
             "missing.example", "implicit.example", "sub.org.example", "not a domain"]  # fmt: skip
    return asyncio.run(audit_domains(names, resolver=StaticResolver(ZONE)))


def test_fixture_domains_render_inert_with_evidence_and_spf_tree(fixture_run: AuditRun) -> None:
    pages = render_pages(fixture_run)
    assert set(pages) >= {"index.html", "good.example.html", "not_a_domain.html"}
    for page in pages.values():
        assert_self_contained_and_inert(page)
    good = pages["good.example.html"]
    # the include tree is drawn even when SPF passes, with a lookup count at every node
    tree = good.split('<ul class="tree"')[1].split("</section>")[0]
    assert tree.count("<li>") == 4 and tree.count('class="lookups') == 4
    assert ">3 lookups<" in tree and "include:_netblocks2.provider.example" in tree
    assert "v=DMARC1; p=reject; rua=mailto:dmarc@reports.provider.example" in good
    toomany = pages["toomany.example.html"]
    assert 'class="lookups over"' in toomany  # the root exceeds 10
    assert "Not audited:" in pages["not_a_domain.html"]


def test_hostile_records_are_text_not_markup(fixture_run: AuditRun) -> None:
    page = render_pages(fixture_run)["hostile.example.html"]
    p = assert_self_contained_and_inert(page)
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    text = "".join(p.text)
    assert "include:<script>alert(1)</script>.example" in text
    assert 'p=<script>alert(1)</script>; rua=mailto:"><img@x' in text


def test_index_is_sorted_worst_grade_first_and_links_every_page(fixture_run: AuditRun) -> None:
    pages = render_pages(fixture_run)
    index = pages["index.html"]
    p = assert_self_contained_and_inert(index)
    grades = [t for t in (s.strip() for s in p.text) if t in ("A", "B", "C", "D", "F", "–")]
    order = "FDCBA–"
    assert grades == sorted(grades, key=order.index)
    links = {a["href"] for t, a in p.tags if t == "a" and a.get("href", "").endswith(".html")}
    assert links == set(pages) - {"index.html"}


def test_single_file_with_several_domains_has_index_and_sections(fixture_run: AuditRun) -> None:
    page = render_run_page(fixture_run)
    p = assert_self_contained_and_inert(page)
    assert sum(1 for t, a in p.tags if t == "article") == len(fixture_run.domains)
    assert RENDERERS[OutputFormat.HTML] is HtmlRenderer


def test_empty_run_renders() -> None:
    page = HtmlRenderer().render(run_of())
    assert_self_contained_and_inert(page)
    assert "0 domains" in page
    assert set(render_pages(run_of())) == {"index.html"}


def test_huge_run_renders_in_reasonable_time() -> None:
    many = []
    for i in range(400):
        fs = tuple(f(list(Severity)[j % 5], CheckId.SPF, j) for j in range(i % 7))
        many.append(
            DomainReport(
                f"d{i}.example",
                DomainStatus.COMPLETED,
                {CheckId.SPF: CheckOutcome(CheckId.SPF, CheckStatus.WARN, None, fs)},
            )
        )
    big = DomainReport(
        "big.example",
        DomainStatus.COMPLETED,
        {
            CheckId.SPF: CheckOutcome(
                CheckId.SPF,
                CheckStatus.FAIL,
                None,
                tuple(f(Severity.HIGH, CheckId.SPF, j) for j in range(2000)),
            )
        },
    )
    started = time.monotonic()
    pages = render_pages(run_of(*many, big))
    single = render_run_page(run_of(big))
    assert time.monotonic() - started < 30
    assert len(pages) == 402
    assert single.count('class="finding ') == 2000
    assert "Grade F" in single and "score 0 out of 100" in single


def test_spf_tree_of_a_real_result_is_typed(fixture_run: AuditRun) -> None:
    good = fixture_run.domains[0]
    assert isinstance(good.checks[CheckId.SPF].result, SpfResult)


def test_cli_writes_a_folder_for_html_and_refuses_a_folder_for_other_formats(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    out = tmp_path / "reports"
    args = ["check", "--zone-file", str(ZONE_PATH), "--format", "html", "-o", f"{out}/"]
    res = runner.invoke(main, [*args, "good.example", "weak.example"])
    assert res.exit_code == 0, res.output
    assert sorted(x.name for x in out.iterdir()) == [
        "good.example.html", "index.html", "weak.example.html",
    ]  # fmt: skip
    one = tmp_path / "one.html"
    res = runner.invoke(
        main,
        [
            "check",
            "--zone-file",
            str(ZONE_PATH),
            "--format",
            "html",
            "-o",
            str(one),
            "good.example",
        ],
    )
    assert res.exit_code == 0 and '<h1 id="d1-title">good.example</h1>' in one.read_text()
    res = runner.invoke(
        main,
        ["check", "--zone-file", str(ZONE_PATH), "--format", "csv", "-o", f"{out}/", "a.example"],
    )
    assert res.exit_code == 2 and "only --format html" in res.output


def test_write_report_folder_returns_the_index(tmp_path: Path, fixture_run: AuditRun) -> None:
    index = write_report_folder(fixture_run, tmp_path / "x")
    assert index == tmp_path / "x" / "index.html" and index.read_text().startswith(
        "<!DOCTYPE html>"
    )
    assert not list((tmp_path / "x").glob(".*")), "no temporary files left behind"


def test_templates_ship_as_package_data_from_the_top_level_folder() -> None:
    from importlib import resources

    root = Path(__file__).parents[2]
    link = root / "mailauth_audit" / "templates"
    assert link.is_symlink() and link.resolve() == (root / "templates").resolve()
    shipped = resources.files("mailauth_audit.templates")
    for name in ("base.html", "domain.html", "index.html", "run.html", "report.css"):
        assert shipped.joinpath(name).is_file(), name


# --- what a reader saw wrong on the pages -----------------------------------------------------


def test_a_record_inside_a_sentence_leaves_no_stray_fragment() -> None:
    # Given remediation prose with proposed records between backticks mid-sentence, in
    # parentheses and at its end,
    # Then the prose around each change reads as sentences: no lone "." or ")", no "; keep …"
    a = RecordChange(ChangeAction.ADD, "mx.example", "A", 3600, proposed="<public IPv4 address>")
    mx = RecordChange(ChangeAction.ADD, "example", "MX", 3600, proposed="0 .")
    key = RecordChange(ChangeAction.ADD, "s._domainkey.example", "TXT", 3600, proposed="v=DKIM1")
    text = (
        "Publish the public address instead, e.g. "
        "`mx.example. 3600 IN A <public IPv4 address>`; keep internal addresses in internal "
        "DNS only.\nOr publish a null MX: `example. 3600 IN MX 0 .`.\nOr a key (under a new "
        'selector (`s._domainkey.example. 3600 IN TXT "v=DKIM1"`), then switch.'
    )
    finding = Finding("mx.x", Severity.LOW, CheckId.MX, "t", "d", text, changes=(a, mx, key))
    blocks = finding_blocks(finding)
    prose = ["".join(s for _, s in b.parts) for b in blocks if b.change is None]
    assert [b.change.rtype for b in blocks if b.change] == ["A", "MX", "TXT"]
    assert prose == [
        "Publish the public address instead, e.g. ",
        "Keep internal addresses in internal DNS only.\nOr publish a null MX: ",
        "Or a key (under a new selector ",
        "Then switch.",
    ]
    for fragment in prose:
        assert fragment.strip(" .;,:\n"), fragment


def test_fixture_pages_have_no_stray_fragments_or_unknown_key_sizes(fixture_run: AuditRun) -> None:
    pages = render_pages(fixture_run)
    for name, page in pages.items():
        assert '<p class="remediation">.</p>' not in page, name
        assert '<p class="remediation">; ' not in page, name
        assert "? bits" not in page, name
        assert "could not check: could not check" not in page.lower(), name


def test_could_not_check_is_said_once_in_checklist_and_check_section() -> None:
    page = render_run_page(run_of(every_status_report()))
    text = " ".join(parse(page).text)
    assert "could not check: could not check" not in text.lower()
    assert "Could not check: DNS timeout for TXT" in " ".join(text.split())


def test_a_zero_count_is_not_an_alarm() -> None:
    ok = DomainReport(
        "example.com",
        DomainStatus.COMPLETED,
        {CheckId.MX: CheckOutcome(CheckId.MX, CheckStatus.PASS, None, ())},
    )
    page = render_run_page(run_of(ok))
    assert '<li class="zero"><span class="sev sev-critical">critical</span>' in page
    assert ".counts li.zero .sev" in page  # drawn muted, whatever the severity's colour


def test_the_summary_table_shows_a_long_spf_record_whole() -> None:
    record = "v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(1, 12)) + " -all"
    assert len(record) > 90
    zone = ZONE + f'long IN TXT "{record}"\nlong IN MX 10 mx1.provider.example.\n'
    run = asyncio.run(audit_domains(["long.example"], resolver=StaticResolver(zone)))
    page = render_run_page(run)
    summary = page[page.index('class="checks-summary') : page.index("Most urgent fixes")]
    assert record in summary and "..." not in summary


def test_references_and_provider_sources_are_links_and_dns_text_is_not() -> None:
    page = render_run_page(run_of(every_status_report()))
    assert '<a href="https://www.rfc-editor.org/rfc/rfc7208#section-4.6.4"' in page
    assert '<a href="https://support.google.com/a/answer/81126"' in page
    assert 'rel="noopener noreferrer"' in page
    zone = ZONE + 'linky IN TXT "v=spf1 include:x.example -all https://evil.example/"\n'
    run = asyncio.run(audit_domains(["linky.example"], resolver=StaticResolver(zone)))
    assert 'href="https://evil.example' not in render_run_page(run)


def test_reference_links_point_at_the_section_or_appendix() -> None:
    from mailauth_audit.report.html import reference_link

    assert 'href="https://www.rfc-editor.org/rfc/rfc7505"' in reference_link("RFC 7505")
    assert "rfc9989#appendix-A.6" in reference_link("RFC 9989 Appendix A.6")
    assert reference_link("Gmail <b>") == "Gmail &lt;b&gt;"


def test_pages_stack_tables_on_phones_and_have_a_dark_scheme(fixture_run: AuditRun) -> None:
    pages = render_pages(fixture_run)
    for name, page in pages.items():
        assert "@media (prefers-color-scheme: dark)" in page, name
        assert "table.stack td[data-label]::before" in page, name
        classes = re.findall(r"<table( class=\"[^\"]*\")?", page)
        assert all("stack" in c for c in classes), (name, classes)


def test_an_idn_domain_shows_the_u_label_beside_the_a_label() -> None:
    from mailauth_audit.domain import unicode_name

    assert unicode_name("xn--bcher-kva.example") == "bücher.example"
    assert unicode_name("example.com") is None and unicode_name("xn--zz.example") is None
    zone = ZONE + "xn--bcher-kva IN MX 10 mx1.provider.example.\n"
    run = asyncio.run(audit_domains(["bücher.example"], resolver=StaticResolver(zone)))
    pages = render_pages(run)
    page = pages["xn--bcher-kva.example.html"]
    head = page[page.index("<h1") : page.index("</h1>")]
    assert "bücher.example" in head and "xn--bcher-kva.example" in head
    assert "bücher.example" in pages["index.html"]
