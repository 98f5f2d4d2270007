"""Recording a run as it happens, and importing a results file after the fact.

`StoreRecorder` observes a run: `on_report(report)` for each finished domain (a typed
report), or `on_lines(lines, results)` for each batch of results lines the bulk writer has
just appended, and `on_done()` at the end. A store that fails mid-run does not stop the
run: the recorder stops trying, counts what it could not record, and says so; the results
file stays complete, and `history import` adds the missing audits to the same run later
(the run is found again by `results_run_key`, and (run, domain) is recorded once).
"""

from __future__ import annotations

import gzip
import json
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson

from ..model import DomainReport, Provenance, Severity
from ..report.codec import encode_value, to_json
from ..version import __version__
from .connect import StoreError
from .record import RecordResult, RunInfo, utc_text
from .store import Store, results_run_key

__all__ = ["ImportResult", "StoreRecorder", "import_results", "read_results_lines"]

T = TypeVar("T")
IMPORT_BATCH = 500  # documents per transaction when importing a results file


class StoreRecorder:
    """Records a run's domains into `store`; never raises from its observer methods."""

    def __init__(
        self,
        store: Store,
        kind: str = "bulk",
        *,
        provenance: Provenance | dict[str, Any] | None = None,
        threshold: Severity = Severity.HIGH,
        background: bool = False,
    ) -> None:
        self.store = store
        self.kind = kind
        # the run's DNS sources, kept with the run: which server answered its records
        self.provenance = (
            encode_value(provenance) if isinstance(provenance, Provenance) else provenance
        )
        self.threshold = threshold
        self.started_at = utc_text()
        self.recorded = 0
        self.already = 0
        self.events = 0
        self.not_recorded = 0
        self.error: str | None = None  # set once the store failed: why
        self._run: tuple[int, str] | None = None
        self._run_key: str | None = None
        # background=True: results lines are recorded by a thread of their own, so the
        # event loop that hands them over never waits for the database (its round trips,
        # its inserts, the commit); at most StoreLimits.max_pending_record_batches batches
        # wait their turn, then on_lines waits (a store that falls behind slows the run
        # down rather than filling memory)
        self._pending: queue.Queue[tuple[list[bytes], Path] | None] | None = None
        self._thread: threading.Thread | None = None
        if background:
            self._pending = queue.Queue(store.limits.max_pending_record_batches)

    def _run_id(self, results: Path | None) -> tuple[int, str]:
        if self._run is None:
            key = self._run_key
            if key is None and results is not None:
                key = results_run_key(results, _first_line(results))
            info = RunInfo(
                kind=self.kind,
                started_at=self.started_at,
                tool_version=__version__,
                provenance=self.provenance,
                source=None if results is None else str(results),
                run_key=key,
            )
            self._run = self.store.start_run(info)
        return self._run

    def on_report(self, report: DomainReport) -> None:
        self._record([to_json(report)], None)

    def on_lines(self, lines: list[bytes], results: Path) -> None:
        if self._pending is None:
            self._record_lines(lines, results)
            return
        if self._thread is None:
            try:
                # now, while results.jsonl is certainly there (--compress replaces it at
                # the end, perhaps before the thread has recorded the first batch)
                self._run_key = results_run_key(results, _first_line(results))
            except OSError as exc:
                self.error = f"cannot read {results}: {exc}"
            self._thread = threading.Thread(target=self._drain, name="store-recorder", daemon=True)
            self._thread.start()
        self._pending.put((lines, results))

    def _drain(self) -> None:
        assert self._pending is not None
        while (batch := self._pending.get()) is not None:
            try:
                self._record_lines(*batch)
            except Exception as exc:  # the thread must not end with batches left unheard
                self.error = self.error or f"recording failed: {exc!r}"
                self.not_recorded += len(batch[0])

    def _record_lines(self, lines: list[bytes], results: Path) -> None:
        if self.error is not None:
            self.not_recorded += len(lines)
            return
        # the lines are in results.jsonl already: the store need not wait for its disk
        self._record((orjson.loads(line) for line in lines), results, len(lines), durable=False)

    def _record(
        self,
        docs: Iterable[dict[str, Any]],
        results: Path | None,
        count: int = 1,
        *,
        durable: bool = True,
    ) -> None:
        if self.error is not None:
            self.not_recorded += count
            return
        try:
            run_id, started = self._run_id(results)
            result = self.store.record_documents(
                run_id, started, docs, self.threshold, durable=durable
            )
        except (StoreError, ValueError) as exc:
            self.error = str(exc)
            self.not_recorded += count
            return
        self._add(result)

    def _add(self, result: RecordResult) -> None:
        self.recorded += result.recorded
        self.already += result.already
        self.events += result.events

    def on_done(self, *_args: object) -> None:
        if self._thread is not None and self._pending is not None:
            self._pending.put(None)  # after every batch handed over: all are recorded first
            self._thread.join()
            self._thread = None
        if self._run is None or self.error is not None:
            return
        try:
            self.store.finish_run(self._run[0])
        except StoreError as exc:
            self.error = str(exc)


@dataclass(frozen=True)
class ImportResult:
    run_id: int
    recorded: int
    already: int
    events: int
    unreadable: int  # lines that are not a domain's JSON object (a torn last line)


def read_results_lines(path: Path) -> Iterator[bytes]:
    """The lines of results.jsonl or results.jsonl.gz."""
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        for line in fh:
            if line.strip():
                yield line


def _first_line(path: Path) -> bytes:
    for line in read_results_lines(path):
        return line
    return b""


def import_results(store: Store, path: Path, threshold: Severity = Severity.HIGH) -> ImportResult:
    """Bring a bulk run's results file into the store: the same run as when it was recorded
    live (if it was), each domain once."""
    started = _summary_value(path.parent, "started_at", str) or utc_text(
        path.stat().st_mtime_ns / 1e9
    )
    info = RunInfo(
        kind="bulk",
        started_at=started,
        tool_version=__version__,
        provenance=_summary_value(path.parent, "provenance", dict),
        source=str(path),
        run_key=results_run_key(path, _first_line(path)),
    )
    run_id, run_started = store.start_run(info)
    recorded = already = events = unreadable = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal recorded, already, events
        if batch:
            result = store.record_documents(run_id, run_started, batch, threshold)
            recorded += result.recorded
            already += result.already
            events += result.events
            batch.clear()

    for line in read_results_lines(path):
        try:
            doc = orjson.loads(line)
        except ValueError:
            unreadable += 1
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("domain"), str):
            unreadable += 1
            continue
        batch.append(doc)
        if len(batch) >= IMPORT_BATCH:
            flush()
    flush()
    store.finish_run(run_id)
    return ImportResult(run_id, recorded, already, events, unreadable)


def _summary_value(folder: Path, key: str, kind: type[T]) -> T | None:
    """A value of the run's summary.json beside its results, when it has one of that type."""
    try:
        doc = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = doc.get(key) if isinstance(doc, dict) else None
    return value if isinstance(value, kind) else None
