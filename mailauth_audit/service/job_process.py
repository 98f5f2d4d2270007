"""A SQLite job's chunks in a child process of `serve`, off the loop that serves requests.

Auditing parses and judges thousands of replies per second: on the request loop it would
delay every status request behind it (and use one core of two). The child (the `spawn`
start method: a fresh interpreter, no copy of serve's threads and sockets) opens the store
by its URL and runs the same chunk code as a `worker` (runner.py), chunk after chunk. It
writes what it audits to the store, where serve reads the job's progress; over a pipe it
sends only each chunk's outcome, then how it ended.

- Cancel: the chunk code sees the job cancelled in the store (`cancel_poll_interval`) and
  stops; the child starts no further chunk (begin_chunk refuses an ended job).
- serve stopping (SIGTERM, the lifespan cancels the job's task): the child is killed; the
  job is "interrupted", as when serve ran the chunks itself. The child ignores SIGINT and
  SIGTERM: a terminal's Ctrl-C or a service manager signalling the whole group reaches it
  too, and serve, not the child, decides what the job's status then is.
- serve killed: the child dies with it (PR_SET_PDEATHSIG on Linux).
- The child dying (a crash, the OOM killer): the pipe closes without an ending, and serve
  marks the job failed with the exit code as the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from ..bulk.runtime import run_loop, tune_gc
from ..bulk.workers import die_with_parent
from ..options import AuditOptions, QueueLimits, StoreLimits
from ..store.store import open_store
from .runner import ChunkOutcome, ChunkRunner

__all__ = ["ChildEnd", "JobChild", "run_job_child"]

# how long a child that said it ended gets to exit before it is killed
_EXIT_GRACE = 5.0
# signals the child ignores: a terminal's Ctrl-C, a service manager signalling the group
_SERVE_DECIDES = frozenset({signal.SIGINT, signal.SIGTERM})


@dataclass(frozen=True)
class JobChild:
    """What the child needs (pickled to it): the store's URL, never a connection."""

    store_url: str
    store_limits: StoreLimits
    options: AuditOptions
    limits: QueueLimits
    job_id: int
    chunks: int
    parent_pid: int


@dataclass(frozen=True)
class ChildEnd:
    """How the child's work ended: `error` set when it raised or died."""

    pid: int | None
    next_seq: int  # the first chunk it did not finish
    error: str | None = None


def _child_main(job: JobChild, pipe: Connection) -> None:
    for sig in _SERVE_DECIDES:  # blocked since the fork: a signal meanwhile is dropped here
        signal.signal(sig, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SERVE_DECIDES)
    die_with_parent(job.parent_pid)
    try:
        store = open_store(job.store_url, job.store_limits)
        try:
            tune_gc()
            run_loop(_run_chunks(job, store, pipe))
        finally:
            store.close()
    except BaseException as exc:
        with contextlib.suppress(OSError):
            pipe.send(("error", f"{type(exc).__name__}: {exc}"))
        raise SystemExit(1) from None
    pipe.send(("end", None))


async def _run_chunks(job: JobChild, store: Any, pipe: Connection) -> None:
    runner = ChunkRunner(store, job.options, job.limits)
    for seq in range(job.chunks):
        outcome = await runner.run(job.job_id, seq)
        pipe.send(("chunk", outcome))
        if outcome.status != "done":
            return


async def run_job_child(
    job: JobChild,
    on_chunk: Callable[[ChunkOutcome], None],
    on_tick: Callable[[], Any],
) -> ChildEnd:
    """Run the job's chunks in a child; `on_chunk` after each chunk, `await on_tick()`
    every `progress_interval` while it runs. Cancelling this kills the child."""
    ctx = multiprocessing.get_context("spawn")
    reader, writer = ctx.Pipe(duplex=False)
    process = ctx.Process(
        target=_child_main,
        args=(job, writer),
        name=f"mailauth-audit job {job.job_id}",
        daemon=True,
    )
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()
    # on the loop's thread, which lives as long as serve (PDEATHSIG); with the signals
    # serve decides on blocked, a mask the child inherits until it ignores them
    masked = signal.pthread_sigmask(signal.SIG_BLOCK, _SERVE_DECIDES)
    try:
        process.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, masked)
    writer.close()
    loop.add_reader(reader.fileno(), ready.set)
    next_seq = 0
    ended = False
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), job.limits.progress_interval)
            if not ready.is_set():
                await on_tick()
                continue
            ready.clear()
            while reader.poll():
                try:
                    kind, value = reader.recv()
                except (EOFError, OSError):
                    await asyncio.to_thread(process.join, _EXIT_GRACE)
                    code = process.exitcode
                    return ChildEnd(
                        process.pid,
                        next_seq,
                        f"the audit process {process.pid} ended unexpectedly (exit code {code})",
                    )
                if kind == "chunk":
                    next_seq += 1
                    on_chunk(value)
                elif kind == "error":
                    ended = True
                    return ChildEnd(process.pid, next_seq, str(value))
                else:
                    ended = True
                    return ChildEnd(process.pid, next_seq)
    finally:
        loop.remove_reader(reader.fileno())
        reader.close()
        await _stop(process, ended)


async def _stop(process: multiprocessing.process.BaseProcess, ended: bool) -> None:
    """A child that said it ended exits by itself; any other is killed (it ignores SIGTERM;
    a write cut short is rolled back by the store)."""
    if ended:
        await asyncio.to_thread(process.join, _EXIT_GRACE)
    if process.is_alive():
        process.kill()
    await asyncio.to_thread(process.join, _EXIT_GRACE)
    with contextlib.suppress(ValueError):
        process.close()
