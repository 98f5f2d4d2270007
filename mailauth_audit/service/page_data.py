"""What the pages for people show, read from the store as typed values (pages only lay out).

A "group" is, for now, the run (job) that last audited a domain: `group_by_last_run`. The
pages take the grouping as a function (`Grouping`), so named domain groups (schedules) can
replace it without touching the pages or their templates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from ..model import DomainReport
from ..store.schema import audits, runs
from ..store.store import AuditRow, Store
from ..store.views import DomainHistory, domain_history

__all__ = [
    "DomainGroup",
    "DomainLine",
    "DomainPage",
    "Grouping",
    "Overview",
    "RunLabel",
    "domain_page",
    "group_by_last_run",
    "latest_report",
    "overview",
]


@dataclass(frozen=True)
class DomainLine:
    domain: str
    status: str  # DomainStatus of the last audit: completed, invalid
    grade: str | None  # None: not graded (a check could not complete) or invalid
    score: int | None
    audited_at: str
    audit_id: int
    run_id: int

    @property
    def grade_text(self) -> str:
        if self.status != "completed":
            return "invalid"
        return self.grade or "not graded"


@dataclass(frozen=True)
class RunLabel:
    id: int
    kind: str  # check, bulk, import, api
    started_at: str
    finished_at: str | None


@dataclass(frozen=True)
class DomainGroup:
    name: str
    run_id: int | None  # the run whose report the group links to, when it is one run
    domains: tuple[DomainLine, ...]


@dataclass(frozen=True)
class Overview:
    groups: tuple[DomainGroup, ...]
    shown: int  # domains listed
    total: int  # domains in the store (more than shown: the page says the bound cut it)


Grouping = Callable[[Sequence[DomainLine], Mapping[int, RunLabel]], list[DomainGroup]]

# worst first, as bulk's index lists them: not graded (no evidence either way), F ... A, invalid
_RANK = {None: 0, "F": 1, "D": 2, "C": 3, "B": 4, "A": 5}


def _rank(line: DomainLine) -> tuple[int, str]:
    return (6 if line.status != "completed" else _RANK.get(line.grade, 5), line.domain)


def group_by_last_run(
    lines: Sequence[DomainLine], run_labels: Mapping[int, RunLabel]
) -> list[DomainGroup]:
    """One group per run that last audited some domain, newest run first."""
    by_run: dict[int, list[DomainLine]] = {}
    for line in lines:
        by_run.setdefault(line.run_id, []).append(line)
    groups = []
    for run_id in sorted(by_run, reverse=True):
        label = run_labels.get(run_id)
        name = f"Run {run_id}"
        if label is not None:
            name += f" ({label.kind}, {label.started_at[:16].replace('T', ' ')} UTC)"
        groups.append(DomainGroup(name, run_id, tuple(sorted(by_run[run_id], key=_rank))))
    return groups


def overview(store: Store, max_domains: int, grouping: Grouping = group_by_last_run) -> Overview:
    """Every domain's latest audit (the first `max_domains` by name), grouped."""
    newest = func.row_number().over(
        partition_by=audits.c.domain, order_by=(audits.c.audited_at.desc(), audits.c.id.desc())
    )
    ranked = select(
        audits.c.domain,
        audits.c.status,
        audits.c.grade,
        audits.c.score,
        audits.c.audited_at,
        audits.c.id,
        audits.c.run_id,
        newest.label("n"),
    ).subquery()
    with store.transaction(write=False) as conn:
        total = conn.execute(select(func.count(func.distinct(audits.c.domain)))).scalar_one()
        lines = [
            DomainLine(
                str(r.domain),
                str(r.status),
                r.grade,
                r.score,
                str(r.audited_at),
                int(r.id),
                int(r.run_id),
            )
            for r in conn.execute(
                select(
                    ranked.c.domain,
                    ranked.c.status,
                    ranked.c.grade,
                    ranked.c.score,
                    ranked.c.audited_at,
                    ranked.c.id,
                    ranked.c.run_id,
                )
                .where(ranked.c.n == 1)
                .order_by(ranked.c.domain)
                .limit(max_domains)
            )
        ]
        run_ids = sorted({line.run_id for line in lines})
        labels = {
            int(r.id): RunLabel(int(r.id), str(r.kind), str(r.started_at), r.finished_at)
            for r in conn.execute(
                select(runs.c.id, runs.c.kind, runs.c.started_at, runs.c.finished_at).where(
                    runs.c.id.in_(run_ids)
                )
            )
        }
    return Overview(tuple(grouping(lines, labels)), len(lines), int(total))


@dataclass(frozen=True)
class DomainPage:
    history: DomainHistory  # the latest `max_history_points` audits and their events
    total_audits: int  # stored for the domain (more than drawn: the page says so)


def domain_page(store: Store, domain: str, max_points: int) -> DomainPage | None:
    """None when the store holds no audit of `domain`."""
    with store.transaction(write=False) as conn:
        total = conn.execute(
            select(func.count()).select_from(audits).where(audits.c.domain == domain)
        ).scalar_one()
    if not total:
        return None
    return DomainPage(domain_history(store, domain, max_points), int(total))


def latest_report(store: Store, domain: str) -> tuple[AuditRow, DomainReport, object] | None:
    """The domain's latest audit, its report and its run's provenance JSON (None when none);
    None when the store holds no audit of `domain`. StoreError when it cannot be decoded."""
    rows = store.audits_of(domain, limit=1)
    if not rows:
        return None
    row = rows[-1]
    report = store.report(row)
    with store.transaction(write=False) as conn:
        text = conn.execute(
            select(runs.c.kind, runs.c.provenance).where(runs.c.id == row.run_id)
        ).first()
    provenance: object = None
    if text is not None and text.kind != "api" and text.provenance:
        try:
            provenance = json.loads(text.provenance)
        except ValueError:
            provenance = None
    return row, report, provenance
