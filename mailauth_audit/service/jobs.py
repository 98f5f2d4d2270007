"""Audit jobs run in-process: one store run per job, reports recorded as they finish.

Every database call runs in a worker thread (`asyncio.to_thread`): the event loop serves
requests and drives the audits, and a slow store (a lock held by a `bulk` run, a far
PostgreSQL) must not stall either. The job's status and counts live in memory while the
process runs; what was recorded is in the store, so after a restart a job is still found
there (finished, or "interrupted" when the process stopped first).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select

from ..asyncapi import audit_batch
from ..engine.observers import RunSummary
from ..model import CheckId, DomainReport
from ..options import AuditOptions, ServiceLimits
from ..report.codec import to_json
from ..store.connect import StoreError
from ..store.record import RunInfo, utc_text
from ..store.schema import audits, runs
from ..store.store import Store
from ..version import __version__

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
    status: str = "queued"  # queued, running, done, failed, interrupted
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


class _StoreWriter:
    """The job's observer: buffers each report's document on the loop's thread and records
    them in batches from a thread, so the loop never waits for the database."""

    def __init__(self, store: Store, job: Job, started: str) -> None:
        self.store = store
        self.job = job
        self.started = started
        self.pending: list[dict[str, Any]] = []
        self.wake = asyncio.Event()
        self.finished = False
        self.task = asyncio.create_task(self._drain())

    def on_report(self, report: DomainReport) -> None:
        self.job.audited += 1
        if report.has_errors:
            self.job.with_errors += 1
        self.pending.append(to_json(report))
        self.wake.set()

    def on_done(self, summary: RunSummary) -> None:
        self.finished = True
        self.wake.set()

    async def _drain(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            batch, self.pending = self.pending, []
            if batch:
                await self._record(batch)
            if self.finished and not self.pending:
                return

    async def _record(self, batch: list[dict[str, Any]]) -> None:
        if self.job.error is not None:
            self.job.not_recorded += len(batch)
            return
        try:
            result = await asyncio.to_thread(
                self.store.record_documents, self.job.id, self.started, batch
            )
        except (StoreError, ValueError) as exc:
            self.job.error = f"the store refused the results: {exc}"
            self.job.not_recorded += len(batch)
            return
        self.job.recorded += result.recorded + result.already

    async def close(self) -> None:
        self.finished = True
        self.wake.set()
        await self.task


@dataclass
class JobManager:
    store: Store
    options: AuditOptions  # the operator's (serve's flags): callers choose only domains, checks
    limits: ServiceLimits = field(default_factory=ServiceLimits)
    jobs: dict[int, Job] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _slots: asyncio.Semaphore | None = None

    def active(self) -> int:
        return sum(1 for j in self.jobs.values() if j.status in ("queued", "running"))

    async def submit(self, domains: Sequence[str], checks: frozenset[CheckId] | None) -> Job:
        if self.active() >= self.limits.max_pending_jobs:
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
        run_id, started = await asyncio.to_thread(self.store.start_run, info)
        job = Job(run_id, tuple(domains), names, created, total=len(domains))
        self.jobs[run_id] = job
        task = asyncio.create_task(self._run(job, started, replace(self.options, checks=chosen)))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return job

    async def _run(self, job: Job, started: str, options: AuditOptions) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limits.max_running_jobs)
        async with self._slots:
            job.status = "running"
            job.started_at = utc_text()
            writer = _StoreWriter(self.store, job, started)
            try:
                await audit_batch(job.domains, options, observers=[writer])
                await writer.close()
                await asyncio.to_thread(self.store.finish_run, job.id)
            except asyncio.CancelledError:
                job.status, job.error = "interrupted", "the server stopped during the job"
                raise
            except Exception as exc:  # a job's failure is its status, never the server's
                log.exception("job %s failed", job.id)
                job.error = job.error or f"{type(exc).__name__}: {exc}"
            finally:
                if not writer.task.done():
                    writer.task.cancel()
                job.finished_at = utc_text()
            if job.status != "interrupted":
                job.status = "failed" if job.error is not None else "done"
            self._forget_finished()

    def _forget_finished(self) -> None:
        """Keep at most `max_pending_jobs` finished jobs in memory (the oldest go first):
        a forgotten job is read back from the store, without its per-job error counts."""
        finished = [i for i, j in self.jobs.items() if j.status not in ("queued", "running")]
        for job_id in finished[: max(0, len(finished) - self.limits.max_pending_jobs)]:
            del self.jobs[job_id]

    async def get(self, job_id: int) -> Job | None:
        """The job, from memory, or rebuilt from the store after a restart."""
        job = self.jobs.get(job_id)
        if job is not None:
            return job
        return await asyncio.to_thread(_stored_job, self.store, job_id)

    async def aclose(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


def _stored_job(store: Store, job_id: int) -> Job | None:
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
