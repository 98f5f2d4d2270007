"""A stored run's HTML index (the page `bulk --html` writes), and its results as rows.

The summary is counted the way a bulk run counts it (`bulk.summary`), from the stored
documents read in batches: memory stays flat however many domains the run has. Only the
listed page's domains are decoded to typed reports (for their CSV-style row); the others
are counted from their documents (`digest`, ~20x cheaper than decoding). The listing is
ordered as bulk's: not graded first, then worst grade first, from the audits table alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..bulk.summary import BulkSummary, digest
from ..model import CheckId, DomainReport, Severity
from ..report.bulk_index import INDEX_PAGE_SIZE, DomainRow, render_index
from ..report.csvout import CSV_COLUMNS, NOT_GRADED, domain_csv_row
from ..report.serialize import TOOL_NAME
from ..store.blob import BlobError, unpack
from ..store.connect import StoreError
from ..store.schema import audits, blobs, runs
from ..store.store import AuditRow, Store
from ..version import __version__

__all__ = [
    "BATCH",
    "RunTooLarge",
    "csv_lines",
    "jsonl_lines",
    "ordered_rows",
    "row_batches",
    "run_index_page",
]

BATCH = 200  # audits decoded per store transaction while streaming
GRADE_ORDER = (NOT_GRADED, "F", "D", "C", "B", "A", "")  # as bulk/index.py lists them


class RunTooLarge(Exception):
    """The run has more audits than one index page request may count."""


def ordered_rows(store: Store, run_id: int, order: Sequence[str] = ()) -> list[AuditRow]:
    """The run's audits in the order the job named its domains (the rest by name);
    LookupError when there is no such run."""
    try:
        rows = store.audits_of_run(run_id)
    except StoreError as exc:
        if f"no run {run_id}" in str(exc):
            raise LookupError(run_id) from None
        raise
    ranked = {name: i for i, name in enumerate(order)}
    return sorted(rows.values(), key=lambda r: (ranked.get(r.domain, len(ranked)), r.domain))


def row_batches(
    store: Store, run_id: int, order: Sequence[str] = ()
) -> Iterator[Sequence[AuditRow]]:
    """The run's audits, BATCH at a time: in the job's order when it is known (a job in
    memory: at most `max_domains_per_request` names), else by name, read a batch per query
    (keyset on the name) so a run of millions of domains is never held whole. LookupError,
    raised here rather than while iterating, when there is no such run."""
    if order:
        rows = ordered_rows(store, run_id, order)
        return (rows[i : i + BATCH] for i in range(0, len(rows), BATCH))
    with store.transaction(write=False) as conn:
        if conn.execute(select(runs.c.id).where(runs.c.id == run_id)).first() is None:
            raise LookupError(run_id)
    return _by_name(store, run_id)


_COLUMNS = (  # AuditRow's fields, in its order
    audits.c.id,
    audits.c.run_id,
    audits.c.domain,
    audits.c.audited_at,
    audits.c.status,
    audits.c.grade,
    audits.c.score,
    audits.c.blob_id,
)


def _by_name(store: Store, run_id: int) -> Iterator[Sequence[AuditRow]]:
    last = ""
    while True:
        with store.transaction(write=False) as conn:
            batch = [
                AuditRow(*r)
                for r in conn.execute(
                    select(*_COLUMNS)
                    .where(audits.c.run_id == run_id, audits.c.domain > last)
                    .order_by(audits.c.domain)
                    .limit(BATCH)
                )
            ]
        if not batch:
            return
        yield batch
        last = batch[-1].domain


def _reports(
    store: Store, batches: Iterable[Sequence[AuditRow]]
) -> Iterator[tuple[AuditRow, DomainReport | StoreError]]:
    for batch in batches:
        found = store.reports(batch)
        for row in batch:
            yield row, found[row.id]


def jsonl_lines(store: Store, batches: Iterable[Sequence[AuditRow]]) -> Iterator[bytes]:
    """One report per line, the JSON of `check -f json` (the codec); a report this version
    cannot decode is a line naming its domain and why."""
    from ..report.codec import to_json

    for row, report in _reports(store, batches):
        if isinstance(report, StoreError):
            doc: dict[str, Any] = {"domain": row.domain, "error": str(report)}
        else:
            doc = to_json(report)
        yield (json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8")


def _csv_line(cells: Sequence[str]) -> bytes:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue().encode("utf-8")


def csv_lines(store: Store, batches: Iterable[Sequence[AuditRow]]) -> Iterator[bytes]:
    """The columns of `bulk`'s results.csv (`CSV_COLUMNS`), one row per domain, in the same
    CSV dialect; an undecodable report is a row with its domain and the reason in `error`."""
    yield _csv_line(CSV_COLUMNS)
    for row, report in _reports(store, batches):
        if isinstance(report, StoreError):
            cells = dict.fromkeys(CSV_COLUMNS, "")
            cells.update(domain=row.domain, status=row.status, error=str(report))
        else:
            cells = domain_csv_row(report)
        yield _csv_line([cells.get(c, "") for c in CSV_COLUMNS])


def _grade_key(row: AuditRow) -> str:
    if row.status != "completed":
        return ""
    return NOT_GRADED if row.grade is None else row.grade


@dataclass(frozen=True)
class _RunInfo:
    kind: str
    started_at: str
    finished_at: str | None
    tool_version: str
    provenance: Any


def _run_info(store: Store, run_id: int) -> _RunInfo:
    with store.transaction(write=False) as conn:
        row = conn.execute(
            select(
                runs.c.kind,
                runs.c.started_at,
                runs.c.finished_at,
                runs.c.tool_version,
                runs.c.provenance,
            ).where(runs.c.id == run_id)
        ).first()
    if row is None:
        raise LookupError(run_id)
    try:
        provenance = json.loads(row.provenance) if row.provenance else None
    except ValueError:
        provenance = None
    return _RunInfo(
        str(row.kind), str(row.started_at), row.finished_at, str(row.tool_version), provenance
    )


def _documents(store: Store, rows: Sequence[AuditRow]) -> Iterator[dict[str, Any] | None]:
    """The stored documents of `rows`, in batches; None for one that cannot be read."""
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        ids = [r.id for r in chunk]
        with store.transaction(write=False) as conn:
            bodies = {
                r.id: (int(r.codec), bytes(r.body))
                for r in conn.execute(
                    select(audits.c.id, blobs.c.codec, blobs.c.body)
                    .join(blobs, blobs.c.id == audits.c.blob_id)
                    .where(audits.c.id.in_(ids))
                )
            }
        for row in chunk:
            codec, body = bodies[row.id]
            try:
                yield unpack(body, codec)
            except BlobError:
                yield None


def _seconds(start: str, end: str | None) -> float:
    if end is None:
        return 0.0
    try:
        return round(
            (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds(), 3
        )
    except ValueError:
        return 0.0


def run_summary(store: Store, run_id: int, rows: Sequence[AuditRow]) -> dict[str, Any]:
    """What bulk's summary.json says of a run, counted from the store."""
    info = _run_info(store, run_id)
    counted = BulkSummary()
    for doc in _documents(store, rows):
        if doc is not None:
            counted.add(digest(doc))
    described = info.provenance if isinstance(info.provenance, dict) else {}
    total = described.get("domains") if info.kind == "api" else None
    return {
        "tool": {"name": TOOL_NAME, "version": info.tool_version or __version__},
        "complete": info.finished_at is not None,
        "started_at": info.started_at,
        "finished_at": info.finished_at or "(not finished)",
        "elapsed_seconds": _seconds(info.started_at, info.finished_at),
        "domains_total": total if isinstance(total, int) else len(rows),
        "domains_reported_before_resume": 0,
        "domains_reported_this_run": len(rows),
        "input": None,
        "options": {
            "checks": sorted(counted.checks) or [c.value for c in CheckId],
            "audit_date": None,
            "max_selectors": None,
        },
        "pages": None,
        # a bulk run's Provenance; an API run's JSON is its request's shape, not one
        "provenance": info.provenance if info.kind != "api" else None,
        **counted.to_json(),
    }


