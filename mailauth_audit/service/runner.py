"""Running one chunk of a job: the code a `worker` runs for a queued task and `serve` runs
in-process on SQLite.

A chunk run audits the chunk's domains that are not yet recorded for the job, through the
facade's `audit_batch`, and records the reports in batches as they come. That is what makes
a retry safe: a chunk run again after its worker was killed audits only what is missing,
and a write racing another run of the same chunk is refused by the store's unique
(run, domain) and tried again, when the store then says the domain is already there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import orjson

from ..asyncapi import audit_batch
from ..bulk.jsonl import bulk_line
from ..engine.observers import RunSummary
from ..model import CheckId, DomainReport
from ..options import AuditOptions, QueueLimits
from ..resolver.base import Resolver
from ..store.connect import StoreError
from ..store.store import Store
from .chunks import ChunkWork, begin_chunk, finish_chunk, is_cancelled

__all__ = ["ChunkOutcome", "ChunkProgress", "ChunkRunner"]

log = logging.getLogger("mailauth_audit.service")


class ChunkProgress(Protocol):
    """Who wants to know as a chunk goes (serve's in-memory job when it runs the chunk)."""

    def on_audited(self, report: DomainReport) -> None: ...

    def on_recorded(self, count: int) -> None: ...


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:  # bulk_line's json fallback (a lone surrogate)
        return json.loads(line.decode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class ChunkOutcome:
    status: str  # "done", "skipped" (nothing to do), "cancelled" (the job ended meanwhile)
    audited: int = 0
    with_errors: int = 0
    already: int = 0  # recorded by an earlier run of the chunk
    job_done: bool = False


class _Writer:
    """The chunk's observer: buffers each report's document on the loop's thread and
    records them in batches from a thread, so the loop never waits for the database.
    A batch is `QueueLimits.record_batch` reports, or what came within `record_interval`
    of its first: each batch costs a few statements and round trips whatever its size, so
    a writer draining every report as it comes spends the process's CPU on the store."""

    def __init__(
        self, runner: ChunkRunner, work: ChunkWork, progress: ChunkProgress | None
    ) -> None:
        self.runner = runner
        self.work = work
        self.progress = progress
        self.pending: list[bytes] = []
        self.audited = 0
        self.with_errors = 0
        self.wake = asyncio.Event()
        self.finished = False
        self.task = asyncio.create_task(self._drain())

    def on_report(self, report: DomainReport) -> None:
        self.audited += 1
        if report.has_errors:
            self.with_errors += 1
        if self.progress is not None:
            self.progress.on_audited(report)
        # the bulk results line (orjson on the dataclasses): what `bulk --store` records,
        # read back by the store as the same typed report, for a fraction of to_json's CPU
        self.pending.append(bulk_line(report, report.verdict))
        if len(self.pending) == 1 or len(self.pending) >= self.runner.limits.record_batch:
            self.wake.set()

    def on_done(self, summary: RunSummary) -> None:
        self.finished = True
        self.wake.set()

    async def _drain(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            limits = self.runner.limits
            if not self.finished and len(self.pending) < limits.record_batch:
                # woken by the first report of a batch: give it time to fill up
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), limits.record_interval)
                self.wake.clear()
            batch, self.pending = self.pending, []
            if batch:
                await self.runner.record(self.work, batch)
                if self.progress is not None:
                    self.progress.on_recorded(len(batch))
            if self.finished and not self.pending:
                return

    async def close(self) -> None:
        self.finished = True
        self.wake.set()
        await self.task


@dataclass
class ChunkRunner:
    """Runs chunks against one store with the operator's options (the job chooses only
    its checks). `resolver`, when given, is shared by every chunk of the process (the
    worker's cache and its share of the DNS budget); else each chunk makes its own."""

    store: Store
    options: AuditOptions
    limits: QueueLimits
    resolver: Resolver | None = None

    async def run(
        self,
        job_id: int,
        seq: int,
        progress: ChunkProgress | None = None,
        on_begin: Callable[[ChunkWork], None] | None = None,
    ) -> ChunkOutcome:
        work = await asyncio.to_thread(begin_chunk, self.store, job_id, seq)
        if work is None:
            return ChunkOutcome("skipped")
        if on_begin is not None:
            on_begin(work)
        checks = frozenset(CheckId(c) for c in work.checks) or self.options.checks
        options = replace(self.options, checks=checks)
        writer = _Writer(self, work, progress)
        cancelled = False

        async def watch() -> None:
            nonlocal cancelled
            while not cancelled:
                await asyncio.sleep(self.limits.cancel_poll_interval)
                try:
                    cancelled = await asyncio.to_thread(is_cancelled, self.store, job_id)
                except StoreError:
                    continue  # the store is away: the writes will say so

        watcher = asyncio.create_task(watch())
        try:
            await audit_batch(
                work.domains,
                options,
                observers=[writer],
                resolver=self.resolver,
                should_stop=lambda: cancelled,
            )
            await writer.close()
        finally:
            watcher.cancel()
            if not writer.task.done():
                writer.task.cancel()
        if cancelled:
            return ChunkOutcome("cancelled", writer.audited, writer.with_errors, work.already)
        job_done = await self._retrying(
            finish_chunk, self.store, job_id, seq, writer.audited + work.already, writer.with_errors
        )
        return ChunkOutcome("done", writer.audited, writer.with_errors, work.already, job_done)

    async def record(self, work: ChunkWork, lines: list[bytes]) -> None:
        await self._retrying(self._record_lines, work, lines)

    def _record_lines(self, work: ChunkWork, lines: list[bytes]) -> None:
        # the lines as `bulk --store` hands them over: the store keeps their line format
        docs = [_loads(line) for line in lines]
        self.store.record_documents(work.job_id, work.audited_at, docs)

    async def _retrying(self, call: Callable[..., Any], *args: Any) -> Any:
        """`call(*args)` in a thread, tried `write_attempts` times with a doubling pause: a
        PostgreSQL restart or a duplicate write of a retried chunk passes; a store that
        stays away fails the chunk (and the queue retries it later)."""
        delay = self.limits.reconnect_delay
        for attempt in range(1, self.limits.write_attempts + 1):
            try:
                return await asyncio.to_thread(call, *args)
            except StoreError as exc:
                if attempt == self.limits.write_attempts:
                    raise
                log.warning("store write failed (attempt %d): %s; retrying", attempt, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")
