"""The index pages of a bulk run: the summary as tables and inline-SVG bar charts.

Everything is computed here (bar lengths, colours) so the template only lays it out; the
page has no scripts and loads nothing (a Content-Security-Policy says so), because reports
are mailed around and opened from disk. Autoescaping is on: domain names and finding codes
in the summary come from the input list and from DNS.

Every domain of the run is listed, worst grade first, INDEX_PAGE_SIZE to a page (index.html,
index-2.html, …). This module only renders a page from the summary and that page's rows;
bulk/index.py reads the rows back from the run folder and writes the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..model import CheckId, Provenance
from .codec import CodecError, decode_value
from .html import environment
from .provenance import banner, sources_line

__all__ = ["INDEX_PAGE_SIZE", "Bar", "Chart", "DomainRow", "charts", "render_index"]

INDEX_PAGE_SIZE = 200  # domains listed on each index page

TEMPLATE = "bulk_index.html.j2"

STATUS_COLOURS = {
    "pass": "#2e7d32",
    "warn": "#f9a825",
    "fail": "#c62828",
    "error": "#6a1b9a",
    "skipped": "#9e9e9e",
}
POLICY_COLOURS = {
    "reject": "#2e7d32",
    "quarantine": "#9e9d24",
    "none": "#f9a825",
    "no_record": "#c62828",
}
GRADE_COLOURS = {
    "A": "#2e7d32",
    "B": "#7cb342",
    "C": "#f9a825",
    "D": "#ef6c00",
    "F": "#c62828",
    "not graded": "#616161",
    "invalid": "#9e9e9e",
}
NEUTRAL = "#1565c0"
CHART_WIDTH = 300  # px of the longest bar


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    width: int  # px, proportional to value within its chart
    colour: str
    percent: float  # of the chart's total


@dataclass(frozen=True)
class Chart:
    title: str
    bars: tuple[Bar, ...]
    note: str = ""

    @property
    def height(self) -> int:
        return 22 * len(self.bars) + 4


def _chart(
    title: str, items: list[tuple[str, int]], colour: Callable[[str], str], note: str = ""
) -> Chart:
    top = max((v for _, v in items), default=0) or 1
    total = sum(v for _, v in items) or 1
    bars = tuple(
        Bar(
            label,
            v,
            max(1 if v else 0, round(CHART_WIDTH * v / top)),
            colour(label),
            round(100.0 * v / total, 1),
        )
        for label, v in items
    )
    return Chart(title, bars, note)


def _spf_buckets(dist: dict[str, int]) -> list[tuple[str, int]]:
    counts = {int(k): v for k, v in dist.items()}
    items = [(str(n), counts.get(n, 0)) for n in range(11)]
    items.append(("11-15", sum(v for k, v in counts.items() if 11 <= k <= 15)))
    items.append(("16+", sum(v for k, v in counts.items() if k >= 16)))
    return items


def charts(summary: dict[str, Any]) -> list[Chart]:
    out = [
        _chart(
            "Grades",
            [
                *((g, summary["grades"].get(g, 0)) for g in "ABCDF"),
                ("not graded", summary["grades"].get("not_graded", 0)),
                ("invalid", summary["grades"].get("invalid", 0)),
            ],
            lambda g: GRADE_COLOURS.get(g, NEUTRAL),
            "not graded: a check could not complete (DNS timeout, SERVFAIL, REFUSED...), so "
            "there is no evidence for a grade; such domains are never counted as A-F.",
        ),
        _chart(
            "DMARC policy in effect",
            list(summary["dmarc_policy"].items()),
            lambda p: POLICY_COLOURS.get(p, NEUTRAL),
            "no_record: no DMARC record applies (neither the domain's nor its parent's).",
        ),
        _chart(
            "SPF DNS lookups (RFC 7208 §4.6.4 limit: 10)",
            _spf_buckets(summary["spf_lookups"]),
            lambda b: "#c62828" if not b.isdigit() else NEUTRAL,
            "Domains with one SPF record; above 10 receivers return permerror.",
        ),
        _chart(
            "DKIM keys found",
            [*summary["dkim_keys"].items(), ("no key found", summary["domains_without_dkim_key"])],
            lambda k: (
                "#c62828"
                if k in ("rsa512", "rsa768", "revoked", "unusable")
                else ("#9e9e9e" if k == "no key found" else NEUTRAL)
            ),
            "One bar per key size over every selector found; selectors outside the probed "
            "list cannot be seen.",
        ),
    ]
    return out


def status_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One stacked bar per check: the share of each status."""
    rows = []
    for cid, counts in sorted(summary["checks"].items(), key=lambda kv: _check_rank(kv[0])):
        total = sum(counts.values()) or 1
        x = 0.0
        parts = []
        for status in STATUS_COLOURS:
            n = counts.get(status, 0)
            if not n:
                continue
            w = CHART_WIDTH * n / total
            parts.append(
                {
                    "status": status,
                    "n": n,
                    "x": round(float(x), 1),
                    "w": round(w, 1),
                    "colour": STATUS_COLOURS[status],
                }
            )
            x += w
        rows.append({"check": cid, "parts": parts, "counts": counts})
    return rows


