"""The history page of a domain: the score over time as inline SVG (no scripts), the drift
events as a timeline, each audit's check statuses. Every value is escaped: records and
findings were written by strangers."""

from __future__ import annotations

import html
from collections.abc import Callable

from ..store.diff import AuditDiff
from ..store.views import DomainHistory, HistoryEntry, RunDiff, StoredEvent
from .escape import HTML_KEEP
from .escape import escape as _shown

__all__ = ["diff_html", "history_html", "score_chart_svg"]

_W, _H, _PAD = 640, 180, 28  # chart size and margin, px

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:52rem;padding:0 1rem}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
.sev-critical,.sev-high{color:#a40000}.sev-medium{color:#8a5a00}.sev-low,.sev-info{color:#555}
.grade{font-weight:700}svg{max-width:100%;height:auto}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}td,th{border-color:#333}}
"""


def escape(text: str) -> str:
    """HTML-escaped, with control and bidi characters shown as escapes (report/escape.py)."""
    return html.escape(_shown(text, HTML_KEEP))


def _chart(entries: tuple[HistoryEntry, ...]) -> str:
    graded = [(i, e) for i, e in enumerate(entries) if e.score is not None]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="score over time">'
    ]
    for score in (0, 50, 100):
        y = _y(score)
        parts.append(
            f'<line x1="{_PAD}" y1="{y}" x2="{_W - 4}" y2="{y}" stroke="#bbb" '
            f'stroke-dasharray="2 3"/><text x="2" y="{y + 4}" font-size="11">{score}</text>'
        )
    if graded:
        points = [(_x(i, len(entries)), _y(e.score or 0)) for i, e in graded]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline fill="none" stroke="#2a6fdb" stroke-width="2" points="{path}"/>')
        for (x, y), (_, e) in zip(points, graded, strict=True):
            label = escape(f"{e.audited_at[:16]} {e.grade or ''} {e.score}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#2a6fdb"><title>{label}</title>'
                f'</circle><text x="{x:.1f}" y="{y - 8:.1f}" font-size="11" '
                f'text-anchor="middle">{escape(e.grade or "")}</text>'
            )
    else:
        parts.append(f'<text x="{_W / 2}" y="{_H / 2}" text-anchor="middle">no graded audit</text>')
    parts.append("</svg>")
    return "".join(parts)


def score_chart_svg(entries: tuple[HistoryEntry, ...]) -> str:
    """The score-over-time chart alone (inline SVG, every value escaped): the service's
    domain page draws the same chart as this page."""
    return _chart(entries)


def _x(i: int, n: int) -> float:
    return _PAD + (_W - 2 * _PAD) * (i / (n - 1) if n > 1 else 0.5)


def _y(score: int) -> float:
    return _H - _PAD - (_H - 2 * _PAD) * score / 100


def _event(e: StoredEvent) -> str:
    change = ""
    if e.before is not None or e.after is not None:
        change = f": {e.before or '(none)'} → {e.after or '(none)'}"
    return (
        f'<li id="event-{e.id}"><span class="sev-{escape(e.severity)}">[{escape(e.severity)}]'
        f"</span> {escape(e.created_at[:16].replace('T', ' '))} <code>{escape(e.code)}</code> "
        f"{escape(e.subject)}{escape(change)} "
        f'(<a href="#audit-{e.audit_id}">audit {e.audit_id}</a>)</li>'
    )


def _audit_cell(e: HistoryEntry, report_href: Callable[[int], str] | None) -> str:
    label = f"{e.audit_id} (run {e.run_id})"
    if report_href is None or not e.decodable:
        return label
    return f'<a href="{escape(report_href(e.audit_id))}">report of audit {label}</a>'


def history_html(history: DomainHistory, report_href: Callable[[int], str] | None = None) -> str:
    """The page; `report_href(audit_id)` links each audit to its stored report, when those
    pages are written beside it (`history DOMAIN -f html --output-dir DIR`)."""
    domain = escape(history.domain)
    rows = []
    for e in reversed(history.entries):
        checks = ", ".join(f"{escape(c)}: {escape(s)}" for c, s in e.check_statuses.items())
        if not e.decodable:
            checks = "stored by a version whose report this one cannot read"
        rows.append(
            f'<tr id="audit-{e.audit_id}"><td>{escape(e.audited_at[:16].replace("T", " "))}</td>'
            f'<td class="grade">{escape(e.grade or "–")}</td>'
            f"<td>{'' if e.score is None else e.score}</td><td>{checks}</td>"
            f"<td>{_audit_cell(e, report_href)}</td></tr>"
        )
    events = "".join(_event(e) for e in reversed(history.events)) or "<li>no drift events</li>"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{domain}: audit history</title><style>{_CSS}</style></head><body>"
        f"<h1>{domain}: audit history</h1>"
        f"<p>{len(history.entries)} audits stored.</p>"
        f"<h2>Score over time</h2>{_chart(history.entries)}"
        f"<h2>What changed</h2><ul>{events}</ul>"
        "<h2>Audits</h2><table><thead><tr><th>When (UTC)</th><th>Grade</th><th>Score</th>"
        f"<th>Checks</th><th>Audit</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</body></html>\n"
    )


def diff_html(view: AuditDiff | RunDiff, report_href: Callable[[int], str] | None = None) -> str:
    """A domain's diff or a run diff as one page (templates/diff.html, autoescaped).
    `report_href(audit_id)` links each audit to its stored report, when those are written."""
    from ..version import __version__
    from .html import environment

    context: dict[str, object]
    if isinstance(view, RunDiff):
        title, at = f"Run {view.run_before} → run {view.run_after}", ""
        context = {"run_diff": view, "diff": None}
    else:
        title, at = f"{view.domain}: what changed", view.after_at or ""
        context = {"run_diff": None, "diff": view}
    return (
        environment()
        .get_template("diff.html")
        .render(
            **context,
            title=title,
            report_href=report_href,
            generated=at[:19].replace("T", " ") or "-",
            tool_version=__version__,
        )
    )
