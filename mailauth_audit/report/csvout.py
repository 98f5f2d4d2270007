"""CSV: one row per domain, for spreadsheets and pipelines that want a flat table.

`CSV_COLUMNS` and `domain_csv_row` are public so that every CSV the tool writes (this
renderer, bulk-audit result files) has the same columns in the same order. The JSON stays the
complete form; a row only says how each check ended, the grade and how many findings of each
severity there are.

A domain that is not graded (a check could not complete) has `-` as its grade and score, the
reason in `not_graded_reason` and the score of what did complete in `provisional_score`; the
two columns were appended at the end so that existing column positions do not move.
"""

from __future__ import annotations

import csv
import io

from ..model import CheckId, DomainReport, Provenance, Severity
from .provenance import source_text
from .score import DomainScore, GradeStatus

CSV_COLUMNS: tuple[str, ...] = (
    "domain",
    "status",
    "grade",
    "score",
    "score_complete",
    *(f"{cid.value}_status" for cid in CheckId),
    *(f"findings_{sev.value}" for sev in Severity),
    "dns_queries",
    "error",
    "provisional_score",
    "not_graded_reason",
)
NOT_GRADED = "-"  # the grade and score cells of a domain that is not graded


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas: DNS names and error messages are written by others."""
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def domain_csv_row(report: DomainReport, score: DomainScore | None = None) -> dict[str, str]:
    """One domain as a row keyed by `CSV_COLUMNS` (every value a string; "" when absent).
    `score`: score_domain(report), when the caller has it already."""
    s = score if score is not None else report.verdict
    not_graded = s.grade_status is GradeStatus.NOT_GRADED
    row: dict[str, str] = {
        "domain": _cell(report.domain),
        "status": report.status.value,
        "grade": NOT_GRADED if not_graded else s.grade or "",
        "score": NOT_GRADED if not_graded else "" if s.score is None else str(s.score),
        "score_complete": "true" if s.complete else "false",
        "dns_queries": str(report.dns_queries),
        "error": _cell(report.error or ""),
        "provisional_score": "" if s.provisional_score is None else str(s.provisional_score),
        "not_graded_reason": _cell(s.not_graded_reason or "") if not_graded else "",
    }
    for cid in CheckId:
        outcome = report.checks.get(cid)
        row[f"{cid.value}_status"] = outcome.status.value if outcome else ""
    for sev in Severity:
        row[f"findings_{sev.value}"] = str(getattr(s, sev.value))
    return row


# `check --format csv` only: where the answers came from, the same on every row (a bulk
# run says it once, in summary.json)
PROVENANCE_COLUMNS: tuple[str, ...] = ("source_mode", "sources", "collected_at", "tool_version")


def provenance_cells(p: Provenance | None) -> dict[str, str]:
    if p is None:
        return dict.fromkeys(PROVENANCE_COLUMNS, "")
    return {
        "source_mode": p.mode.value,
        "sources": _cell("; ".join(source_text(s) for s in p.sources)),
        "collected_at": p.collected_at,
        "tool_version": p.tool_version,
    }


def csv_text(
    reports: list[DomainReport] | tuple[DomainReport, ...], provenance: Provenance | None = None
) -> str:
    buf = io.StringIO()
    columns = CSV_COLUMNS + PROVENANCE_COLUMNS
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    cells = provenance_cells(provenance)
    for report in reports:
        writer.writerow({**domain_csv_row(report), **cells})
    return buf.getvalue()