def _check_rank(name: str) -> int:
    """MX, SPF, DKIM, DMARC: the order of every report, not the alphabet's."""
    order = [c.value for c in CheckId]
    return order.index(name) if name in order else len(order)


@dataclass(frozen=True)
class LegendItem:
    label: str
    colour: str
    x: int  # of the swatch; the label starts 14 px to its right


def legend(start: int = 60) -> tuple[tuple[LegendItem, ...], int]:
    """Legend items spaced by their label's length (7 px a character at 12 px), and its end."""
    items = []
    x = start
    for status, colour in STATUS_COLOURS.items():
        items.append(LegendItem(status, colour, x))
        x += 14 + 7 * len(status) + 16
    return tuple(items), x


@dataclass(frozen=True)
class DomainRow:
    """One line of the listing, read from a CSV row."""

    domain: str
    status: str
    grade: str
    score: str
    provisional_score: str
    checks: tuple[str, ...]  # statuses in CheckId order ("" when not run)
    counts: tuple[tuple[str, int], ...]  # severity, findings (info left out)
    page: str | None  # href of the domain's page, when it has one


def render_index(
    summary: dict[str, Any],
    rows: tuple[DomainRow, ...] = (),
    *,
    page: int = 1,
    pages: int = 1,
    listed: int | None = None,
    page_names: tuple[str, ...] = ("index.html",),
    results_links: tuple[tuple[str, str], ...] = (),
) -> str:
    """One page of the index: the run's summary and `rows`, the domains of page `page`;
    `page_names` are the pages' file names (the folder's business, bulk/index.py).
    `results_links` (label, href): where the full results are, when not the folder's files
    (the service's endpoints)."""
    items, legend_end = legend()
    first = (page - 1) * INDEX_PAGE_SIZE + 1
    provenance = _provenance(summary)
    return (
        environment()
        .get_template(TEMPLATE)
        .render(
            s=summary,
            charts=charts(summary),
            status_rows=status_rows(summary),
            chart_width=CHART_WIDTH,
            status_colours=STATUS_COLOURS,
            legend=items,
            legend_width=max(CHART_WIDTH + 90, legend_end),
            top_codes=list(summary["findings_by_code"].items())[:25],
            check_names=[c.value for c in CheckId],
            rows=rows,
            page=page,
            pages=pages,
            page_names=list(page_names),
            first=first,
            listed=summary["domains"] if listed is None else listed,
            tool_version=summary["tool"]["version"],
            generated=summary["finished_at"],
            # where the answers came from, as every report's header says (report/provenance.py)
            provenance_banner=banner(provenance),
            provenance_line=sources_line(provenance) if provenance is not None else None,
            results_links=results_links,
        )
    )


def _provenance(summary: dict[str, Any]) -> Provenance | None:
    """summary.json's provenance read back; None when it has none (or not in this shape)."""
    try:
        value = decode_value(Provenance, summary.get("provenance"))
    except CodecError:
        return None
    return value if isinstance(value, Provenance) else None
