"""A job's shared state in the store: the job row, its chunks, and their transitions.

`serve` writes a job and its chunks; whoever runs a chunk (a `worker` on any machine, or
`serve` itself on SQLite) reads the chunk's domains from here and records its outcome here,
so every process sees the same job. Every function is one transaction, called from a
thread. The job row is locked (`FOR UPDATE`) by every transition that reads other chunks'
states, so two chunks finishing at once cannot both miss being the last one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from ..store.record import RunInfo, start_run, utc_text
from ..store.schema import audits, runs, service_chunks, service_jobs
from ..store.store import Store

__all__ = [
    "ACTIVE",
    "ChunkWork",
    "begin_chunk",
    "cancel_job",
    "create_job",
    "fail_chunk",
    "finish_chunk",
    "is_cancelled",
    "job_state",
    "pending_jobs",
    "set_task_ids",
]

ACTIVE = ("queued", "running")  # a job in one of these states may still change


@dataclass(frozen=True)
class ChunkWork:
    """What a chunk run must do: the domains of the chunk not yet recorded for the job."""

    job_id: int
    seq: int
    domains: tuple[str, ...]
    already: int  # domains of the chunk recorded by an earlier run of it
    checks: tuple[str, ...]
    audited_at: str  # the run's start: every audit of a job carries it
    run: int  # this run of the chunk, 1 for the first


def create_job(
    store: Store,
    info: RunInfo,
    domains: Sequence[str],
    checks: Sequence[str],
    chunk_size: int,
) -> tuple[int, str, int]:
    """The store run, the job row and its chunks, in one transaction: (id, start, chunks)."""
    parts = [domains[i : i + chunk_size] for i in range(0, len(domains), chunk_size)]
    with store.transaction() as conn:
        run_id, started = start_run(conn, info)
        conn.execute(
            service_jobs.insert().values(
                id=run_id,
                status="queued",
                total=len(domains),
                chunks=len(parts),
                checks=json.dumps(list(checks)),
                created_at=info.started_at,
            )
        )
        if parts:
            conn.execute(
                service_chunks.insert(),
                [
                    {
                        "job_id": run_id,
                        "seq": seq,
                        "domains": json.dumps(list(part)),
                        "size": len(part),
                        "status": "queued",
                    }
                    for seq, part in enumerate(parts)
                ],
            )
    return run_id, started, len(parts)


def set_task_ids(store: Store, job_id: int, task_ids: dict[int, int]) -> None:
    with store.transaction() as conn:
        for seq, task_id in task_ids.items():
            conn.execute(
                service_chunks.update()
                .where(service_chunks.c.job_id == job_id, service_chunks.c.seq == seq)
                .values(task_id=task_id)
            )


def _lock_job(conn: Connection, job_id: int) -> Any:
    return conn.execute(
        select(service_jobs.c.status, service_jobs.c.checks, service_jobs.c.started_at)
        .where(service_jobs.c.id == job_id)
        .with_for_update()
    ).first()


def begin_chunk(store: Store, job_id: int, seq: int) -> ChunkWork | None:
    """The chunk's remaining work, or None when there is none: the job ended (cancelled,
    failed) or the chunk was finished by an earlier run."""
    with store.transaction() as conn:
        job = _lock_job(conn, job_id)
        if job is None or job.status not in ACTIVE:
            return None
        chunk = conn.execute(
            select(service_chunks.c.domains, service_chunks.c.status, service_chunks.c.runs).where(
                service_chunks.c.job_id == job_id, service_chunks.c.seq == seq
            )
        ).first()
        if chunk is None or chunk.status != "queued":
            return None
        now = utc_text()
        if job.status == "queued":
            conn.execute(
                service_jobs.update()
                .where(service_jobs.c.id == job_id)
                .values(status="running", started_at=now)
            )
        conn.execute(
            service_chunks.update()
            .where(service_chunks.c.job_id == job_id, service_chunks.c.seq == seq)
            .values(runs=chunk.runs + 1, updated_at=now)
        )
        names = [str(n) for n in json.loads(chunk.domains)]
        done = set(
            conn.execute(
                select(audits.c.domain).where(audits.c.run_id == job_id, audits.c.domain.in_(names))
            ).scalars()
        )
        started = conn.execute(select(runs.c.started_at).where(runs.c.id == job_id)).scalar_one()
    return ChunkWork(
        job_id,
        seq,
        tuple(n for n in names if n not in done),
        len(done),
        tuple(json.loads(job.checks)),
        str(started),
        int(chunk.runs) + 1,
    )


def finish_chunk(store: Store, job_id: int, seq: int, audited: int, with_errors: int) -> bool:
    """Mark the chunk done; the job is done (and its run finished) when it was the last.
    True when this call finished the job."""
    with store.transaction() as conn:
        job = _lock_job(conn, job_id)
        if job is None:
            return False
        now = utc_text()
        conn.execute(
            service_chunks.update()
            .where(
                service_chunks.c.job_id == job_id,
                service_chunks.c.seq == seq,
                service_chunks.c.status == "queued",
            )
            .values(
                status="done",
                audited=service_chunks.c.audited + audited,
                with_errors=service_chunks.c.with_errors + with_errors,
                updated_at=now,
            )
        )
        if job.status not in ACTIVE:
            return False
        left = conn.execute(
            select(func.count())
            .select_from(service_chunks)
            .where(service_chunks.c.job_id == job_id, service_chunks.c.status != "done")
        ).scalar_one()
        if left:
            return False
        _end_job(conn, job_id, "done", None, now)
        return True


def fail_chunk(store: Store, job_id: int, seq: int, error: str) -> None:
    """The chunk cannot be done (its attempts are spent): it and its job fail."""
    with store.transaction() as conn:
        job = _lock_job(conn, job_id)
        now = utc_text()
        conn.execute(
            service_chunks.update()
            .where(
                service_chunks.c.job_id == job_id,
                service_chunks.c.seq == seq,
                service_chunks.c.status == "queued",
            )
            .values(status="failed", updated_at=now)
        )
        if job is not None and job.status in ACTIVE:
            _end_job(conn, job_id, "failed", error[:2000], now)


def cancel_job(store: Store, job_id: int) -> tuple[str, list[int]] | None:
    """Cancel the job if it is still active: (its status now, the queue ids of its chunks
    that had not finished). None when there is no such job."""
    with store.transaction() as conn:
        job = _lock_job(conn, job_id)
        if job is None:
            return None
        if job.status not in ACTIVE:
            return str(job.status), []
        now = utc_text()
        open_chunks = service_chunks.c.job_id == job_id, service_chunks.c.status == "queued"
        task_ids = [
            int(t)
            for t in conn.execute(select(service_chunks.c.task_id).where(*open_chunks)).scalars()
            if t is not None
        ]
        conn.execute(
            service_chunks.update().where(*open_chunks).values(status="cancelled", updated_at=now)
        )
        _end_job(conn, job_id, "cancelled", "cancelled by a caller", now)
    return "cancelled", task_ids


def _end_job(conn: Connection, job_id: int, status: str, error: str | None, now: str) -> None:
    conn.execute(
        service_jobs.update()
        .where(service_jobs.c.id == job_id)
        .values(status=status, finished_at=now, error=error)
    )
    conn.execute(runs.update().where(runs.c.id == job_id).values(finished_at=now))


def is_cancelled(store: Store, job_id: int) -> bool:
    """True once the job has ended otherwise than by its chunks (cancelled or failed)."""
    with store.transaction(write=False) as conn:
        status = conn.execute(
            select(service_jobs.c.status).where(service_jobs.c.id == job_id)
        ).scalar_one_or_none()
    return status in ("cancelled", "failed")


def job_state(store: Store, job_id: int) -> dict[str, Any] | None:
    """The job as every process sees it, or None when the run is not a service job."""
    with store.transaction(write=False) as conn:
        job = conn.execute(select(service_jobs).where(service_jobs.c.id == job_id)).first()
        if job is None:
            return None
        sums = conn.execute(
            select(
                func.coalesce(func.sum(service_chunks.c.audited), 0),
                func.coalesce(func.sum(service_chunks.c.with_errors), 0),
            ).where(service_chunks.c.job_id == job_id)
        ).one()
        recorded = conn.execute(
            select(func.count()).select_from(audits).where(audits.c.run_id == job_id)
        ).scalar_one()
    state = dict(job._mapping)
    state["checks"] = tuple(json.loads(state["checks"]))
    state["audited_done_chunks"] = int(sums[0])
    state["with_errors"] = int(sums[1])
    state["recorded"] = int(recorded)
    return state


def pending_jobs(store: Store) -> int:
    with store.transaction(write=False) as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(service_jobs)
                .where(service_jobs.c.status.in_(ACTIVE))
            ).scalar_one()
        )
