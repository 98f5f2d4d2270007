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
once (what was not written is audited again on resume).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gc
import io
import json
import multiprocessing
import multiprocessing.queues
import os
import queue
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from ..atomic_write import write_atomically
from ..engine.auditor import Auditor
from ..model import DomainReport
from ..options import AuditOptions
from ..report.csvout import CSV_COLUMNS, domain_csv_row
from ..report.score import score_domain
from ..report.serialize import TOOL_NAME, domain_json_line
from ..resolver.base import Resolver
from ..resolver.caching import CachingResolver
from ..resolver.factory import parse_nameserver, system_nameservers
from ..resolver.ratelimit import RateLimitedResolver
from ..resolver.wire import WireResolver
from ..version import __version__
from .inputs import DomainEntry, InputStats
from .jsonl import ResultsFile, ResultsWriteError, recover
from .progress import Progress
from .summary import BulkSummary, Digest, digest, digest_report

__all__ = [
    "BULK_CACHE_ENTRIES",
    "BULK_MEMO_ENTRIES",
    "CSV_ROWS_NAME",
    "RESULTS_NAME",
    "BulkConfig",
    "BulkOutcome",
    "Item",
    "make_bulk_resolver",
    "per_worker_options",
    "run_bulk",
]

RESULTS_NAME = "results.jsonl"
CSV_ROWS_NAME = ".results.csv.jsonl"  # CSV rows as JSON lines, kept in step with results
SUMMARY_NAME = "summary.json"
CSV_NAME = "results.csv"
INDEX_NAME = "index.html"
PAGES_DIR = "domains"
SUMMARY_VERSION = "1.0"

# Per process. Most answers of a bulk run belong to one domain and are never asked again;
# what is shared (provider includes, MX hosts, report-authorisation records) is asked by
# thousands, so an LRU of this size keeps all of it while memory stays flat.
BULK_CACHE_ENTRIES = 10_000
BULK_MEMO_ENTRIES = 5_000
BATCH_SIZE = 100  # domains per message to a worker process
WORKER_BATCH = 100  # results per message back from a worker process
FLUSH_ITEMS = 256  # results buffered before one write (single process)
FLUSH_SECONDS = 0.5


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


@dataclass
class BulkOutcome:
    total: int  # distinct entries in the input
    reported_before: int  # lines found in results.jsonl by --resume
    reported_now: int
    interrupted: bool
    summary: BulkSummary
    elapsed: float
    output_dir: Path

    @property
    def complete(self) -> bool:
        return not self.interrupted


# ---- one domain's result, computed where the report is (worker or this process) ---------

Item = tuple[str, bytes, bytes, Digest]  # key, results line, CSV-rows line, digest


def make_item(report: DomainReport, pages_dir: Path | None = None) -> Item:
    # the line is encoded straight from the report (domain_json_line: same bytes as
    # json.dumps(domain_to_json(...)), a third of the CPU); the digest is read off the report
    # too (digest_report: what --resume's digest(doc) computes from the line, held equal by
    # the tests)
    score = score_domain(report)
    line = domain_json_line(report, score) + b"\n"
    row = domain_csv_row(report, score)
    csv_line = json.dumps([report.domain, [row.get(c, "") for c in CSV_COLUMNS]]).encode()
    if pages_dir is not None and report.status.value == "completed":
        _write_page(pages_dir, report)
    return report.domain, line, csv_line + b"\n", digest_report(report, score)


def page_name(domain: str) -> str:
    """A valid domain name is already a safe file name: [a-z0-9._-] only."""
    return f"{domain}.html"


def _write_page(pages_dir: Path, report: DomainReport) -> None:
    from .pages import render_domain_page  # jinja2 only when pages are wanted

    write_atomically(pages_dir / page_name(report.domain), render_domain_page(report))


# ---- resolver ---------------------------------------------------------------------------


def make_bulk_resolver(options: AuditOptions, queries_per_second: float | None) -> Resolver:
    """The wire resolver, optionally paced, under a run cache sized for bulk runs."""
    if options.nameservers:
        servers = [parse_nameserver(s) for s in options.nameservers]
    else:
        servers = system_nameservers()
    inner: Resolver = WireResolver(servers, limits=options.limits)
    if queries_per_second:
        inner = RateLimitedResolver(inner, queries_per_second)
    return CachingResolver(inner, max_entries=BULK_CACHE_ENTRIES)


def _make_auditor(
    options: AuditOptions,
    qps: float | None,
    factory: Callable[[], Resolver] | None,
) -> tuple[Auditor, Resolver]:
    resolver = factory() if factory is not None else make_bulk_resolver(options, qps)
    auditor = Auditor(options, resolver=resolver)
    auditor.memo.max_entries = BULK_MEMO_ENTRIES
    return auditor, resolver


