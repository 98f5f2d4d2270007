"""A bulk run's outputs as observers of the audit (engine/observers.py): the results file,
the CSV rows, the summary counters and the progress line.

Each finished domain is encoded once, into an `Item` (its results line, CSV row and
summary digest; runtime.make_item), where the report is: in this process, or in a worker
process that sends the items on. `BulkSink` is the observer of the audit: it encodes,
buffers, and hands each batch to the item writers below in a fixed order — the CSV rows
before the results lines (a row without its result line is dropped on resume, whereas a
result line without its row would leave results.csv short), then the counters, then the
progress line. A domain is done when its line is in results.jsonl: that is what makes
--resume exactly once.

Every writer here is also an `AuditObserver` on its own (`on_report` encodes just its
part), for a client of `audit_batch` that wants, say, only the results lines.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from ..engine.observers import RunSummary
from ..model import DomainReport, Provenance
from .jsonl import ResultsFile, bulk_line
from .progress import Progress
from .runtime import FLUSH_SECONDS, Item, csv_rows_line, make_item
from .summary import BulkSummary, digest_report

__all__ = [
    "FLUSH_ITEMS",
    "BulkSink",
    "CsvRowsWriter",
    "ItemWriter",
    "JsonlWriter",
    "ProgressObserver",
    "SummaryCounter",
    "csv_rows_line",
]

FLUSH_ITEMS = 256  # results buffered before one write (single process)


class ItemWriter(Protocol):
    """Takes a batch of encoded domains (`Item`s), in the order they finished."""

    def write_items(self, items: Sequence[Item]) -> None: ...

    def on_done(self, summary: RunSummary) -> None: ...


class JsonlWriter:
    """results.jsonl: one line per domain, in bulk/jsonl.py's line format."""

    def __init__(self, file: ResultsFile) -> None:
        self.file = file

    def write_items(self, items: Sequence[Item]) -> None:
        self.file.append([it[1] for it in items])

    def on_report(self, report: DomainReport) -> None:
        self.file.append([bulk_line(report, report.verdict) + b"\n"])

    def on_done(self, summary: RunSummary) -> None:
        self.file.sync()  # closing the file is its opener's business


class LineObserver(Protocol):
    """Told of each batch of results lines once they are in results.jsonl, and of the
    run's end (the history store's recorder is one). Must not raise."""

    def on_lines(self, lines: list[bytes], results: Path) -> None: ...

    def on_done(self, outcome: Any) -> None: ...


class LinesForwarder:
    """An ItemWriter handing the batch's lines, as written, to a LineObserver."""

    def __init__(self, observer: LineObserver, results: Path) -> None:
        self.observer = observer
        self.results = results

    def write_items(self, items: Sequence[Item]) -> None:
        self.observer.on_lines([it[1] for it in items], self.results)

    def on_done(self, summary: RunSummary) -> None:
        return None  # the LineObserver hears of the end with the run's outcome, from core


class CsvRowsWriter:
    """The CSV-rows file results.csv is written from at the end (bulk/folder.py)."""

    def __init__(self, file: ResultsFile) -> None:
        self.file = file

    def write_items(self, items: Sequence[Item]) -> None:
        self.file.append([it[2] for it in items])

    def on_report(self, report: DomainReport) -> None:
        self.file.append([csv_rows_line(report)])

    def on_done(self, summary: RunSummary) -> None:
        self.file.sync()


class SummaryCounter:
    """summary.json's counters: O(1) per domain, whatever the length of the list."""

    def __init__(self, summary: BulkSummary | None = None) -> None:
        self.summary = summary if summary is not None else BulkSummary()

    def write_items(self, items: Sequence[Item]) -> None:
        for it in items:
            self.summary.add(it[3])

    def on_report(self, report: DomainReport) -> None:
        self.summary.add(digest_report(report, report.verdict))

    def on_done(self, summary: RunSummary) -> None:
        pass


class ProgressObserver:
    """The progress line on stderr: domains done this run, and those with a check in error."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.count = 0
        self.errors = 0

    def write_items(self, items: Sequence[Item]) -> None:
        self.count += len(items)
        self.errors += sum(1 for it in items if it[3].errors)
        self.tick()

    def on_report(self, report: DomainReport) -> None:
        self.count += 1
        self.errors += report.has_errors
        self.tick()

    def tick(self) -> None:
        self.progress.update(self.count, self.errors)

    def on_done(self, summary: RunSummary) -> None:
        pass  # the runner prints the last line once the folder is complete


class BulkSink:
    """The observer of a bulk audit: encodes each report once, buffers, and writes batches
    through `writers` in their order (see the module docstring). Worker processes send
    items already encoded: `add` takes those."""

    def __init__(
        self,
        writers: Sequence[ItemWriter],
        *,
        pages_dir: Path | None = None,
        provenance: Provenance | None = None,
        progress: ProgressObserver | None = None,
        flush_items: int = FLUSH_ITEMS,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.writers = tuple(writers)
        self.pages_dir = pages_dir
        self.provenance = provenance  # the run's, shown on each domain page
        self.progress = progress
        self.flush_items = flush_items
        self.flush_seconds = flush_seconds
        self.count = 0  # domains written this run
        self._buffer: list[Item] = []
        self._last_flush = time.monotonic()

    def on_report(self, report: DomainReport) -> None:
        self.add([make_item(report, self.pages_dir, self.provenance)], flush=False)

    def on_done(self, summary: RunSummary) -> None:
        self.flush()
        for writer in self.writers:
            writer.on_done(summary)

    def add(self, items: list[Item], *, flush: bool = True) -> None:
        self._buffer.extend(items)
        if (
            flush
            or len(self._buffer) >= self.flush_items
            or (time.monotonic() - self._last_flush >= self.flush_seconds)
        ):
            self.flush()

    def tick(self) -> None:
        """Redraw the progress line while nothing arrives (the worker pool's idle loop)."""
        if self.progress is not None:
            self.progress.tick()

    def flush(self) -> None:
        batch, self._buffer = self._buffer, []
        self._last_flush = time.monotonic()
        if not batch:
            return
        for writer in self.writers:
            writer.write_items(batch)
        self.count += len(batch)
