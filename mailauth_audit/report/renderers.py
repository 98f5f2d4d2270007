"""Output formats as classes. Renderers only present: every judgement is already in the model."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from enum import StrEnum
from typing import ClassVar

import click

from ..checks.registry import CHECKS
from ..domain import unicode_name
from ..messages.model import MessageReport
from ..model import (
    AuditRun,
    CheckId,
    CheckOutcome,
    CheckStatus,
    DomainReport,
    DomainStatus,
    Severity,
)
from ..verdicts.score import GradeStatus
from ..version import __version__
from .changes import remediation_lines
from .escape import TERMINAL_KEEP, escape
from .serialize import run_to_json
from .verdict_text import verdict_line


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"
    CSV = "csv"
    JUNIT = "junit"


class Renderer(ABC):
    format: ClassVar[OutputFormat]

    def __init__(self, *, color: bool = False, fail_on: Severity | None = None) -> None:
        self.color = color
        # --fail-on: formats that say pass/fail (JUnit) fail exactly where the exit code does
        self.fail_on = fail_on

    @abstractmethod
    def render(self, run: AuditRun) -> str: ...


class JsonRenderer(Renderer):
    format = OutputFormat.JSON

    def render(self, run: AuditRun) -> str:
        return json.dumps(run_to_json(run), indent=2, ensure_ascii=False) + "\n"


# Colours readable on dark and light backgrounds alike: no white or bright white (invisible
# on a light terminal), no bright black (the background colour in Solarized dark); what
# needs no colour keeps the terminal's own foreground (None).
_STATUS_COLOUR: dict[CheckStatus, str | None] = {
    CheckStatus.PASS: "green",
    CheckStatus.WARN: "yellow",
    CheckStatus.FAIL: "red",
    CheckStatus.ERROR: "magenta",
    CheckStatus.SKIPPED: None,
}
_SEVERITY_COLOUR: dict[Severity, str | None] = {
    Severity.CRITICAL: "red",  # and underlined, to tell it from high without bright red
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: None,
}


_CHECK_COLUMN = max(6, *(len(c.value) for c in CheckId))  # the longest check name lines up


def terminal_safe(text: str) -> str:
    """DNS text is written by strangers: never let it move the cursor or recolour a terminal.
    The escaping every terminal output of the tool uses (see report/escape.py)."""
    return escape(text, TERMINAL_KEEP)


_printable = terminal_safe


class TextRenderer(Renderer):
    """A readable summary for a terminal: the verdict first, one line per check, then findings
    by severity."""

    format = OutputFormat.TEXT

    def _style(self, text: str, fg: str | None, bold: bool = False, underline: bool = False) -> str:
        if not self.color or (fg is None and not bold and not underline):
            return text
        return click.style(text, fg=fg, bold=bold, underline=underline or None)

    def render(self, run: AuditRun) -> str:
        parts = [self.render_domain(d) for d in run.domains]
        return "\n".join(parts) + _provenance_footer(run)

    def render_domain(self, report: DomainReport) -> str:
        # an IDN domain as people write it, with the A-label that was queried beside it
        uname = unicode_name(report.domain)
        heading = f"{uname} ({report.domain})" if uname else report.domain
        lines = [self._style(_printable(heading), None, bold=True)]
        if report.status is DomainStatus.INVALID:
            lines.append(
                "  " + self._style("invalid", "red") + f": {_printable(report.error or '')}"
            )
            return "\n".join(lines) + "\n"
        verdict = report.verdict
        if verdict.grade_status is GradeStatus.NOT_GRADED:
            lines.append("  " + self._style(_printable(verdict_line(verdict)), "magenta", True))
        else:
            lines.append("  " + self._style(verdict_line(verdict), None, bold=True))
        lines.append("")
        for cid, outcome in report.checks.items():
            status = self._style(f"{outcome.status.value:<7}", _STATUS_COLOUR[outcome.status])
            ttl = CHECKS[cid].record_ttl(outcome.result)
            shown_ttl = f"  (TTL {ttl}s)" if ttl is not None else ""
            summary = _printable(self._summary(outcome))
            name = f"{cid.value.upper():<{_CHECK_COLUMN}}"
            lines.append(f"  {name} {status} {summary}{shown_ttl}")
        for note in report.resolver_notes:
            label = self._style("note", "yellow", bold=True)
            lines.append(f"  {label}: {_printable(note.message)}")
        findings = report.findings
        if findings:
            lines.append("")
            lines.append("  Findings (most severe first):")
        for f in findings:
            sev = self._style(
                f"{f.severity.value:<8}",
                _SEVERITY_COLOUR[f.severity],
                bold=True,
                underline=f.severity is Severity.CRITICAL,
            )
            lines.append(f"  {sev} {f.code}: {_printable(f.title)}")
            lines.append(f"           {_printable(f.detail)}")
            for kind, line in remediation_lines(f):
                lead = "fix: " if kind == "fix" else ""
                lines.append(f"           {lead}{_printable(line)}")
        lines.append("")
        lines.append(f"  ({report.dns_queries} DNS queries)")
        return "\n".join(lines) + "\n"

    @staticmethod
    def _summary(outcome: CheckOutcome) -> str:
        """One line per check: the record itself where there is one, else what was found."""
        if outcome.status is CheckStatus.ERROR and outcome.error:
            return outcome.error.message
        if outcome.status is CheckStatus.SKIPPED:
            return outcome.skip_reason or ""
        return CHECKS[outcome.check].summary(outcome.result)


def _provenance_footer(run: AuditRun) -> str:
    """Where the answers came from, below the last domain (see report/provenance.py)."""
    from .provenance import banner, sources_line

    if run.provenance is None:
        return ""
    lines = [f"{b}." for b in [banner(run.provenance)] if b]
    lines.append(f"Source: {sources_line(run.provenance)}.")
    return "\n" + "".join(f"  {_printable(line)}\n" for line in lines)


class HtmlRenderer(Renderer):
    """One self-contained page; `report.html.write_report_folder` writes a page per domain."""

    format = OutputFormat.HTML

    def render(self, run: AuditRun) -> str:
        from .html import render_run_page

        return render_run_page(run)


class CsvRenderer(Renderer):
    format = OutputFormat.CSV

    def render(self, run: AuditRun) -> str:
        from .csvout import csv_text

        return csv_text(run.domains, provenance=run.provenance)


class JunitRenderer(Renderer):
    format = OutputFormat.JUNIT

    def render(self, run: AuditRun) -> str:
        from .junit import junit_xml

        return junit_xml(run, self.fail_on)


RENDERERS: dict[OutputFormat, type[Renderer]] = {
    OutputFormat.TEXT: TextRenderer,
    OutputFormat.JSON: JsonRenderer,
    OutputFormat.HTML: HtmlRenderer,
    OutputFormat.CSV: CsvRenderer,
    OutputFormat.JUNIT: JunitRenderer,
}


def render_audit(
    subject: AuditRun | DomainReport | MessageReport,
    fmt: str,
    *,
    color: bool = False,
    fail_on: Severity | None = None,
) -> str:
    """The facade's `render`: a run, one domain's report (as a run of one) or a message
    report, in `fmt`; ValueError naming the formats when `fmt` is not one of them."""
    if isinstance(subject, MessageReport):
        from .message import MessageFormat, render_message

        try:
            message_format = MessageFormat(fmt)
        except ValueError:
            known = ", ".join(f.value for f in MessageFormat)
            raise ValueError(f"unknown message format {fmt!r} (choose from {known})") from None
        return render_message(subject, message_format, color=color)
    try:
        audit_format = OutputFormat(fmt)
    except ValueError:
        known = ", ".join(f.value for f in OutputFormat)
        raise ValueError(f"unknown format {fmt!r} (choose from {known})") from None
    if isinstance(subject, DomainReport):
        subject = AuditRun(
            started_at="", finished_at="", domains=(subject,), tool_version=__version__
        )
    return RENDERERS[audit_format](color=color, fail_on=fail_on).render(subject)