# ---- the event loop -----------------------------------------------------------------------
#
# uvloop (libuv, in C) where installed: the bulk run schedules tens of callbacks per domain and
# uvloop's loop does that bookkeeping for ~5% fewer instructions per domain (callgrind, bench
# zone). Results do not depend on the loop; MAILAUTH_AUDIT_LOOP=asyncio rules it out.

LOOP_ENV = "MAILAUTH_AUDIT_LOOP"


def _run_loop(coro: Coroutine[Any, Any, None]) -> None:
    factory = None
    if os.environ.get(LOOP_ENV, "").strip().lower() != "asyncio":
        try:
            import uvloop
        except ImportError:  # not on Windows, or not installed: stock asyncio
            pass
        else:
            factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(coro)


# ---- garbage collection -----------------------------------------------------------------
#
# A bulk run allocates millions of short-lived containers (answers, findings, report
# dataclasses) and almost never makes a reference cycle, yet the collector's default
# thresholds trigger a young-generation pass every 700 allocations and, now and then, a full
# pass over everything the run keeps (imported modules, the run cache). Freezing what exists
# at the start and collecting less often saved ~5% of the CPU per domain (callgrind, bench
# zone); memory stays flat (reference counting frees nearly everything at once).

GC_THRESHOLDS = (20_000, 20, 20)


def _tune_gc() -> None:
    gc.freeze()  # what is alive now (modules, the parsed options) is never scanned again
    gc.set_threshold(*GC_THRESHOLDS)


@contextlib.contextmanager
def _gc_tuned() -> Iterator[None]:
    """For an in-process run: the same tuning, undone afterwards (we are a library here)."""
    before = gc.get_threshold()
    _tune_gc()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


# ---- worker processes -------------------------------------------------------------------
#
# multiprocessing.Process workers, each with its own event loop, Auditor and run cache, fed
# through a bounded queue of small batches and answering through a result queue. Unlike a
# pool task per chunk, a worker never drains its concurrency between chunks, and no more
# than a few batches of results are in transit, so the parent's memory stays small.

_DONE = "done"  # a worker's last message: ("done", None)


def _worker_main(
    tasks: multiprocessing.queues.Queue[list[str] | None],
    results: multiprocessing.queues.Queue[tuple[str, Any]],
    options: AuditOptions,
    qps: float | None,
    pages_dir: Path | None,
) -> None:
    # the parent decides how to stop (a Ctrl-C or a service manager's SIGTERM reaches the
    # whole process group); it kills workers with SIGKILL when it must stop at once
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _tune_gc()
    _run_loop(_worker_loop(tasks, results, options, qps, pages_dir))
    results.put((_DONE, None))


async def _worker_loop(
    tasks: multiprocessing.queues.Queue[list[str] | None],
    results: multiprocessing.queues.Queue[tuple[str, Any]],
    options: AuditOptions,
    qps: float | None,
    pages_dir: Path | None,
) -> None:
    loop = asyncio.get_running_loop()
    auditor, resolver = _make_auditor(options, qps, None)

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
            out.append(make_item(report, pages_dir))
            now = time.monotonic()
            if len(out) >= WORKER_BATCH or now - last >= FLUSH_SECONDS:
                results.put(("items", out))
                out, last = [], now
        if out:
            results.put(("items", out))
    finally:
        await resolver.aclose()


# ---- the parent -------------------------------------------------------------------------


class WorkerDied(RuntimeError):
    """A worker process ended without saying it was done (e.g. killed by the OOM killer)."""


class _StopRequest:
    """First signal: stop feeding; second: stop now (KeyboardInterrupt)."""

    def __init__(self) -> None:
        self.requested = False
        self.on_first: Callable[[], None] = lambda: None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.on_first()


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


def _recover_state(out: Path, summary: BulkSummary) -> set[str]:
    """Keys already reported; rebuilds the counters and trims the CSV rows to match."""
    done: set[str] = set()
    for doc in recover(out / RESULTS_NAME):
        key = doc["domain"]
        if key in done:
            continue
        done.add(key)
        summary.add(digest(doc))
    rows_path = out / CSV_ROWS_NAME
    if rows_path.exists():
        kept: set[str] = set()
        tmp = rows_path.with_name(rows_path.name + ".tmp")
        with tmp.open("wb") as dst:
            for doc in _rows(rows_path):
                if doc[0] in done and doc[0] not in kept:
                    kept.add(doc[0])
                    dst.write(json.dumps(doc).encode() + b"\n")
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, rows_path)
    return done


