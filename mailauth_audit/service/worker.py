"""`mailauth-audit worker`: take chunks from the queue, audit them, record the results.

One process runs `QueueLimits.concurrency` chunks at once in one event loop, sharing one
DNS cache (and, with `--qps`, one lease of the fleet's query budget). Start as many as the
machines allow, on as many machines: they share the work through the queue.

- SIGTERM/SIGINT: no new chunk is taken; running chunks get `shutdown_timeout` seconds to
  finish, then are aborted and put back in the queue (what they recorded stays, and the
  next run of the chunk audits only the rest); exit 0.
- SIGKILL, a lost machine: the chunks stay "doing" until a live worker's sweep sees that
  the dead one sent no heartbeat for `stalled_after` seconds and puts them back.
- The database restarting: the procrastinate worker stops when its heartbeat or listener
  fails; this loop opens it again after `reconnect_delay` (doubling, at most 30 s), while
  running chunks retry their writes. Nothing is lost: a chunk is done only once its
  results are recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass, field, replace

import procrastinate
from procrastinate.worker import Worker
from sqlalchemy import text

from ..bulk.runtime import run_loop, tune_gc
from ..options import AuditOptions, QueueLimits, StoreLimits
from ..resolver.base import Resolver
from ..resolver.caching import CachingResolver
from ..resolver.factory import parse_nameserver, system_nameservers
from ..resolver.wire import WireResolver
from ..store.connect import StoreError
from ..store.store import Store, open_store
from .budget import BudgetedResolver, QueryBudget
from .chunks import ChunkWork, fail_chunk
from .logs import configure_logging
from .queue import QUEUE, TASK, ChunkRetry, ensure_queue_schema, make_app, recover_stalled
from .runner import ChunkRunner

__all__ = ["WorkerConfig", "chunk_options", "run_worker", "serve_chunks"]

log = logging.getLogger("mailauth_audit.service")


@dataclass(frozen=True)
class WorkerConfig:
    store_url: str
    options: AuditOptions = field(default_factory=AuditOptions)
    limits: QueueLimits = field(default_factory=QueueLimits)
    store_limits: StoreLimits = field(default_factory=StoreLimits)
    qps: float | None = None  # the fleet's DNS budget (every worker must be given the same)
    name: str | None = None  # in the logs; default host:pid
    log_format: str = "text"  # or "json": one JSON object per line (service/logs.py)


def run_worker(config: WorkerConfig) -> None:
    """Work until SIGTERM/SIGINT; StoreError when the store cannot be used at all."""
    configure_logging(config.log_format, "warning")  # the queue library's chatter stays out
    logging.getLogger("mailauth_audit.service").setLevel(logging.INFO)
    store = open_store(config.store_url, config.store_limits)
    try:
        ensure_queue_schema(store)
        # the process is the worker's, as a bulk process is bulk's: the same loop (uvloop
        # where installed) and the same collector tuning, so a domain costs what it does
        # in `bulk` (what the fleet is sized and benchmarked against)
        tune_gc()
        run_loop(serve_chunks(store, config))
    finally:
        store.close()


def chunk_options(options: AuditOptions, concurrency: int) -> AuditOptions:
    """Each running chunk's share of `Limits.max_concurrent_domains`: the limit is the
    process's, as `bulk --processes` shares it between its processes, so `--concurrency`
    chunks do not multiply the domains in flight on the one event loop (more of them on a
    busy loop only wait longer for it, holding their memory)."""
    limits = options.limits
    share = max(1, -(-limits.max_concurrent_domains // concurrency))
    return replace(options, limits=replace(limits, max_concurrent_domains=share))


def _resolver(config: WorkerConfig, store: Store) -> tuple[Resolver, QueryBudget | None]:
    options = config.options
    servers = (
        [parse_nameserver(s) for s in options.nameservers]
        if options.nameservers
        else system_nameservers()
    )
    inner: Resolver = WireResolver(servers, limits=options.limits)
    budget = None
    if config.qps:
        budget = QueryBudget(
            store, config.qps, config.limits.budget_lease, config.limits.stalled_after
        )
        inner = BudgetedResolver(inner, budget)
    return CachingResolver(inner, max_entries=options.limits.max_cache_entries), budget


async def serve_chunks(store: Store, config: WorkerConfig) -> None:
    limits = config.limits
    name = config.name or f"{socket.gethostname()}:{os.getpid()}"
    resolver, _budget = _resolver(config, store)
    runner = ChunkRunner(store, chunk_options(config.options, limits.concurrency), limits, resolver)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    delay = limits.reconnect_delay
    try:
        while not stop.is_set():
            try:
                if await _one_session(store, runner, name, limits, stop):
                    return
                delay = limits.reconnect_delay
            except (procrastinate.exceptions.ProcrastinateException, OSError, StoreError) as exc:
                log.warning(
                    "worker %s lost the queue: %s; reconnecting in %.1f s", name, exc, delay
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 30.0)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await resolver.aclose()
        log.info("worker %s stopped", name)


async def _one_session(
    store: Store, runner: ChunkRunner, name: str, limits: QueueLimits, stop: asyncio.Event
) -> bool:
    """Run the procrastinate worker until it stops by itself (False: reconnect) or `stop`
    is set (True: it finished or released its chunks)."""
    app = make_app(store, pool_size=limits.concurrency + 4)

    async def audit_chunk(context: procrastinate.JobContext, job_id: int, seq: int) -> str:
        def started(work: ChunkWork) -> None:
            log.info(
                "worker %s: chunk %d/%d started (run %d, %d domains to audit, %d recorded)",
                name,
                job_id,
                seq,
                work.run,
                len(work.domains),
                work.already,
            )

        try:
            outcome = await runner.run(job_id, seq, on_begin=started)
        except Exception as exc:
            if context.job.attempts + 1 >= limits.chunk_attempts:
                with contextlib.suppress(StoreError):
                    await asyncio.to_thread(
                        fail_chunk, store, job_id, seq, f"{type(exc).__name__}: {exc}"
                    )
            raise
        log.info(
            "worker %s: chunk %d/%d %s (%d audited)",
            name,
            job_id,
            seq,
            outcome.status,
            outcome.audited,
        )
        return outcome.status

    app.task(
        name=TASK,
        queue=QUEUE,
        pass_context=True,
        retry=ChunkRetry(limits.chunk_attempts),
    )(audit_chunk)

    queue_worker = Worker(
        app,
        queues=[QUEUE],
        name=name,
        concurrency=limits.concurrency,
        wait=True,
        install_signal_handlers=False,
        shutdown_graceful_timeout=limits.shutdown_timeout,
        update_heartbeat_interval=limits.heartbeat_interval,
        stalled_worker_timeout=limits.stalled_after,
        abort_job_polling_interval=limits.cancel_poll_interval,
        fetch_job_polling_interval=limits.heartbeat_interval,
    )
    async with app.open_async():
        work = asyncio.create_task(queue_worker.run())
        sweeper = asyncio.create_task(_sweep(app, limits))
        stopper = asyncio.create_task(stop.wait())
        beating = threading.Event()
        beat = threading.Thread(
            target=_heartbeats, args=(store, queue_worker, limits, beating), daemon=True
        )
        beat.start()
        log.info("worker %s started", name)
        try:
            done, _ = await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sweeper.cancel()
            beating.set()
        if stopper in done:
            log.info("worker %s: stop requested; finishing or releasing its chunks", name)
            work.cancel()  # procrastinate's graceful stop: wait, then abort and retry
            with contextlib.suppress(asyncio.CancelledError):
                await work
            return True
        stopper.cancel()
        work.result()  # raises what stopped it, if anything
        log.warning("worker %s: the queue worker stopped by itself", name)
        return False


def _heartbeats(
    store: Store, queue_worker: Worker, limits: QueueLimits, stopped: threading.Event
) -> None:
    """The worker's heartbeat from a thread of its own, besides procrastinate's on the event
    loop: a loop busy with thousands of domains on a loaded machine can fall behind by more
    than `stalled_after`, and its chunks would be taken for a dead worker's and run twice
    (harmless, the writes are idempotent, but wasted). A killed process beats no more."""
    while not stopped.wait(limits.heartbeat_interval):
        worker_id = queue_worker.worker_id
        if worker_id is None:
            continue
        try:
            with store.transaction() as conn:
                conn.execute(_BEAT, {"id": worker_id})
        except StoreError as exc:
            log.warning("heartbeat not recorded: %s", exc)


_BEAT = text("UPDATE procrastinate_workers SET last_heartbeat = now() WHERE id = :id")


async def _sweep(app: procrastinate.App, limits: QueueLimits) -> None:
    while True:
        await asyncio.sleep(limits.recovery_interval)
        try:
            await recover_stalled(app, limits.stalled_after)
        except Exception as exc:  # the database away: the next sweep tries again
            log.warning("stalled-chunk sweep failed: %s", exc)
