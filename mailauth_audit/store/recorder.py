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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

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

    def _run_id(self, results: Path | None) -> tuple[int, str]:
        if self._run is None:
            key = None
            if results is not None:
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
        if self.error is not None:
            self.not_recorded += len(lines)
            return
        self._record((json.loads(line) for line in lines), results, len(lines))

    def _record(self, docs: Iterable[dict[str, Any]], results: Path | None, count: int = 1) -> None:
        if self.error is not None:
            self.not_recorded += count
            return
        try:
            run_id, started = self._run_id(results)
            result = self.store.record_documents(run_id, started, docs, self.threshold)
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
            doc = json.loads(line)
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
