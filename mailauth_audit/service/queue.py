"""The task queue between `serve` and the `worker` processes: procrastinate on the same
PostgreSQL database as the history.

Why procrastinate: the queue then lives where the jobs and results already are (no broker
to run), it is asyncio-native (a worker runs the async engine in its own loop), and it has
what a fleet of workers needs: LISTEN/NOTIFY for new chunks, heartbeats, aborting a running
task, retries. A queued task carries only (job id, chunk number); the chunk's domains are in
`service_chunks`.

Stalled chunks (their worker was killed, or lost its machine) are found by heartbeat:
every live worker sweeps every `recovery_interval` seconds, under a PostgreSQL advisory
lock so only one sweep runs at a time, and puts back in the queue the chunks of workers
silent for `stalled_after` seconds (procrastinate's `get_stalled_jobs` + `retry_job`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import procrastinate
from procrastinate.jobs import Job as QueueJob
from procrastinate.types import JSONValue

from ..store.connect import StoreError
from ..store.store import Store

__all__ = [
    "QUEUE",
    "TASK",
    "ChunkQueue",
    "ChunkRetry",
    "conninfo",
    "ensure_queue_schema",
    "make_app",
    "recover_stalled",
]

log = logging.getLogger("mailauth_audit.service")

TASK = "mailauth_audit.audit_chunk"
QUEUE = "mailauth-audit"
_SCHEMA_LOCK = 0x6D61716D  # pg_advisory_lock key: one process creates the queue's tables
_SWEEP_LOCK = 0x6D617377  # pg_try_advisory_xact_lock key: one stalled-chunk sweep at a time


def conninfo(store: Store) -> str:
    """The store's PostgreSQL URL as libpq takes it; StoreError on SQLite."""
    url = store.engine.url
    if url.get_backend_name() != "postgresql":
        raise StoreError(
            "the task queue needs a PostgreSQL store (--store postgresql://...); on SQLite "
            "`serve` runs jobs itself and needs no worker"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_queue_schema(store: Store) -> None:
    """Create procrastinate's tables when the database has none (the first `serve` or
    `worker` to start does it, under an advisory lock). An upgrade of procrastinate that
    changes its schema is applied by hand: `procrastinate schema --migrate` lists the SQL."""
    import psycopg

    try:
        with psycopg.connect(conninfo(store), autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
            try:
                row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
                if row is None or row[0] is None:
                    schema = procrastinate.schema.SchemaManager.get_schema()
                    with conn.transaction():
                        conn.execute(schema)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))
    except psycopg.Error as exc:
        raise StoreError(f"cannot set up the task queue: {exc}") from None


def make_app(store: Store, pool_size: int = 4) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(store), min_size=1, max_size=max(4, pool_size)
    )
    return procrastinate.App(connector=connector)


class ChunkRetry(procrastinate.BaseRetryStrategy):
    """A chunk released at shutdown goes back at once, whatever its attempts; a chunk that
    failed is tried again after 2, 4, 8 ... seconds (at most 60), `attempts` times in all."""

    def __init__(self, attempts: int) -> None:
        self.attempts = attempts

    def get_retry_decision(
        self, *, exception: BaseException, job: QueueJob
    ) -> procrastinate.RetryDecision | None:
        if isinstance(exception, asyncio.CancelledError):
            return procrastinate.RetryDecision(retry_in={"seconds": 0})
        if job.attempts + 1 >= self.attempts:
            return None
        return procrastinate.RetryDecision(retry_in={"seconds": min(60, 2 ** (job.attempts + 1))})


async def recover_stalled(app: procrastinate.App, stalled_after: float) -> int:
    """Put back in the queue the chunks of workers silent for `stalled_after` seconds;
    the number put back (0 when another worker's sweep holds the lock)."""
    connector: Any = app.connector
    async with connector.pool.connection() as conn, conn.transaction():
        cursor = await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_SWEEP_LOCK,))
        row = await cursor.fetchone()
        if not row or not row[0]:
            return 0
        stalled = await app.job_manager.get_stalled_jobs(
            queue=QUEUE, seconds_since_heartbeat=stalled_after
        )
        count = 0
        for job in stalled:
            try:
                await app.job_manager.retry_job(job)
            except procrastinate.exceptions.ConnectorException as exc:
                log.warning("stalled chunk %s not put back: %s", job.id, exc)
                continue
            log.info("chunk task %s of a silent worker put back in the queue", job.id)
            count += 1
        return count


class ChunkQueue:
    """`serve`'s side: queue a job's chunks, cancel them. Opened on first use in the
    server's event loop."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.app: procrastinate.App | None = None
        self._lock = asyncio.Lock()

    async def _open(self) -> procrastinate.App:
        async with self._lock:
            if self.app is None:
                await asyncio.to_thread(ensure_queue_schema, self.store)
                app = make_app(self.store)
                await app.open_async()
                self.app = app
            return self.app

    async def defer(self, job_id: int, chunks: int) -> dict[int, int]:
        """Queue chunks 0..chunks-1 of the job: {chunk: queue task id}."""
        app = await self._open()
        args: list[dict[str, JSONValue]] = [{"job_id": job_id, "seq": s} for s in range(chunks)]
        try:
            ids = await app.configure_task(TASK, queue=QUEUE).batch_defer_async(*args)
        except procrastinate.exceptions.ConnectorException as exc:
            raise StoreError(f"cannot queue the job's chunks: {exc}") from None
        return dict(enumerate(ids))

    async def cancel(self, task_ids: list[int]) -> None:
        """Drop queued chunks, and ask the workers running one to abort it."""
        app = await self._open()
        for task_id in task_ids:
            try:
                await app.job_manager.cancel_job_by_id_async(task_id, abort=True)
            except procrastinate.exceptions.ConnectorException as exc:
                log.warning("chunk task %s not cancelled: %s", task_id, exc)

    async def aclose(self) -> None:
        if self.app is not None:
            app, self.app = self.app, None
            await app.close_async()
