"""Worker processes of a bulk run, and how they start, stop and die.

multiprocessing.Process workers, each with its own event loop, Auditor and run cache, fed
through a bounded queue of small batches and answering through a result queue. Unlike a
pool task per chunk, a worker never drains its concurrency between chunks, and no more than
a few batches of results are in transit, so the parent's memory stays small.

Lifecycle: the parent alone decides when to stop (a Ctrl-C or a service manager's SIGTERM
reaches the whole process group, so workers ignore both and finish what the parent says).
That makes the parent's death the one event a worker must notice by itself: a parent killed
with SIGKILL (or by the OOM killer) runs no cleanup, and its workers, blocked on a task
queue whose write end they hold themselves, would wait forever. So each worker dies with
its parent: on Linux the kernel sends it SIGKILL (PR_SET_PDEATHSIG); elsewhere a watchdog
thread waits on the parent's sentinel (a pipe closed when the parent dies) and exits.
Nothing is lost that --resume does not redo: results count only once the parent has
written them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import multiprocessing.process
import multiprocessing.queues
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from ..model import Provenance
from ..options import AuditOptions, BulkRunLimits
from .runtime import FLUSH_SECONDS, Item, make_auditor, make_item, run_loop, tune_gc

__all__ = [
    "StopRequest",
    "WorkerDied",
    "die_with_parent",
    "install_stop",
    "per_worker_options",
    "restore_signals",
    "run_in_pool",
]

WORKER_BATCH = 100  # results per message back from a worker process
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
ORPHAN_EXIT = 70  # a worker's exit status when it ends because its parent died

_DONE = "done"  # a worker's last message: ("done", None)
_FAILED = "failed"  # ("failed", OSError or repr of the error): the worker could not go on


class WorkerDied(RuntimeError):
    """A worker process ended without saying it was done (e.g. killed by the OOM killer)."""


class Sink(Protocol):
    """What the pool hands results to (observers.BulkSink)."""

    count: int

    def add(self, items: list[Item], *, flush: bool = True) -> None: ...

    def tick(self) -> None: ...


class StopRequest:
    """First signal: stop feeding; second: stop now (KeyboardInterrupt)."""

    def __init__(self) -> None:
        self.requested = False
        self.on_first: Callable[[], None] = lambda: None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.on_first()


def install_stop(stop: StopRequest) -> dict[int, Any]:
    old: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            old[sig] = signal.signal(sig, stop)
    return old


def restore_signals(old: dict[int, Any]) -> None:
    for sig, handler in old.items():
        signal.signal(sig, handler)


# ---- dying with the parent ----------------------------------------------------------------


def die_with_parent(parent_pid: int) -> str:
    """Arrange for this process to end when `parent_pid` (its parent) does; return how.

    PR_SET_PDEATHSIG fires when the parent *thread* that started us exits: run_in_pool
    starts and joins its workers on one thread, so that thread outlives them."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            ok = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            ok = False
        if ok:
            if os.getppid() != parent_pid:  # died before prctl took effect
                os._exit(ORPHAN_EXIT)
            return "pdeathsig"
    parent = multiprocessing.parent_process()
    threading.Thread(
        target=_watch_parent, args=(parent, parent_pid), name="parent-watchdog", daemon=True
    ).start()
    return "watchdog"


def _watch_parent(parent: multiprocessing.process.BaseProcess | None, parent_pid: int) -> None:
    """Exit the whole process (not just this thread) once the parent is gone: by its
    sentinel where multiprocessing gives one, else by polling the parent's pid."""
    if parent is not None:
        with contextlib.suppress(Exception):
            parent.join()  # returns when the parent's end of the sentinel pipe closes
            os._exit(ORPHAN_EXIT)
    while os.getppid() == parent_pid:
        time.sleep(BulkRunLimits().parent_poll_seconds)
    os._exit(ORPHAN_EXIT)


# ---- a worker -----------------------------------------------------------------------------


def _worker_main(
    tasks: multiprocessing.queues.Queue[list[str] | None],
    results: multiprocessing.queues.Queue[tuple[str, Any]],
    options: AuditOptions,
    qps: float | None,
    pages_dir: Path | None,
    parent_pid: int,
    provenance: Provenance | None = None,
) -> None:
    die_with_parent(parent_pid)
    # the parent decides how to stop; it kills workers with SIGKILL when it must stop at once
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    tune_gc()
    try:
        run_loop(_worker_loop(tasks, results, options, qps, pages_dir, provenance))
    except Exception as exc:  # e.g. a refused page file: the parent reports it and stops
        results.put((_FAILED, exc if isinstance(exc, OSError) else repr(exc)))
        return
    results.put((_DONE, None))


