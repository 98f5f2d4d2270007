"""What `history`, `diff` and `alerts` show, built from the store as typed values.

Renderers (report/history.py) present these and judge nothing; the JSON forms are these
dataclasses encoded by the report codec, so their shape is the dataclasses' shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..model import DomainReport, Severity
from .blob import BlobError, unpack
from .connect import StoreError
from .diff import AuditDiff, diff_reports
from .schema import blobs, events
from .store import AuditRow, Store

__all__ = [
    "HISTORY_FORMAT",
    "DomainHistory",
    "HistoryEntry",
    "RunDiff",
    "RunDomainChange",
    "StoredEvent",
    "ack_events",
    "diff_domain",
    "diff_runs",
    "domain_history",
    "list_events",
]

HISTORY_FORMAT = "1.0"  # the JSON documents of history, diff and alerts: "format" key


@dataclass(frozen=True)
class StoredEvent:
    id: int
    domain: str
    code: str
    severity: str
    subject: str
    before: str | None
    after: str | None
    audit_id: int
    previous_audit_id: int | None
    created_at: str
    acked_at: str | None


@dataclass(frozen=True)
class HistoryEntry:
    audit_id: int
    run_id: int
    audited_at: str
    status: str
    grade: str | None
    score: int | None
    check_statuses: dict[str, str]  # check -> status; empty when the report is not decodable
    events: tuple[str, ...]  # the codes of the drift events this audit raised
    decodable: bool  # False: stored by a version whose report this one cannot read


@dataclass(frozen=True)
class DomainHistory:
    domain: str
    entries: tuple[HistoryEntry, ...]  # oldest first
    events: tuple[StoredEvent, ...]


def _event(row: Any) -> StoredEvent:
    m = row._mapping
    return StoredEvent(**{k: m[k] for k in StoredEvent.__dataclass_fields__})


def domain_history(store: Store, domain: str, limit: int | None = None) -> DomainHistory:
    rows = store.audits_of(domain, limit)
    reports = store.reports(rows)
    found = [_event(e) for e in _event_rows(store, domain)]
    by_audit: dict[int, list[str]] = {}
    for e in found:
        by_audit.setdefault(e.audit_id, []).append(e.code)
    entries = []
    for row in rows:
        report = reports[row.id]
        statuses = (
            {c.value: o.status.value for c, o in report.checks.items()}
            if isinstance(report, DomainReport)
            else {}
        )
        entries.append(
            HistoryEntry(
                audit_id=row.id,
                run_id=row.run_id,
                audited_at=row.audited_at,
                status=row.status,
                grade=row.grade,
                score=row.score,
                check_statuses=statuses,
                events=tuple(by_audit.get(row.id, ())),
                decodable=isinstance(report, DomainReport),
            )
        )
    ids = {r.id for r in rows}
    return DomainHistory(domain, tuple(entries), tuple(e for e in found if e.audit_id in ids))


def _event_rows(store: Store, domain: str) -> list[Any]:
    with store.transaction(write=False) as conn:
        return list(
            conn.execute(
                select(events)
                .where(events.c.domain == domain)
                .order_by(events.c.created_at, events.c.id)
            )
        )


def diff_domain(store: Store, domain: str) -> AuditDiff:
    """The domain's last two audits compared; StoreError when it has fewer than two."""
    rows = store.audits_of(domain, 2)
    if len(rows) < 2:
        raise StoreError(
            f"{domain} has {len(rows)} stored audit{'s' if len(rows) != 1 else ''}: "
            "a diff needs two"
        )
    return _diff_rows(store, rows[0], rows[1])


def _diff_rows(store: Store, a: AuditRow, b: AuditRow) -> AuditDiff:
    reports = store.reports([a, b])
    ra, rb = reports[a.id], reports[b.id]
    for r in (ra, rb):
        if isinstance(r, StoreError):
            raise r
    assert isinstance(ra, DomainReport) and isinstance(rb, DomainReport)
    return diff_reports(
        ra,
        rb,
        before_audit=a.id,
        after_audit=b.id,
        before_at=a.audited_at,
        after_at=b.audited_at,
    )


@dataclass(frozen=True)
class RunDomainChange:
    domain: str
    grade_before: str | None
    grade_after: str | None
    score_before: int | None
    score_after: int | None
    direction: str  # "better", "worse", "changed" (same score, other facts)
    diff: AuditDiff | None  # None when a report could not be decoded