def _domain_row(report: DomainReport, href: str | None) -> DomainRow:
    cells = domain_csv_row(report)
    return DomainRow(
        domain=report.domain,
        status=cells["status"],
        grade=cells["grade"],
        score=cells["score"],
        provisional_score=cells["provisional_score"],
        checks=tuple(cells[f"{c.value}_status"] for c in CheckId),
        counts=tuple(
            (s.value, int(cells[f"findings_{s.value}"] or 0))
            for s in Severity
            if s is not Severity.INFO
        ),
        page=href,
    )


def run_index_page(
    store: Store,
    run_id: int,
    page: int,
    *,
    max_domains: int,
    page_href: str = "report?page={}",
    domain_href: str | None = None,
    results_links: tuple[tuple[str, str], ...] = (),
) -> str | None:
    """Page `page` of the run's index; None when the run has no such page; LookupError when
    there is no run; RunTooLarge past `max_domains` audits. `domain_href` ("{}" is the
    domain) links each listed domain to its page."""
    with store.transaction(write=False) as conn:
        count = conn.execute(
            select(func.count()).select_from(audits).where(audits.c.run_id == run_id)
        ).scalar_one()
    if count > max_domains:
        raise RunTooLarge(
            f"run {run_id} has {count} domains; its index page counts at most "
            f"{max_domains} (ServiceLimits.max_report_domains): read its results as CSV "
            "or JSON lines instead"
        )
    rows = ordered_rows(store, run_id)
    pages = max(1, -(-len(rows) // INDEX_PAGE_SIZE))
    if not 1 <= page <= pages:
        return None
    listed = sorted(rows, key=lambda r: (GRADE_ORDER.index(_grade_key(r)), r.domain))
    chosen = listed[(page - 1) * INDEX_PAGE_SIZE : page * INDEX_PAGE_SIZE]
    shown = []
    for row, report in _reports(store, [chosen]):
        if isinstance(report, DomainReport):
            linked = domain_href.format(row.domain) if domain_href else None
            shown.append(_domain_row(report, linked if row.status == "completed" else None))
    summary = run_summary(store, run_id, rows)
    return render_index(
        summary,
        tuple(shown),
        page=page,
        pages=pages,
        listed=len(rows),
        page_names=tuple(page_href.format(n) for n in range(1, pages + 1)),
        results_links=results_links,
    )
