"""A bulk run: thousands of domains through the Auditor, streamed to disk, resumable.

Shape of a run::

    domain list ──► entries (folded, invalid ones kept) ──► minus what results.jsonl holds
        │
        ├─ processes=1: Auditor.audit_stream (bounded queue → workers) in this process
        └─ processes=N: concurrent.futures.ProcessPoolExecutor; each worker process has its own
                        event loop, Auditor and run cache, and audits chunks of the list
        ▼
    Item(key, JSON line, CSV row, Digest) ──► parent, the only writer: results.jsonl (+ the
        CSV rows file), BulkSummary counters, progress ──► at the end summary.json,
        results.csv, index.html

Exactly once: a domain counts as done only when its line is in results.jsonl. On --resume,
`jsonl.recover` cuts any damaged tail, and every entry whose key has a line is skipped, so
no domain is lost (it is audited again) and none is duplicated (the parent writes each key
at most once per run, and never a key that recover() found).

Signals: the first Ctrl-C or SIGTERM stops feeding new domains, lets the ones in flight
finish, writes the summary of what is done and says how to resume; a second one stops at
once (what was not written is audited again on resume). Worker processes die with the
parent, even one killed with SIGKILL (workers.py).

Resume continues the same run only: run.json records the domain list and the options that
change results, and a mismatch is refused (manifest.py); lines for domains not in the list
are reported as foreign, never counted. The folder's files are checked before any work and
never opened through a symlink (folder.py).

This module is the LOCAL runner: it owns the process, so it installs the stop handlers,
tunes the garbage collector, picks the event loop (uvloop) and starts worker processes.
Everything else is the in-loop core (core.py), which a task-queue worker calls without
forking or touching signal handlers.

Modules: core.py (the folder, the audit with its observers, the final files),
observers.py (results, CSV rows, counters, progress), runtime.py (resolver, loop, GC,
items), workers.py (processes and their lifecycle), folder.py (the output folder's files),
manifest.py (run.json).
"""

from __future__ import annotations

import asyncio  # noqa: F401  (tests patch runner.asyncio.Runner)
import contextlib
from collections.abc import Iterator

from .core import (
    BATCH_SIZE,
    SUMMARY_VERSION,
    BulkConfig,
    BulkFolder,
    BulkOutcome,
    audit_folder,
    run_bulk_in_loop,
    summary_document,
    write_reports,
)
from .folder import CSV_ROWS_NAME, RESULTS_NAME
from .inputs import DomainEntry, InputStats
from .jsonl import ResultsWriteError
from .observers import FLUSH_ITEMS
from .runtime import (
    BULK_CACHE_ENTRIES,
    BULK_MEMO_ENTRIES,
    LOOP_ENV,
    Item,
    gc_tuned,
    make_auditor,
    make_bulk_resolver,
    make_item,
    run_loop,
    tune_gc,
)
from .workers import (
    StopRequest,
    WorkerDied,
    install_stop,
    per_worker_options,
    restore_signals,
    run_in_pool,
)

__all__ = [
    "BATCH_SIZE",
    "BULK_CACHE_ENTRIES",
    "BULK_MEMO_ENTRIES",
    "CSV_ROWS_NAME",
    "FLUSH_ITEMS",
    "LOOP_ENV",
    "RESULTS_NAME",
    "SUMMARY_VERSION",
    "BulkConfig",
    "BulkOutcome",
    "Item",
    "make_bulk_resolver",
    "make_item",
    "per_worker_options",
    "run_bulk",
    "run_bulk_in_loop",
    "summary_document",
    "write_reports",
]

# the names benchmarks/instructions.py drives a worker's loop with
_make_auditor, _tune_gc, _run_loop = make_auditor, tune_gc, run_loop


def _batches(entries: list[DomainEntry], size: int) -> Iterator[list[str]]:
    for i in range(0, len(entries), size):
        yield [e.text for e in entries[i : i + size]]


def run_bulk(
    entries: list[DomainEntry],
    config: BulkConfig,
    *,
    input_stats: InputStats | None = None,
) -> BulkOutcome:
    """Audit `entries` into `config.output_dir`, owning this process for the run.

    Raises, before any domain is audited: OutputRefused when a file of the folder is a
    symlink or not a regular file; ResumeMismatch when --resume meets another run's folder.
    Raises ResultsWriteError when the results cannot be written (the file keeps whole
    lines; --resume continues)."""
    folder = BulkFolder.open(entries, config)
    config = folder.config  # with the run's audit date fixed (see BulkFolder.open)
    progress, sink = folder.progress, folder.sink
    stop = StopRequest()
    stop.on_first = lambda: progress.message(
        "stopping: finishing the domains in flight (press Ctrl-C again to stop at once)"
    )
    interrupted = False
    old_handlers = install_stop(stop)
    try:
        if config.processes <= 1:
            with gc_tuned():
                run_loop(_audit(folder, stop))
        else:
            run_in_pool(
                _batches(folder.todo, max(1, config.batch_size)),
                config.processes,
                config.options,
                config.queries_per_second,
                folder.pages_dir,
                sink,
                stop,
                provenance=config.provenance,
            )
            # the workers' items are written; the observers hear the end as in one process
            sink.on_done(folder.run_summary(interrupted=stop.requested))
    except (KeyboardInterrupt, WorkerDied) as exc:
        interrupted = True
        if isinstance(exc, WorkerDied):
            progress.message(f"stopping: {exc}")
        with contextlib.suppress(ResultsWriteError):
            sink.flush()
    finally:
        restore_signals(old_handlers)
        folder.close()
    return folder.finish(interrupted or stop.requested, input_stats)


async def _audit(folder: BulkFolder, stop: StopRequest) -> None:
    await audit_folder(folder, should_stop=lambda: stop.requested)
