"""The HTML report: one self-contained page per domain (or per run), and a folder with an index.

Everything a page shows comes from the model; this module only arranges it for the templates
in the top-level `templates/` folder (installed as the package `mailauth_audit.templates`).
TXT records are written by strangers, so autoescaping is always on and every string passes
through `printable()` before it reaches the page: control and bidi characters are shown as
`\\xNN` escapes instead of reordering or hiding text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import jinja2
import markupsafe

from ..checks.registry import CHECKS
from ..domain import unicode_name
from ..model import (
    AuditRun,
    CheckId,
    CheckOutcome,
    CheckStatus,
    DomainReport,
    DomainStatus,
    Finding,
    Severity,
)
from ..outputs import write_output
from ..verdicts.checklist import PROVIDER_SOURCES, ProviderChecklist
from ..verdicts.score import (
    GRADE_CAP,
    GRADE_THRESHOLDS,
    PENALTY,
    DomainScore,
    GradeStatus,
    checks_phrase,
    sort_key,
)
from ..version import __version__
from .changes import finding_blocks, prose_parts
from .html_text import error_text, linkify, printable, reference_link
from .mx_rows import mx_tls_rows
from .verdict_text import verdict_line

TEMPLATE_PACKAGE = "mailauth_audit.templates"
# each check's heading, as the check declares it (kept for callers of the old name)
CHECK_TITLES = {cid: cls.title for cid, cls in CHECKS.items()}
TOP_FIXES = 3


# --- what the templates get ---------------------------------------------------------------


@dataclass(frozen=True)
class CheckView:
    check: CheckId
    title: str
    outcome: CheckOutcome
    summary: str
    findings: tuple[tuple[str, Finding], ...]  # (anchor id, finding)

    @property
    def detail_template(self) -> str:
        """The block showing what this check found (see `detail_template`)."""
        return detail_template(self.check)


GENERIC_DETAIL_TEMPLATE = "checks/_generic.html"


@cache
def detail_template(check: CheckId) -> str:
    """`checks/<check id>.html` when the check has its own block, else the generic one (its
    one-line summary): a new check shows on every page before anyone writes its block."""
    node = resources.files(TEMPLATE_PACKAGE).joinpath("checks", f"{check.value}.html")
    return f"checks/{check.value}.html" if node.is_file() else GENERIC_DETAIL_TEMPLATE


@dataclass(frozen=True)
class DomainView:
    report: DomainReport
    anchor: str  # id of the domain's section on a multi-domain page
    filename: str  # its page in a report folder
    score: DomainScore
    checklist: ProviderChecklist
    checks: tuple[CheckView, ...]
    top_fixes: tuple[tuple[str, Finding], ...]
    finding_counts: tuple[tuple[Severity, int], ...]


def _summary(outcome: CheckOutcome) -> str:
    from .renderers import TextRenderer  # the one-line summary is the text report's

    return TextRenderer._summary(outcome)


def _filename(domain: str, index: int, taken: set[str]) -> str:
    """A safe, unique file name: A-labels are already safe; anything else is replaced."""
    base = re.sub(r"[^a-z0-9.-]", "_", domain.lower()).strip(".") or "domain"
    name = f"{base[:100]}.html"
    if name in taken or name == "index.html":
        name = f"{base[:100]}-{index}.html"
    taken.add(name)
    return name


def domain_views(reports: Iterable[DomainReport]) -> tuple[DomainView, ...]:
    views: list[DomainView] = []
    taken: set[str] = set()
    for n, report in enumerate(reports, start=1):
        prefix = f"d{n}"
        checks: list[CheckView] = []
        anchors: dict[int, str] = {}
        for cid, outcome in report.checks.items():
            fs = []
            for k, f in enumerate(outcome.findings, start=1):
                anchor = f"{prefix}-{cid.value}-{k}"
                anchors[id(f)] = anchor
                fs.append((anchor, f))
            fs.sort(key=lambda af: (-af[1].severity.rank, af[1].code))
            checks.append(CheckView(cid, CHECKS[cid].title, outcome, _summary(outcome), tuple(fs)))
        ranked = [f for f in report.findings if f.severity is not Severity.INFO]
        top = tuple((anchors.get(id(f), ""), f) for f in ranked[:TOP_FIXES])
        s = report.verdict
        counts = tuple((sev, s.count(sev)) for sev in Severity)
        views.append(
            DomainView(
                report=report,
                anchor=prefix,
                filename=_filename(report.domain, n, taken),
                score=s,
                checklist=report.checklist,
                checks=tuple(checks),
                top_fixes=top,
                finding_counts=counts,
            )
        )
    return tuple(views)


def ranked(views: Iterable[DomainView]) -> list[DomainView]:
    """Worst grade first, then lowest score, then name: the order of every index table."""
    return sorted(views, key=lambda v: (*sort_key(v.score), v.report.domain))


def one_line(view: CheckView) -> str:
    """The summary-table line: the whole record where there is one (the cell wraps), else
    the shared one-line summary, which cuts records for an 80-column terminal."""
    o = view.outcome
    record = CHECKS[view.check].whole_record(o.result)
    if o.status not in (CheckStatus.ERROR, CheckStatus.SKIPPED) and record is not None:
        return record
    return view.summary


# --- jinja2 ---------------------------------------------------------------------------------


class _ResourceLoader(jinja2.BaseLoader):
    """Templates read through importlib.resources: works installed, editable and zipped."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        node = resources.files(TEMPLATE_PACKAGE)
        for part in template.split("/"):
            if part in ("", ".", ".."):
                raise jinja2.TemplateNotFound(template)
            node = node.joinpath(part)
        if not node.is_file():
            raise jinja2.TemplateNotFound(template)
        return node.read_text(encoding="utf-8"), None, lambda: True


