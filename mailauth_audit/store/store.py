"""The store as the rest of the package sees it: open, record, read back, prune.

Every method is one transaction. Errors of the database come out as `StoreError`
(`StoreUnavailable` when trying again later may work), never as driver exceptions.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, or_, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..model import AuditRun, DomainReport, Severity
from ..options import StoreLimits
from ..report.codec import encode_value, to_json
from ..version import __version__
from .connect import READ_ONLY_OPTION, StoreError, classify, make_engine, migrate
from .record import (
    RecordResult,
    RunInfo,
    load_report,
    record_documents,
    start_run,
    utc_text,
)
from .schema import audits, blobs, events, runs

__all__ = ["AuditRow", "Store", "open_store", "results_run_key"]


@dataclass(frozen=True)
class AuditRow:
    """One stored audit as history lists it."""

    id: int
    run_id: int
    domain: str
    audited_at: str
    status: str
    grade: str | None
    score: int | None
    blob_id: int


def open_store(url: str, limits: StoreLimits | None = None) -> Store:
    """Connect and bring the schema up to date; StoreError before any work when it cannot."""
    engine = make_engine(url, limits)
    migrate(engine)
    return Store(engine, limits or StoreLimits())


class Store:
    def __init__(self, engine: Engine, limits: StoreLimits) -> None:
        self.engine = engine
        self.limits = limits

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Connection]:
        """One transaction; `write=False` for reading ones, which SQLite then does not
        serialise behind the writers."""
        try:
            with self.engine.connect() as conn:
                if not write:
                    conn.execution_options(**{READ_ONLY_OPTION: True})
                with conn.begin():
                    yield conn
        except StoreError:
            raise
        except DBAPIError as exc:
            raise classify(exc, self.engine) from None
        except SQLAlchemyError as exc:
            raise StoreError(f"store failed: {exc}") from None

    # ---- recording --------------------------------------------------------------------

    def record_run(
        self, run: AuditRun, kind: str = "check", threshold: Severity = Severity.HIGH
    ) -> RecordResult:
        """Record every report of a `check` run (its own run in the store)."""
        info = RunInfo(
            kind=kind,
            started_at=run.started_at,
            tool_version=run.tool_version or __version__,
            provenance=encode_value(run.provenance) if run.provenance is not None else None,
        )
        with self.transaction() as conn:
            run_id, started = start_run(conn, info)
            result = record_documents(
                conn, run_id, started, (to_json(r) for r in run.domains), threshold
            )
            conn.execute(
                runs.update()
                .where(runs.c.id == run_id)
                .values(finished_at=utc_text(run.finished_at))
            )
        return result

    def start_run(self, info: RunInfo) -> tuple[int, str]:
        with self.transaction() as conn:
            return start_run(conn, info)

    def record_documents(
        self,
        run_id: int,
        started: str,
        docs: Iterable[dict[str, Any]],
        threshold: Severity = Severity.HIGH,
        *,
        durable: bool = True,
    ) -> RecordResult:
        """durable=False: PostgreSQL commits without waiting for the write-ahead log to
        reach the disk (synchronous_commit off, this transaction only). For documents whose
        results file is the record of truth: a crash may lose the last batches from the
        store, never from the file, and `history import` adds them back."""
        with self.transaction() as conn:
            if not durable and conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            return record_documents(conn, run_id, started, docs, threshold)

    def finish_run(self, run_id: int, finished_at: str | None = None) -> None:
        with self.transaction() as conn:
            conn.execute(
                runs.update().where(runs.c.id == run_id).values(finished_at=utc_text(finished_at))
            )

    # ---- reading ----------------------------------------------------------------------

    def audits_of(self, domain: str, limit: int | None = None) -> list[AuditRow]:
        """A domain's audits, oldest first (the last `limit` when given)."""
        query = (
            select(*_AUDIT_COLUMNS)
            .where(audits.c.domain == domain)
            .order_by(audits.c.audited_at.desc(), audits.c.id.desc())
        )
        if limit is not None:
            query = query.limit(limit)
        with self.transaction(write=False) as conn:
            rows = [AuditRow(*r) for r in conn.execute(query)]
        return rows[::-1]

    def audits_of_run(self, run_id: int) -> dict[str, AuditRow]:
        with self.transaction(write=False) as conn:
            if conn.execute(select(runs.c.id).where(runs.c.id == run_id)).first() is None:
                raise StoreError(f"no run {run_id} in the store")
            rows = conn.execute(select(*_AUDIT_COLUMNS).where(audits.c.run_id == run_id))
            return {r.domain: AuditRow(*r) for r in rows}

    def report(self, audit: AuditRow) -> DomainReport:
        """The typed report of an audit; StoreError when this version cannot decode it."""
        with self.transaction(write=False) as conn:
            return load_report(conn, audit.blob_id)

    def reports(self, rows: Iterable[AuditRow]) -> dict[int, DomainReport | StoreError]:
        """Many audits' reports in one transaction; an undecodable one is its error."""
        out: dict[int, DomainReport | StoreError] = {}
        with self.transaction(write=False) as conn:
            for row in rows:
                try:
                    out[row.id] = load_report(conn, row.blob_id)
                except StoreError as exc:
                    out[row.id] = exc
        return out

    def events_of(self, domain: str) -> list[dict[str, Any]]:
        with self.transaction(write=False) as conn:
            rows = conn.execute(
                select(events)
                .where(events.c.domain == domain)
                .order_by(events.c.created_at, events.c.id)
            )
            return [dict(r._mapping) for r in rows]

    def runs(self) -> list[dict[str, Any]]:
        with self.transaction(write=False) as conn:
            counts = (
                select(audits.c.run_id, func.count().label("audits"))
                .group_by(audits.c.run_id)
                .subquery()
            )
            rows = conn.execute(
                select(runs, counts.c.audits)
                .join(counts, counts.c.run_id == runs.c.id, isouter=True)
                .order_by(runs.c.id)
            )
            return [dict(r._mapping) for r in rows]

    def stored_bytes(self) -> dict[str, int]:
        """Audits, blobs and their compressed bytes: what the benchmark divides."""
        with self.transaction(write=False) as conn:
            n_audits = conn.execute(select(func.count()).select_from(audits)).scalar_one()
            n_blobs = conn.execute(select(func.count()).select_from(blobs)).scalar_one()
            body = conn.execute(
                select(func.coalesce(func.sum(func.length(blobs.c.body)), 0))
            ).scalar_one()
        return {"audits": int(n_audits), "blobs": int(n_blobs), "blob_bytes": int(body)}

    # ---- retention --------------------------------------------------------------------

    def prune(self, older_than: str) -> int:
        """Delete audits before `older_than`, keeping each domain's last audit; then the
        blobs and runs nothing refers to any more. Returns the audits deleted."""
        cutoff = utc_text(older_than)
        later = audits.alias("later")
        has_later = (
            select(later.c.id)
            .where(
                later.c.domain == audits.c.domain,
                or_(
                    later.c.audited_at > audits.c.audited_at,
                    and_(later.c.audited_at == audits.c.audited_at, later.c.id > audits.c.id),
                ),
            )
            .exists()
        )
        with self.transaction() as conn:
            gone = conn.execute(
                delete(audits).where(audits.c.audited_at < cutoff, has_later)
            ).rowcount
            conn.execute(delete(blobs).where(blobs.c.id.not_in(select(audits.c.blob_id))))
            conn.execute(delete(runs).where(runs.c.id.not_in(select(audits.c.run_id))))
        return int(gone or 0)


_AUDIT_COLUMNS = (
    audits.c.id,
    audits.c.run_id,
    audits.c.domain,
    audits.c.audited_at,
    audits.c.status,
    audits.c.grade,
    audits.c.score,
    audits.c.blob_id,
)


def results_run_key(results: Path, first_line: bytes) -> str:
    """A bulk run's identity: its folder and its first results line. Live recording, a
    resumed run and a later `history import` of the same file (or its .gz) agree on it."""
    folder = os.path.realpath(results.parent)
    return "bulk:" + hashlib.sha256(folder.encode() + b"\n" + first_line.strip()).hexdigest()[:40]


def provenance_json(value: Any) -> str:
    return json.dumps(value)
