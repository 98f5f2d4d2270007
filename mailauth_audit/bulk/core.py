"""The core of a bulk run, in the running event loop: the output folder, the audit with its
observers, the final files. No processes, no signal handlers, no GC or event-loop policy:
those belong to the local runner (runner.py), which wraps this core for the command line.
A task-queue worker (a service) calls `run_bulk_in_loop` inside its own loop instead.

    BulkFolder.open   preflight, run.json, --resume's recovery, the streamed files opened,
                      the observers that write them (observers.py)
    audit_folder      Auditor.audit_batch(what is left to do, observers=[the sink])
    BulkFolder.finish the last progress line, --compress, summary.json, results.csv, index.html

See runner.py for the exactly-once argument and how a run is stopped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..engine.observers import RunSummary
from ..model import Provenance, SourceKind
from ..options import AuditOptions, audit_date
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
from .jsonl import LINE_FORMAT, ResultsFile, checklist_items, finding_texts
from .manifest import (
    ResumeMismatch,
    RunManifest,
    ZoneFileRef,
    mismatch,
    read_manifest,
    write_manifest,
)
from .observers import (
    BulkSink,
    CsvRowsWriter,
    ItemWriter,
    JsonlWriter,
    LineObserver,
    LinesForwarder,
    ProgressObserver,
    SummaryCounter,
)
from .progress import Progress
from .runtime import make_auditor
from .summary import BulkSummary

__all__ = [
    "SUMMARY_VERSION",
    "BulkConfig",
    "BulkFolder",
    "BulkOutcome",
    "audit_folder",
    "run_bulk_in_loop",
    "summary_document",
    "write_reports",
]

# 1.1: results_file, results_line_format, checklist_items; 1.2: finding_texts (results line
# format 3 gives a finding's code and values, not its texts); 1.3: options.max_selectors,
# options.audit_date, options.zone_files
SUMMARY_VERSION = "1.3"
BATCH_SIZE = 100  # domains per message to a worker process


@dataclass(frozen=True)
class BulkConfig:
    output_dir: Path
    options: AuditOptions = field(default_factory=AuditOptions)
    processes: int = 1  # worker processes; 1 audits in this process
    resume: bool = False
    html_pages: bool = False
    queries_per_second: float | None = None  # across all processes; None: no cap
    progress: bool = True
    batch_size: int = BATCH_SIZE  # domains per message to a worker process
    # tests and zone-file audits: a resolver factory instead of the network (processes=1)
    resolver_factory: Callable[[], Resolver] | None = None
    resume_hint: str = ""  # the command that resumes this run, for the interruption message
    # where the answers come from (resolvers or zone files), as summary.json states it
    provenance: Provenance | None = None
    # "gzip": results.jsonl is compressed to results.jsonl.gz once the run is complete
    compress: str | None = None
    # told of each batch of results lines once they are in the file (`on_lines(lines,
    # path)`) and of the end (`on_done(outcome)`), in this process: the history store's
    # recorder. An observer must not raise; it is not allowed to hold the run up.
    line_observers: tuple[LineObserver, ...] = ()


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


class BulkFolder:
    """One run's output folder, opened: what is left to do, and the observers writing it."""

    def __init__(
        self,
        config: BulkConfig,
        entries: list[DomainEntry],
        todo: list[DomainEntry],
        foreign: int,
        summary: BulkSummary,
        progress: Progress,
        results: ResultsFile,
        rows: ResultsFile,
    ) -> None:
        self.config = config
        self.entries = entries
        self.todo = todo  # entries without a line in results.jsonl
        self.foreign = foreign
        self.summary = summary
        self.progress = progress
        self.results = results
        self.rows = rows
        self.pages_dir = config.output_dir / PAGES_DIR if config.html_pages else None
        self.progress_observer = ProgressObserver(progress)
        # the order is the crash-safety argument of observers.py: rows, lines, counts, progress
        writers: list[ItemWriter] = [
            CsvRowsWriter(rows),
            JsonlWriter(results),
            *(LinesForwarder(o, results.path) for o in config.line_observers),
            SummaryCounter(summary),
            self.progress_observer,
        ]
        self.sink = BulkSink(
            writers,
            pages_dir=self.pages_dir,
            provenance=config.provenance,
            progress=self.progress_observer,
        )
        self.started_at = _now()
        self._t0 = time.monotonic()

    @classmethod
    def open(cls, entries: list[DomainEntry], config: BulkConfig) -> BulkFolder:
        """Check and open the folder. Raises, before any domain is audited: OutputRefused
        when a file of the folder is a symlink or not a regular file; ResumeMismatch when
        --resume meets another run's folder.

        The run has one audit date (the date-style DKIM selectors follow it): the one given
        in the options, else the one recorded when --resume continues a run, else today in
        UTC; the folder's config carries it."""
        out = config.output_dir
        out.mkdir(parents=True, exist_ok=True)
        preflight(out, pages=config.html_pages)
        keys = {e.key for e in entries}
        before = read_manifest(out) if config.resume else None
        config = replace(config, options=replace(config.options, today=_run_date(config, before)))
        manifest = RunManifest.of(
            keys, config.options, html_pages=config.html_pages, zone_files=zone_file_refs(config)
        )
        if config.resume:
            mismatch(out, before, manifest)
            finished = compressed_results(out)
            if finished is not None:
                raise ResumeMismatch(
                    f"{finished} holds a finished, compressed run: --resume appends to an "
                    f"uncompressed {RESULTS_NAME} (decompress it there to continue that run)"
                )
        write_manifest(out, manifest)
        summary = BulkSummary()
        done, foreign = recover_state(out, summary, keys) if config.resume else (set(), 0)
        todo = [e for e in entries if e.key not in done]
        if config.html_pages:
            (out / PAGES_DIR).mkdir(exist_ok=True)
        progress = Progress(
            len(entries), already_done=len(entries) - len(todo), enabled=config.progress
        )
        results = ResultsFile(out / RESULTS_NAME)
        try:
            rows = ResultsFile(out / CSV_ROWS_NAME)
        except BaseException:
            results.close()
            raise
        return cls(config, entries, todo, foreign, summary, progress, results, rows)

    def run_summary(self, *, interrupted: bool) -> RunSummary:
        """For observers fed by worker processes: what this process saw of the run (the
        workers' DNS queries are theirs to count)."""
        return RunSummary(
            started_at=self.started_at,
            finished_at=_now(),
            reported=self.sink.count,
            interrupted=interrupted,
            provenance=self.config.provenance,
        )

    def close(self) -> None:
        """Close the streamed files (synced first); `finish` may follow."""
        self.results.close()
        self.rows.close()

    def finish(self, interrupted: bool, input_stats: InputStats | None = None) -> BulkOutcome:
        """The last progress line, then --compress and the final files; the outcome."""
        self.progress.finish()
        config = self.config
        outcome = BulkOutcome(
            total=len(self.entries),
            reported_before=len(self.entries) - len(self.todo),
            reported_now=self.sink.count,
            interrupted=interrupted,
            summary=self.summary,
            elapsed=time.monotonic() - self._t0,
            output_dir=config.output_dir,
            foreign=self.foreign,
        )
        if outcome.complete and config.compress:
            compress_results(config.output_dir, config.compress)
        write_reports(outcome, config, input_stats, self.started_at)
        for observer in config.line_observers:
            observer.on_done(outcome)
        return outcome