def _finalize(value: object) -> object:
    """Applied to every `{{ }}`: macro output (Markup) was built from finalized values."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return printable(value)
    return value


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=_ResourceLoader(),
        autoescape=True,  # always: DNS text is written by strangers
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["finding_blocks"] = finding_blocks
    env.filters["prose_parts"] = prose_parts
    env.filters["linkify"] = linkify
    env.filters["one_line"] = one_line
    env.filters["reference_link"] = reference_link
    env.filters["error_text"] = error_text
    env.filters["unicode_name"] = unicode_name
    env.filters["mx_tls_rows"] = mx_tls_rows
    env.globals.update(
        CheckStatus=CheckStatus,
        DomainStatus=DomainStatus,
        Severity=Severity,
        CheckId=CheckId,
        PENALTY=PENALTY,
        GRADE_THRESHOLDS=GRADE_THRESHOLDS,
        GRADE_CAP=GRADE_CAP,
        GradeStatus=GradeStatus,
        checks_phrase=checks_phrase,
        verdict_line=verdict_line,
        PROVIDER_SOURCES=PROVIDER_SOURCES,
        tool_version=__version__,
    )
    return env


def _common(run: AuditRun) -> dict[str, object]:
    from .provenance import banner, sources_line

    p = run.provenance
    return {
        "run": run,
        "generated": run.finished_at,
        "tool_version": run.tool_version or __version__,
        # where the answers came from; the banner only when they are not live DNS
        "provenance_banner": banner(p),
        "provenance_line": sources_line(p) if p is not None else None,
    }


def render_domain_page(run: AuditRun, view: DomainView, *, index_href: str | None = None) -> str:
    return (
        environment()
        .get_template("domain.html")
        .render(**_common(run), view=view, index_href=index_href)
    )


def render_index_page(run: AuditRun, views: tuple[DomainView, ...]) -> str:
    return environment().get_template("index.html").render(**_common(run), views=ranked(views))


def render_run_page(run: AuditRun) -> str:
    """Everything in one file: a single domain's page, or an index followed by every domain."""
    views = domain_views(run.domains)
    if len(views) == 1:
        return render_domain_page(run, views[0])
    return (
        environment()
        .get_template("run.html")
        .render(**_common(run), views=views, ranked_views=ranked(views))
    )


def render_pages(run: AuditRun) -> dict[str, str]:
    """A report folder: index.html plus one page per domain, keyed by file name."""
    views = domain_views(run.domains)
    pages = {"index.html": render_index_page(run, views)}
    for v in views:
        pages[v.filename] = render_domain_page(run, v, index_href="index.html")
    return pages


def write_report_folder(run: AuditRun, folder: Path) -> Path:
    """Write index.html and the domain pages into `folder`; return the index's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in render_pages(run).items():
        write_output(folder / name, text)
    return folder / "index.html"


def is_folder_target(raw: str) -> bool:
    """`-o reports/` or an existing directory means "a folder of pages", not one file."""
    return raw.endswith(("/", os.sep)) or Path(raw).is_dir()
