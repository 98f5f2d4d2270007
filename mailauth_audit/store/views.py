"""What `history`, `diff` and `alerts` show, built from the store as typed values.

Renderers (report/history.py) present these and judge nothing; the JSON forms are these
dataclasses encoded by the report codec, so their shape is the dataclasses' shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..model import DomainReport, Severity
from .connect import StoreError
from .diff import AuditDiff, diff_reports
from .reports import answering_servers
from .rundiff import RunDiff, RunDomainChange, diff_runs
from .schema import events
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
    servers = answering_servers(store, {a.run_id, b.run_id})
    return diff_reports(
        ra,
        rb,
        before_audit=a.id,
        after_audit=b.id,
        before_at=a.audited_at,
        after_at=b.audited_at,
        before_server=servers.get(a.run_id),
        after_server=servers.get(b.run_id),
    )


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