@dataclass(frozen=True)
class RunDiff:
    run_before: int
    run_after: int
    domains_before: int
    domains_after: int
    only_before: tuple[str, ...]  # audited in the first run only
    only_after: tuple[str, ...]
    unchanged: int
    changes: tuple[RunDomainChange, ...]  # worse first, then better, then changed

    @property
    def worse(self) -> int:
        return sum(1 for c in self.changes if c.direction == "worse")

    @property
    def better(self) -> int:
        return sum(1 for c in self.changes if c.direction == "better")


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    # the query count depends on what the run's cache already held, not on the domain
    return {k: v for k, v in doc.items() if k != "dns_queries"}


def diff_runs(store: Store, run_a: int, run_b: int) -> RunDiff:
    """Two runs compared domain by domain. Identical reports (the same blob, or documents
    equal but for the query count) are counted without being decoded to typed reports, so
    two 100k-domain runs compare in seconds."""
    a, b = store.audits_of_run(run_a), store.audits_of_run(run_b)
    common = sorted(a.keys() & b.keys())
    differing: list[str] = []
    unchanged = 0
    with store.transaction(write=False) as conn:
        for domain in common:
            ra, rb = a[domain], b[domain]
            if ra.blob_id == rb.blob_id:
                unchanged += 1
                continue
            docs = _docs(conn, (ra.blob_id, rb.blob_id))
            if docs is not None and _comparable(docs[0]) == _comparable(docs[1]):
                unchanged += 1
                continue
            differing.append(domain)
    changes = [_domain_change(store, a[d], b[d]) for d in differing]
    order = {"worse": 0, "better": 1, "changed": 2}
    changes.sort(key=lambda c: (order[c.direction], c.domain))
    return RunDiff(
        run_a,
        run_b,
        len(a),
        len(b),
        tuple(sorted(a.keys() - b.keys())),
        tuple(sorted(b.keys() - a.keys())),
        unchanged,
        tuple(changes),
    )


def _docs(conn: Any, ids: tuple[int, int]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    rows = {
        r.id: r
        for r in conn.execute(
            select(blobs.c.id, blobs.c.codec, blobs.c.body).where(blobs.c.id.in_(ids))
        )
    }
    try:
        return (
            unpack(bytes(rows[ids[0]].body), int(rows[ids[0]].codec)),
            unpack(bytes(rows[ids[1]].body), int(rows[ids[1]].codec)),
        )
    except (BlobError, KeyError):
        return None


def _domain_change(store: Store, a: AuditRow, b: AuditRow) -> RunDomainChange:
    try:
        diff: AuditDiff | None = _diff_rows(store, a, b)
    except StoreError:
        diff = None
    if a.score is not None and b.score is not None and a.score != b.score:
        direction = "better" if b.score > a.score else "worse"
    elif a.grade != b.grade:
        direction = (
            "worse"
            if b.grade is None
            else "better"
            if a.grade is None
            else ("better" if b.grade < a.grade else "worse")
        )
    else:
        direction = "changed"
    return RunDomainChange(a.domain, a.grade, b.grade, a.score, b.score, direction, diff)


def list_events(
    store: Store,
    *,
    since: str | None = None,
    domain: str | None = None,
    min_severity: Severity | None = None,
    include_acked: bool = False,
    codes: tuple[str, ...] = (),
) -> list[StoredEvent]:
    query = select(events).order_by(events.c.created_at, events.c.id)
    if since is not None:
        query = query.where(events.c.created_at >= since)
    if domain is not None:
        query = query.where(events.c.domain == domain)
    if not include_acked:
        query = query.where(events.c.acked_at.is_(None))
    if codes:
        query = query.where(events.c.code.in_(codes))
    with store.transaction(write=False) as conn:
        found = [_event(r) for r in conn.execute(query)]
    if min_severity is not None:
        found = [e for e in found if Severity(e.severity).rank >= min_severity.rank]
    return found


def ack_events(store: Store, ids: tuple[int, ...], when: str) -> int:
    """Acknowledge events by id; returns how many were not acknowledged before."""
    with store.transaction() as conn:
        result = conn.execute(
            events.update()
            .where(events.c.id.in_(ids), events.c.acked_at.is_(None))
            .values(acked_at=when)
            .returning(events.c.id)
        )
        return len(result.all())
