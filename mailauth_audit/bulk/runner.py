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

Modules: runtime.py (resolver, loop, GC, items), workers.py (processes and their
lifecycle), folder.py (the output folder's files), manifest.py (run.json).
"""

from __future__ import annotations

import asyncio  # noqa: F401  (tests patch runner.asyncio.Runner)
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..model import Provenance
from ..options import AuditOptions
from ..outputs import write_output
from ..report.serialize import TOOL_NAME, to_jsonable
from ..resolver.base import Resolver
from ..version import __version__
from .folder import (
    COMPRESSED_NAMES,
    CSV_ROWS_NAME,
    PAGES_DIR,
    RESULTS_NAME,
    SUMMARY_NAME,
    compress_results,
    compressed_results,
    preflight,
    recover_state,
    write_csv,
)
from .inputs import DomainEntry, InputStats
from .jsonl import LINE_FORMAT, ResultsFile, ResultsWriteError, checklist_items, finding_texts
from .manifest import ResumeMismatch, RunManifest, check_resume, write_manifest
from .progress import Progress
from .runtime import (
    BULK_CACHE_ENTRIES,
    BULK_MEMO_ENTRIES,
    FLUSH_SECONDS,
    LOOP_ENV,
    Item,
    gc_tuned,
    make_auditor,
    make_bulk_resolver,
    make_item,
    run_loop,
    tune_gc,
)
from .summary import BulkSummary
from .workers import (
    StopRequest,
    WorkerDied,
    install_stop,
    per_worker_options,
    restore_signals,
    run_in_pool,
)

__all__ = [
    "BULK_CACHE_ENTRIES",
    "BULK_MEMO_ENTRIES",
    "CSV_ROWS_NAME",
    "LOOP_ENV",
    "RESULTS_NAME",
    "BulkConfig",
    "BulkOutcome",
    "Item",
    "make_bulk_resolver",
    "make_item",
    "per_worker_options",
    "run_bulk",
]

# the names benchmarks/instructions.py drives a worker's loop with
_make_auditor, _tune_gc, _run_loop = make_auditor, tune_gc, run_loop

SUMMARY_VERSION = "1.2"  # 1.1: results_file, results_line_format, checklist_items
# 1.2: finding_texts (results line format 3 gives a finding's code and values, not its texts)
BATCH_SIZE = 100  # domains per message to a worker process
FLUSH_ITEMS = 256  # results buffered before one write (single process)


@dataclass(frozen=True)
class BulkConfig:
    output_dir: Path
    options: AuditOptions = field(default_factory=AuditOptions)
    processes: int = 1  # worker processes; 1 audits in this process
    resume: bool = False
    html_pages: bool = False
    queries_per_second: float | None = None  # across all processes; None: no cap
    progress: bool = True
    batch_size: int = BATCH_SIZE
    # tests and zone-file audits: a resolver factory instead of the network (processes=1)
    resolver_factory: Callable[[], Resolver] | None = None
    resume_hint: str = ""  # the command that resumes this run, for the interruption message
    # where the answers come from (resolvers or zone files), as summary.json states it
    provenance: Provenance | None = None
    # "gzip": results.jsonl is compressed to results.jsonl.gz once the run is complete
    compress: str | None = None


@dataclass
class BulkOutcome:
    total: int  # distinct entries in the input
    reported_before: int  # lines found in results.jsonl by --resume
    reported_now: int
    interrupted: bool
    summary: BulkSummary
    elapsed: float
    output_dir: Path
    foreign: int = 0  # lines in results.jsonl for domains not in this list (not counted)

    @property
    def complete(self) -> bool:
        return not self.interrupted


class _Sink:
    """The single writer: results, CSV rows, counters and progress."""

    def __init__(
        self, results: ResultsFile, rows: ResultsFile, summary: BulkSummary, progress: Progress
    ) -> None:
        self.results = results
        self.rows = rows
        self.summary = summary
        self.progress = progress
        self.count = 0
        self.errors = 0
        self._buffer: list[Item] = []
        self._last_flush = time.monotonic()

    def add(self, items: list[Item], *, flush: bool = True) -> None:
        self._buffer.extend(items)
        if (
            flush
            or len(self._buffer) >= FLUSH_ITEMS
            or (time.monotonic() - self._last_flush >= FLUSH_SECONDS)
        ):
            self.flush()

    def tick(self) -> None:
        self.progress.update(self.count, self.errors)

    def flush(self) -> None:
        batch, self._buffer = self._buffer, []
        self._last_flush = time.monotonic()
        if not batch:
            return
        # CSV rows first: a row without its result line is dropped on resume, whereas a
        # result line without its row would leave results.csv short
        self.rows.append([it[2] for it in batch])
        self.results.append([it[1] for it in batch])
        for it in batch:
            d = it[3]
            self.summary.add(d)
            if d.errors:
                self.errors += 1
        self.count += len(batch)
        self.progress.update(self.count, self.errors)


def _batches(entries: list[DomainEntry], size: int) -> Iterator[list[str]]:
    for i in range(0, len(entries), size):
        yield [e.text for e in entries[i : i + size]]


async def _run_in_process(
    todo: list[DomainEntry],
    config: BulkConfig,
    sink: _Sink,
    stop: StopRequest,
    pages_dir: Path | None,
) -> None:
    auditor, resolver = make_auditor(
        config.options, config.queries_per_second, config.resolver_factory
    )

    async def feed() -> AsyncIterator[str]:
        for entry in todo:
            if stop.requested:
                return
            yield entry.text

    try:
        async for report in auditor.audit_stream(feed()):
            sink.add([make_item(report, pages_dir)], flush=False)
    finally:
        sink.flush()
        await resolver.aclose()


def run_bulk(
    entries: list[DomainEntry],
    config: BulkConfig,
    *,
    input_stats: InputStats | None = None,
) -> BulkOutcome:
    """Audit `entries` into `config.output_dir`.

    Raises, before any domain is audited: OutputRefused when a file of the folder is a
    symlink or not a regular file; ResumeMismatch when --resume meets another run's folder.
    Raises ResultsWriteError when the results cannot be written (the file keeps whole
    lines; --resume continues)."""
    out = config.output_dir
    out.mkdir(parents=True, exist_ok=True)
    preflight(out, pages=config.html_pages)
    keys = {e.key for e in entries}
    manifest = RunManifest.of(keys, config.options, html_pages=config.html_pages)
    if config.resume:
        check_resume(out, manifest)
        finished = compressed_results(out)
        if finished is not None:
            raise ResumeMismatch(
                f"{finished} holds a finished, compressed run: --resume appends to an "
                f"uncompressed {RESULTS_NAME} (decompress it there to continue that run)"
            )
    write_manifest(out, manifest)
    started_at = _now()
    t0 = time.monotonic()
    summary = BulkSummary()
    done, foreign = recover_state(out, summary, keys) if config.resume else (set(), 0)
    todo = [e for e in entries if e.key not in done]
    already = len(entries) - len(todo)
    pages_dir = out / PAGES_DIR if config.html_pages else None
    if pages_dir is not None:
        pages_dir.mkdir(exist_ok=True)
    progress = Progress(len(entries), already_done=already, enabled=config.progress)
    stop = StopRequest()
    stop.on_first = lambda: progress.message(
        "stopping: finishing the domains in flight (press Ctrl-C again to stop at once)"
    )
    interrupted = False
    results = ResultsFile(out / RESULTS_NAME)
    try:
        rows = ResultsFile(out / CSV_ROWS_NAME)
    except BaseException:
        results.close()
        raise
    old_handlers = install_stop(stop)
    sink = _Sink(results, rows, summary, progress)
    try:
        if config.processes <= 1:
            with gc_tuned():
                run_loop(_run_in_process(todo, config, sink, stop, pages_dir))
        else:
            run_in_pool(
                _batches(todo, max(1, config.batch_size)),
                config.processes,
                config.options,
                config.queries_per_second,
                pages_dir,
                sink,
                stop,
            )
    except (KeyboardInterrupt, WorkerDied) as exc:
        interrupted = True
        if isinstance(exc, WorkerDied):
            progress.message(f"stopping: {exc}")
        with contextlib.suppress(ResultsWriteError):
            sink.flush()
    finally:
        restore_signals(old_handlers)
        results.close()
        rows.close()
    interrupted = interrupted or stop.requested
    progress.finish()
    outcome = BulkOutcome(
        total=len(entries),
        reported_before=already,
        reported_now=sink.count,
        interrupted=interrupted,
        summary=summary,
        elapsed=time.monotonic() - t0,
        output_dir=out,
        foreign=foreign,
    )
    if outcome.complete and config.compress:
        compress_results(out, config.compress)
    write_reports(outcome, config, input_stats, started_at)
    return outcome


# ---- the final files --------------------------------------------------------------------


def summary_document(
    outcome: BulkOutcome, config: BulkConfig, input_stats: InputStats | None, started_at: str
) -> dict[str, Any]:
    opts = config.options
    return {
        "summary_version": SUMMARY_VERSION,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "complete": outcome.complete,
        "started_at": started_at,
        "finished_at": _now(),
        "elapsed_seconds": round(outcome.elapsed, 3),
        "domains_total": outcome.total,
        "domains_reported_before_resume": outcome.reported_before,
        "domains_reported_this_run": outcome.reported_now,
        # lines in results.jsonl for domains not in this run's list: kept, never counted
        "domains_foreign": outcome.foreign,
        "input": None if input_stats is None else vars(input_stats).copy(),
        "options": {
            "checks": sorted(c.value for c in opts.checks),
            "nameservers": list(opts.nameservers),
            "concurrency": opts.limits.max_concurrent_domains,
            "processes": config.processes,
            "queries_per_second": config.queries_per_second,
        },
        "pages": PAGES_DIR if config.html_pages else None,
        # results.jsonl lines name checklist items by id; what each id stands for, said once
        "results_file": _results_name(outcome, config),
        "results_line_format": LINE_FORMAT,
        "checklist_items": checklist_items(),
        "finding_texts": finding_texts(),
        "provenance": to_jsonable(config.provenance),
        **outcome.summary.to_json(),
    }


def _results_name(outcome: BulkOutcome, config: BulkConfig) -> str:
    if outcome.complete and config.compress:
        return COMPRESSED_NAMES[config.compress]
    return RESULTS_NAME


def write_reports(
    outcome: BulkOutcome, config: BulkConfig, input_stats: InputStats | None, started_at: str
) -> None:
    out = outcome.output_dir
    doc = summary_document(outcome, config, input_stats, started_at)
    write_output(out / SUMMARY_NAME, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    write_csv(out)
    from .index import write_index  # jinja2 only at the end

    write_index(out, doc)  # index.html and index-2.html…: every domain of the run, listed


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
