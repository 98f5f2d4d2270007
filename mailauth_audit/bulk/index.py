"""The index pages of a bulk run, written into its folder: every domain listed, worst grade
first, read back from the CSV-rows file one pass per grade, so a run of millions of domains
is listed without holding it in memory. The pages themselves are report/bulk_index.py's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..model import CheckId, Severity
from ..outputs import write_output
from ..report.bulk_index import INDEX_PAGE_SIZE, DomainRow, render_index
from ..report.csvout import CSV_COLUMNS, NOT_GRADED
from .folder import CSV_ROWS_NAME, INDEX_NAME, read_rows

__all__ = ["INDEX_PAGE_SIZE", "index_page_name", "write_index"]

# the order of the listing: not graded first (no evidence either way), then worst grade
GRADE_ORDER = (NOT_GRADED, "F", "D", "C", "B", "A", "")
_PAGE_SAFE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def _rows(out: Path, pages: str | None) -> Iterator[DomainRow]:
    col = {name: i for i, name in enumerate(CSV_COLUMNS)}
    path = out / CSV_ROWS_NAME
    if not path.exists():
        return
    for grade in GRADE_ORDER:
        for _key, cells in read_rows(path):
            if len(cells) > len(CSV_COLUMNS):
                continue
            # a row written before columns were appended (a run resumed by a newer version)
            cells = [*cells, *[""] * (len(CSV_COLUMNS) - len(cells))]
            g = cells[col["grade"]]
            if (g if g in GRADE_ORDER else "") != grade:
                continue
            domain, status = cells[col["domain"]], cells[col["status"]]
            linked = pages and status == "completed" and _PAGE_SAFE.match(domain)
            yield DomainRow(
                domain=domain,
                status=status,
                grade=g,
                score=cells[col["score"]],
                provisional_score=cells[col["provisional_score"]],
                checks=tuple(cells[col[f"{c.value}_status"]] for c in CheckId),
                counts=tuple(
                    (s.value, int(cells[col[f"findings_{s.value}"]] or 0))
                    for s in Severity
                    if s is not Severity.INFO
                ),
                page=f"{pages}/{domain}.html" if linked else None,
            )


def index_page_name(number: int) -> str:
    return INDEX_NAME if number == 1 else f"index-{number}.html"


def write_index(out: Path, summary: dict[str, Any]) -> int:
    """index.html and its further pages, every domain of the run listed; returns the pages."""
    total = sum(1 for _ in read_rows(out / CSV_ROWS_NAME)) if (out / CSV_ROWS_NAME).exists() else 0
    pages = max(1, -(-total // INDEX_PAGE_SIZE))
    names = tuple(index_page_name(n) for n in range(1, pages + 1))
    number, chunk = 1, []
    for row in _rows(out, summary.get("pages")):
        chunk.append(row)
        if len(chunk) == INDEX_PAGE_SIZE:
            html = render_index(
                summary, tuple(chunk), page=number, pages=pages, listed=total, page_names=names
            )
            write_output(out / index_page_name(number), html)
            number, chunk = number + 1, []
    if chunk or number == 1:
        html = render_index(
            summary, tuple(chunk), page=number, pages=pages, listed=total, page_names=names
        )
        write_output(out / index_page_name(number), html)
    return pages