def _rows(path: Path) -> Iterator[list[Any]]:
    """The complete rows of the CSV-rows file (a torn tail is skipped)."""
    with path.open("rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break
            try:
                doc = json.loads(raw)
            except ValueError:
                break
            if isinstance(doc, list) and len(doc) == 2 and isinstance(doc[0], str):
                yield doc


def _batches(entries: list[DomainEntry], size: int) -> Iterator[list[str]]:
    for i in range(0, len(entries), size):
        yield [e.text for e in entries[i : i + size]]


async def _run_in_process(
    todo: list[DomainEntry],
    config: BulkConfig,
    sink: _Sink,
    stop: _StopRequest,
    pages_dir: Path | None,
) -> None:
    auditor, resolver = _make_auditor(
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


def _run_in_pool(
    todo: list[DomainEntry],
    config: BulkConfig,
    sink: _Sink,
    stop: _StopRequest,
    pages_dir: Path | None,
) -> None:
    n = config.processes
    qps = config.queries_per_second / n if config.queries_per_second else None
    options = per_worker_options(config.options, n)
    # fork on Linux: the workers start at once with everything imported (spawn re-imports
    # the CLI: ~0.8 s of CPU per worker). Safe here: this process has no other thread and no
    # running event loop yet (the queues' feeder threads start with the first put, after the
    # fork). Elsewhere spawn, the platform default.
    method = "fork" if sys.platform == "linux" else "spawn"
    ctx = multiprocessing.get_context(method)
    tasks: multiprocessing.queues.Queue[list[str] | None] = ctx.Queue(maxsize=2 * n)
    results: multiprocessing.queues.Queue[tuple[str, Any]] = ctx.Queue()
    workers = [
        ctx.Process(
            target=_worker_main,
            args=(tasks, results, options, qps, pages_dir),
            name=f"mailauth-bulk-{i}",
            daemon=True,
        )
        for i in range(n)
    ]
    for w in workers:
        w.start()
    batches = _batches(todo, max(1, config.batch_size))
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
                sink.progress.update(sink.count, sink.errors)
                continue
            if kind == _DONE:
                finished += 1
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


def run_bulk(
    entries: list[DomainEntry],
    config: BulkConfig,
    *,
    input_stats: InputStats | None = None,
) -> BulkOutcome:
    """Audit `entries` into `config.output_dir`. Raises ResultsWriteError when the results
    cannot be written (the file keeps whole lines; --resume continues)."""
    out = config.output_dir
    out.mkdir(parents=True, exist_ok=True)
    started_at = _now()
    t0 = time.monotonic()
    summary = BulkSummary()
    done = _recover_state(out, summary) if config.resume else set()
    todo = [e for e in entries if e.key not in done]
    already = len(entries) - len(todo)
    pages_dir = out / PAGES_DIR if config.html_pages else None
    if pages_dir is not None:
        pages_dir.mkdir(exist_ok=True)
    progress = Progress(len(entries), already_done=already, enabled=config.progress)
    stop = _StopRequest()
    stop.on_first = lambda: progress.message(
        "stopping: finishing the domains in flight (press Ctrl-C again to stop at once)"
    )
    interrupted = False
    old_handlers = _install(stop)
    results = ResultsFile(out / RESULTS_NAME)
    rows = ResultsFile(out / CSV_ROWS_NAME)
    sink = _Sink(results, rows, summary, progress)
    try:
        if config.processes <= 1:
            with _gc_tuned():
                _run_loop(_run_in_process(todo, config, sink, stop, pages_dir))
        else:
            _run_in_pool(todo, config, sink, stop, pages_dir)
    except (KeyboardInterrupt, WorkerDied) as exc:
        interrupted = True
        if isinstance(exc, WorkerDied):
            progress.message(f"stopping: {exc}")
        with contextlib.suppress(ResultsWriteError):
            sink.flush()
    finally:
        _restore(old_handlers)
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
    )
    write_reports(outcome, config, input_stats, started_at)
    return outcome


def _install(stop: _StopRequest) -> dict[int, Any]:
    old: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            old[sig] = signal.signal(sig, stop)
    return old


def _restore(old: dict[int, Any]) -> None:
    for sig, handler in old.items():
        signal.signal(sig, handler)


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
        "input": None if input_stats is None else vars(input_stats).copy(),
        "options": {
            "checks": sorted(c.value for c in opts.checks),
            "nameservers": list(opts.nameservers),
            "concurrency": opts.limits.max_concurrent_domains,
            "processes": config.processes,
            "queries_per_second": config.queries_per_second,
        },
        "pages": PAGES_DIR if config.html_pages else None,
        **outcome.summary.to_json(),
    }


def write_reports(
    outcome: BulkOutcome, config: BulkConfig, input_stats: InputStats | None, started_at: str
) -> None:
    out = outcome.output_dir
    doc = summary_document(outcome, config, input_stats, started_at)
    write_atomically(out / SUMMARY_NAME, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    _write_csv(out)
    from .index import render_index  # jinja2 only at the end

    write_atomically(out / INDEX_NAME, render_index(doc))


def _write_csv(out: Path) -> None:
    rows_path = out / CSV_ROWS_NAME
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    fd, tmp = tempfile.mkstemp(prefix=f".{CSV_NAME}.", dir=out)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(buf.getvalue())
            if rows_path.exists():
                w = csv.writer(fh, lineterminator="\r\n")
                for _, row in _rows(rows_path):
                    w.writerow(row)
        os.replace(tmp, out / CSV_NAME)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
