"""Present a `MessageReport`: JSON (the contract, see report/message_schema.json), text for a
terminal, HTML in the same page style as the domain report. Renderers only present.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import click

from ..messages.model import MessageReport
from ..model import Severity
from ..version import __version__
from .changes import remediation_lines
from .escape import MESSAGE_TEXT_KEEP, escape
from .html import environment
from .message_schema import MESSAGE_SCHEMA_VERSION
from .serialize import TOOL_NAME, to_jsonable

__all__ = ["MessageFormat", "message_report_to_json", "render_message"]


class MessageFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


def message_report_to_json(report: MessageReport) -> dict[str, Any]:
    return {
        "schema_version": MESSAGE_SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "message": to_jsonable(report),
    }


def render_json(report: MessageReport) -> str:
    return json.dumps(message_report_to_json(report), indent=2, ensure_ascii=False) + "\n"


def _clean(text: str) -> str:
    """Terminal-safe: control characters a hostile header could carry become escapes; the
    tab of a folded header line stays (see report/escape.py)."""
    return escape(text, MESSAGE_TEXT_KEEP)


def _lines(text: str) -> str:
    """Multi-line text (a proposed record on its own line) indented under its finding."""
    return "\n           ".join(_clean(line) for line in text.split("\n"))


def dmarc_headline(report: MessageReport) -> tuple[str, str]:
    """(verdict, one line): the DMARC verdict a receiver would reach, the page's headline.

    verdict is "pass", "fail", "none" (no policy to apply), or "not evaluated" (too large,
    unparsable, or DMARC itself could not complete: temperror/permerror).
    """
    d = report.dmarc
    if d is None:
        why = "message too large" if report.too_large else "message could not be parsed"
        return "not evaluated", f"DMARC not evaluated ({why})"
    domain = d.from_domain or "?"
    if d.result.value == "pass":
        via = " and ".join(x for x, ok in (("SPF", d.spf_aligned), ("DKIM", d.dkim_aligned)) if ok)
        return "pass", f"DMARC pass for {domain}: aligned {via or '?'}; a receiver delivers it"
    if d.result.value == "fail":
        act = {"reject": "rejects it", "quarantine": "quarantines it (spam folder)"}
        action = act.get(d.disposition.value, "delivers it anyway (policy none)")
        return "fail", f"DMARC fail for {domain}: neither SPF nor DKIM aligned; a receiver {action}"
    if d.result.value == "none":
        return "none", f"DMARC none for {domain}: no policy published, none for a receiver to apply"
    return "not evaluated", f"DMARC {d.result.value} for {domain}: could not be evaluated"


# as in the domain report: readable on light and dark terminals (no white, no bright black)
_VERDICT_COLOUR = {"pass": "green", "fail": "red", "none": "yellow", "not evaluated": "magenta"}
_SEVERITY_COLOUR: dict[Severity, str | None] = {
    Severity.CRITICAL: "red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: None,
}


def render_text(report: MessageReport, *, color: bool = False) -> str:
    def style(text: str, fg: str | None, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if color and (fg or bold) else text

    r = report
    verdict, headline = dmarc_headline(r)
    lines = [style(_clean(headline), _VERDICT_COLOUR.get(verdict), bold=True)]
    lines.append(f"  problems: {r.status.value} ({len(r.findings)} findings, listed below)")
    lines.append(f"  subject: {_clean(r.subject or '(none)')}")
    lines.append(f"  size: {r.size} bytes (limit {r.size_limit})")
    e = r.envelope
    lines.append(
        f"  envelope ({e.source.value}): client-ip={e.client_ip or '?'}"
        f" helo={_clean(e.helo or '?')}"
        f" mail-from={_clean(e.mail_from if e.mail_from is not None else '?')}"
        + (f" tls={'yes' if e.tls else 'no'}" if e.tls is not None else "")
    )
    for s in r.dkim:
        key = f"{s.key_type or '?'}" + (f"/{s.key_bits}" if s.key_bits else "")
        lines.append(
            f"  dkim[{s.index}] {s.result.value}: d={_clean(s.domain or '?')} "
            f"s={_clean(s.selector or '?')} a={_clean(s.algorithm or '?')} key={key} "
            f"bh={s.body_hash.value}" + (f" ({_clean(s.reason)})" if s.reason else "")
        )
    if not r.dkim and r.parsed and not r.too_large:
        lines.append("  dkim: none (no DKIM-Signature header: the message is unsigned)")
    if r.spf is not None:
        for i in (r.spf.mail_from, r.spf.helo):
            if i is not None:
                lines.append(f"  spf {i.identity} {i.domain}: {i.result.value}")
        if r.spf.not_checked_reason:
            lines.append(f"  spf: not checked ({r.spf.not_checked_reason})")
    if r.dmarc is not None:
        d = r.dmarc
        lines.append(
            f"  dmarc {d.from_domain or '?'}: {d.result.value} policy={d.policy or '-'} "
            f"disposition={d.disposition.value} spf_aligned={d.spf_aligned} "
            f"dkim_aligned={d.dkim_aligned}"
        )
    if r.arc is not None and r.arc.result.value != "none":
        lines.append(f"  arc: {r.arc.result.value} ({_clean(r.arc.reason)})")
    lines.append("")
    lines.extend(_clean(line) for line in r.authentication_results.split("\r\n"))
    if r.findings:
        lines.append("")
        lines.append("Findings:")
        for f in r.findings:
            sev = style(f"[{f.severity.value}]", _SEVERITY_COLOUR.get(f.severity), bold=True)
            lines.append(f"  {sev} {f.code}: {_lines(f.detail)}")
            if not f.changes:
                lines.append(f"      fix: {_lines(f.remediation)}")
                continue
            # the proposed records as their changes' zone lines, not the prose's copies
            for n, (_, line) in enumerate(remediation_lines(f)):
                lines.append(("      fix: " if n == 0 else "           ") + _clean(line))
    return "\n".join(lines) + "\n"


def render_html(report: MessageReport) -> str:
    template = environment().get_template("message.html")  # the one environment
    verdict, headline = dmarc_headline(report)
    return template.render(
        r=report,
        generated=report.verified_at,
        tool_version=__version__,
        dmarc_verdict=verdict,
        dmarc_headline=headline,
    )


def render_message(report: MessageReport, fmt: MessageFormat, *, color: bool = False) -> str:
    """`color` applies to the text format only (escape codes would corrupt JSON or HTML)."""
    if fmt is MessageFormat.JSON:
        return render_json(report)
    if fmt is MessageFormat.HTML:
        return render_html(report)
    return render_text(report, color=color)
