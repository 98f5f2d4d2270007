"""Audit jobs: one store run per job, split into chunks, reports recorded as they finish.

Every database call runs in a worker thread (`asyncio.to_thread`) and, on SQLite, every
audit in a child process (job_process.py): the event loop only serves requests, and
neither a slow store (a lock held by a `bulk` run, a far PostgreSQL) nor thousands of
domains being judged stall it. The job's status and counts live in memory while the
process runs; what was recorded is in the store, so after a restart a job is still found
there (finished, or "interrupted" when the process stopped first).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from ..model import CheckId
from ..options import AuditOptions, QueueLimits, ServiceLimits
from ..store.connect import StoreError
from ..store.record import RunInfo, utc_text
from ..store.schema import audits, runs
from ..store.store import Store
from ..version import __version__
from .chunks import cancel_job, create_job, fail_chunk, job_state, pending_jobs, set_task_ids
from .coalesce import CoalescedReads
from .job_process import JobChild, run_job_child
from .runner import ChunkOutcome

if TYPE_CHECKING:
    from .queue import ChunkQueue  # procrastinate: only for a PostgreSQL store

__all__ = ["Job", "JobManager", "ServiceBusy"]

log = logging.getLogger("mailauth_audit.service")


class ServiceBusy(Exception):
    """Too many jobs queued or running: the caller should try again later."""


@dataclass
class Job:
    id: int  # the store run's id
    domains: tuple[str, ...]
    checks: tuple[str, ...]
    created_at: str
    total: int = 0  # domains in the job
    status: str = "queued"  # queued, running, done, failed, cancelled, interrupted
    started_at: str | None = None
    finished_at: str | None = None
    audited: int = 0  # reports handed over by the engine
    recorded: int = 0  # of those, in the store
    with_errors: int = 0  # reports with a check that could not complete
    not_recorded: int = 0  # reports the store refused (the job then fails)
    error: str | None = None

    def document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "checks": list(self.checks),
            "total": self.total,
            "audited": self.audited,
            "recorded": self.recorded,
            "with_errors": self.with_errors,
            "not_recorded": self.not_recorded,
            "error": self.error,
        }


@dataclass
class JobManager:
    """Jobs of the HTTP API. Without `queue` (a SQLite store) `serve` runs each job's chunks
    in a child process of its own (at most `max_running_jobs` at once) and reads the job's
    progress from the store; with one (PostgreSQL) it queues them for `worker`
    processes and reads their progress from the store. Either way a job is a store run, a
    `service_jobs` row and its chunks, and the chunk code is the same (runner.py)."""

    store: Store
    options: AuditOptions  # the operator's (serve's flags): callers choose only domains, checks
    limits: ServiceLimits = field(default_factory=ServiceLimits)
    jobs: dict[int, Job] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _slots: asyncio.Semaphore | None = None
    queue_limits: QueueLimits = field(default_factory=QueueLimits)
    queue: ChunkQueue | None = None  # set: chunks go to workers (PostgreSQL)
    # a job read from the store: pollers of one job share a read begun after each asked
    _stored_reads: CoalescedReads[int, Job | None] | None = None

    def active(self) -> int:
        return sum(1 for j in self.jobs.values() if j.status in ("queued", "running"))

    async def submit(self, domains: Sequence[str], checks: frozenset[CheckId] | None) -> Job:
        active = (
            self.active()
            if self.queue is None
            else await asyncio.to_thread(pending_jobs, self.store)
        )
        if active >= self.limits.max_pending_jobs:
            raise ServiceBusy(
                f"{self.limits.max_pending_jobs} jobs are queued or running "
                "(ServiceLimits.max_pending_jobs): try again when one has finished"
            )
        chosen = checks if checks else self.options.checks
        names = tuple(sorted(c.value for c in chosen))
        created = utc_text()
        info = RunInfo(
            kind="api",
            started_at=created,
            tool_version=__version__,
            provenance={"domains": len(domains), "checks": list(names)},
        )
        run_id, _started, chunks = await asyncio.to_thread(
            create_job, self.store, info, domains, names, self.queue_limits.chunk_size
        )
        job = Job(run_id, tuple(domains), names, created, total=len(domains))
        if self.queue is not None:
            try:
                task_ids = await self.queue.defer(run_id, chunks)
                await asyncio.to_thread(set_task_ids, self.store, run_id, task_ids)
            except StoreError as exc:
                await asyncio.to_thread(fail_chunk, self.store, run_id, 0, str(exc))
                raise
            return job
        self.jobs[run_id] = job
        task = asyncio.create_task(self._run(job, chunks))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return job

    async def _run(self, job: Job, chunks: int) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limits.max_running_jobs)
        async with self._slots:
            if job.status == "queued":
                job.status = "running"
            job.started_at = utc_text()
            if job.status != "running":  # cancelled while it waited for a slot: no child
                job.finished_at = job.finished_at or utc_text()
                self._forget_finished()
                return
            child = JobChild(
                self.store.engine.url.render_as_string(hide_password=False),
                self.store.limits,
                self.options,
                self.queue_limits,
                job.id,
                chunks,
                os.getpid(),
            )
            chunked = 0  # reports of the chunks the child finished

            def chunk_done(outcome: ChunkOutcome) -> None:
                nonlocal chunked
                chunked += outcome.audited
                job.audited = max(job.audited, chunked)
                job.with_errors += outcome.with_errors

            try:
                end = await run_job_child(child, chunk_done, lambda: self._progress(job))
                log.info("job %s: chunks audited by process %s", job.id, end.pid)
                await self._progress(job)
                if end.error is not None:
                    job.error = job.error or end.error
                    job.not_recorded = job.audited - job.recorded
                    with contextlib.suppress(StoreError):
                        await asyncio.to_thread(
                            fail_chunk, self.store, job.id, end.next_seq, job.error
                        )
            except asyncio.CancelledError:
                job.status, job.error = "interrupted", "the server stopped during the job"
                raise
            except Exception as exc:  # a job's failure is its status, never the server's
                log.exception("job %s failed", job.id)
                job.error = job.error or f"{type(exc).__name__}: {exc}"
                job.not_recorded = job.audited - job.recorded
                with contextlib.suppress(StoreError):
                    await asyncio.to_thread(fail_chunk, self.store, job.id, 0, job.error)
            finally:
                job.finished_at = job.finished_at or utc_text()
            if job.status == "running":
                job.status = "failed" if job.error is not None else "done"
            self._forget_finished()

    async def _progress(self, job: Job) -> None:
        """The child's recorded audits, read from the store (where it writes them)."""
        try:
            state = await asyncio.to_thread(job_state, self.store, job.id)
        except StoreError:
            return  # the store is away: the progress shown lags behind
        if state is not None:
            job.recorded = int(state["recorded"])
            job.audited = max(job.audited, job.recorded)

    async def cancel(self, job_id: int) -> Job | None:
        """Cancel a queued or running job: chunks not started are not run, running ones
        stop within `QueueLimits.cancel_poll_interval`; what was recorded stays. A job
        that already ended is returned as it is. None when there is no such job."""
        ended = await asyncio.to_thread(cancel_job, self.store, job_id)
        if ended is None:
            return None
        status, task_ids = ended
        if self.queue is not None and task_ids:
            await self.queue.cancel(task_ids)
        job = self.jobs.get(job_id)
        if job is not None and status == "cancelled" and job.status in ("queued", "running"):
            job.status, job.error, job.finished_at = status, "cancelled by a caller", utc_text()
        return await self.get(job_id)

    def _forget_finished(self) -> None:
        """Keep at most `max_pending_jobs` finished jobs in memory (the oldest go first):
        a forgotten job is read back from the store, without its per-job error counts."""
        finished = [i for i, j in self.jobs.items() if j.status not in ("queued", "running")]
        for job_id in finished[: max(0, len(finished) - self.limits.max_pending_jobs)]:
            del self.jobs[job_id]

    async def get(self, job_id: int) -> Job | None:
        """The job, from memory, or from the store (a queued job, or after a restart)."""
        job = self.jobs.get(job_id)
        if job is not None:
            return job
        if self._stored_reads is None:  # made on the loop: the reads are tasks of it
            self._stored_reads = CoalescedReads(self._read_stored)
        return await self._stored_reads.get(job_id)

    async def _read_stored(self, job_id: int) -> Job | None:
        return await asyncio.to_thread(_stored_job, self.store, job_id, self.queue is not None)

    async def aclose(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.queue is not None:
            await self.queue.aclose()


def _shared_job(state: dict[str, Any], queued: bool) -> Job:
    """A job from its `service_jobs` row. In-process (not `queued`), an active job no
    process runs any more was interrupted by the restart of the server that ran it."""
    status = str(state["status"])
    job = Job(
        int(state["id"]),
        (),
        tuple(state["checks"]),
        str(state["created_at"]),
        total=int(state["total"]),
        status=status,
    )
    job.started_at, job.finished_at, job.error = (
        state["started_at"],
        state["finished_at"],
        state["error"],
    )
    job.audited = job.recorded = int(state["recorded"])
    job.with_errors = int(state["with_errors"])
    if not queued and status in ("queued", "running"):
        job.status = "interrupted"
        job.error = "not finished when the server that ran it stopped"
    return job


def _stored_job(store: Store, job_id: int, queued: bool = False) -> Job | None:
    state = job_state(store, job_id)
    if state is not None:
        return _shared_job(state, queued)
    with store.transaction(write=False) as conn:
        run = conn.execute(
            select(runs.c.started_at, runs.c.finished_at, runs.c.provenance).where(
                runs.c.id == job_id
            )
        ).first()
        if run is None:
            return None
        count = conn.execute(
            select(func.count()).select_from(audits).where(audits.c.run_id == job_id)
        ).scalar_one()
    done = run.finished_at is not None
    try:
        described = json.loads(run.provenance or "{}")
    except ValueError:
        described = {}
    if not isinstance(described, dict):
        described = {}
    total = described.get("domains")
    checks = described.get("checks")
    job = Job(
        job_id,
        (),
        tuple(str(c) for c in checks) if isinstance(checks, list) else (),
        str(run.started_at),
        total=total if isinstance(total, int) else int(count),
        status="done" if done else "interrupted",
    )
    job.finished_at = run.finished_at
    job.audited = job.recorded = int(count)
    if not done:
        job.error = "not finished when the server that ran it stopped"
    return job