async def _worker_loop(
    tasks: multiprocessing.queues.Queue[list[str] | None],
    results: multiprocessing.queues.Queue[tuple[str, Any]],
    options: AuditOptions,
    qps: float | None,
    pages_dir: Path | None,
    provenance: Provenance | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    auditor, resolver = make_auditor(options, qps, None)

    async def feed() -> AsyncIterator[str]:
        while True:
            batch = await loop.run_in_executor(None, tasks.get)
            if batch is None:
                return
            for text in batch:
                yield text

    out: list[Item] = []
    last = time.monotonic()
    try:
        async for report in auditor.audit_stream(feed()):
            out.append(make_item(report, pages_dir, provenance))
            now = time.monotonic()
            if len(out) >= WORKER_BATCH or now - last >= FLUSH_SECONDS:
                results.put(("items", out))
                out, last = [], now
        if out:
            results.put(("items", out))
    finally:
        await resolver.aclose()


# ---- the parent's side --------------------------------------------------------------------


def per_worker_options(options: AuditOptions, processes: int) -> AuditOptions:
    """Each worker's share of the run's limits: --concurrency and --max-dns-in-flight are
    totals, like --qps, so the load on a shared resolver does not grow with the cores (and
    a CPU-bound worker with fewer queries queued for an in-flight slot does less work)."""
    limits = options.limits
    return replace(
        options,
        limits=replace(
            limits,
            max_concurrent_domains=max(1, -(-limits.max_concurrent_domains // processes)),
            max_dns_in_flight=max(1, -(-limits.max_dns_in_flight // processes)),
        ),
    )


def run_in_pool(
    batches: Iterator[list[str]],
    processes: int,
    options: AuditOptions,
    queries_per_second: float | None,
    pages_dir: Path | None,
    sink: Sink,
    stop: StopRequest,
    *,
    provenance: Provenance | None = None,
) -> None:
    n = processes
    qps = queries_per_second / n if queries_per_second else None
    options = per_worker_options(options, n)
    # fork on Linux: the workers start at once with everything imported (spawn re-imports
    # the whole CLI in every worker). Safe here: this process has no other thread and no
    # running event loop yet (the queues' feeder threads start with the first put, after the
    # fork). Elsewhere spawn, the platform default.
    ctx = (
        multiprocessing.get_context("fork")
        if sys.platform == "linux"
        else multiprocessing.get_context("spawn")
    )
    tasks: multiprocessing.queues.Queue[list[str] | None] = ctx.Queue(maxsize=2 * n)
    results: multiprocessing.queues.Queue[tuple[str, Any]] = ctx.Queue()
    workers = [
        ctx.Process(
            target=_worker_main,
            args=(tasks, results, options, qps, pages_dir, os.getpid(), provenance),
            name=f"mailauth-bulk-{i}",
            daemon=True,
        )
        for i in range(n)
    ]
    for w in workers:
        w.start()
    pending: list[str] | None = next(batches, None)
    sentinels_sent = False
    finished = 0
    clean = False
    try:
        while finished < n:
            # feed without blocking: the queue is bounded, results must keep flowing
            while pending is not None and not stop.requested:
                try:
                    tasks.put_nowait(pending)
                except queue.Full:
                    break
                pending = next(batches, None)
            if (pending is None or stop.requested) and not sentinels_sent:
                for _ in range(n):
                    tasks.put(None)
                sentinels_sent = True
            try:
                kind, payload = results.get(timeout=0.2)
            except queue.Empty:
                if not all(w.is_alive() for w in workers) and results.empty():
                    dead = [w.name for w in workers if not w.is_alive()]
                    if len(dead) > finished:
                        raise WorkerDied(f"worker process died: {', '.join(dead)}") from None
                sink.tick()
                continue
            if kind == _DONE:
                finished += 1
            elif kind == _FAILED:
                if isinstance(payload, OSError):
                    raise payload
                raise WorkerDied(f"worker process failed: {payload}")
            else:
                sink.add(payload)
        clean = True
    finally:
        if not clean:
            for w in workers:
                if w.is_alive():
                    w.kill()
        for w in workers:
            w.join(timeout=10)
        tasks.cancel_join_thread()
        results.cancel_join_thread()