def _run_date(config: BulkConfig, before: RunManifest | None) -> date:
    if config.options.today is not None:
        return config.options.today
    if before is not None and before.audit_date is not None:
        try:
            return date.fromisoformat(before.audit_date)
        except ValueError:
            raise ResumeMismatch(
                f"cannot resume the run in {config.output_dir}: its run.json records an "
                f"unreadable audit date {before.audit_date[:40]!r}"
            ) from None
    return audit_date()


def zone_file_refs(config: BulkConfig) -> tuple[ZoneFileRef, ...]:
    """The --zone-file(s) the answers come from, as the provenance names them."""
    sources = config.provenance.sources if config.provenance is not None else ()
    return tuple(
        ZoneFileRef(path=s.path, sha256=s.sha256)
        for s in sources
        if s.kind is SourceKind.ZONE_FILE and s.path is not None and s.sha256 is not None
    )


async def audit_folder(
    folder: BulkFolder, *, should_stop: Callable[[], bool] | None = None
) -> RunSummary:
    """Audit what is left of the folder's list in the running loop, into its observers."""
    config = folder.config
    auditor, resolver = make_auditor(
        config.options, config.queries_per_second, config.resolver_factory
    )
    try:
        return await auditor.audit_batch(
            (e.text for e in folder.todo), [folder.sink], should_stop=should_stop
        )
    finally:
        await resolver.aclose()


async def run_bulk_in_loop(
    entries: list[DomainEntry],
    config: BulkConfig,
    *,
    input_stats: InputStats | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> BulkOutcome:
    """A whole bulk run inside the running event loop, for callers that own the loop and
    the process (a task-queue worker): no fork, no signal handler, no GC or loop policy.
    `should_stop` ends it early (the domains in flight are finished and written; the run
    is then resumable). Raises as `BulkFolder.open` does, and ResultsWriteError."""
    if config.processes > 1:
        raise ValueError(
            "processes > 1 needs the local runner (bulk.runner.run_bulk): worker processes "
            "are started by forking, which a library call inside a running loop must not do"
        )
    folder = BulkFolder.open(entries, config)
    try:
        done = await audit_folder(folder, should_stop=should_stop)
    finally:
        folder.close()
    return folder.finish(done.interrupted, input_stats)


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
            # what decides which DKIM selectors were probed, and where the answers came from
            "max_selectors": opts.limits.max_dkim_selectors,
            "audit_date": None if opts.today is None else opts.today.isoformat(),
            "zone_files": [{"path": z.path, "sha256": z.sha256} for z in zone_file_refs(config)],
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
