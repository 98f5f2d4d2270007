"""Observers: whoever wants each domain's report as it finishes, and word when the run ends.

A run hands every finished `DomainReport` to its observers, one after another, in the order
they were given, then calls `on_done` once with a `RunSummary`. That is the whole protocol:

- `on_report(report)` is called on the event loop's thread, once per domain, as soon as the
  domain is done (not in input order). It must not block for long: an observer that writes
  (a results file, a database) buffers and writes in batches, as `bulk`'s writers do.
- `on_done(summary)` is called once, also after an interrupted run (`summary.interrupted`),
  so buffered writes reach their file. It is not called when an observer raised: an
  exception from an observer (disk full) stops the run and reaches the caller.

The report is frozen and its judgement (`report.verdict`, `report.checklist`) is made once,
so several observers can read the same report without paying twice. Why not callbacks on
the Auditor: the Auditor stays a function from domain names to reports; a bulk run's JSONL
writer, its CSV rows, its counters, its progress line and a history store are each one more
observer of the same stream, and a client of the facade chooses which it wants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..model import DomainReport, Provenance

__all__ = ["AuditObserver", "RunSummary", "notify_done", "notify_report"]


@dataclass(frozen=True)
class RunSummary:
    """What a run did, for `on_done`: no report is kept, so this stays small."""

    started_at: str  # ISO 8601, UTC
    finished_at: str
    reported: int  # reports handed to the observers in this run
    interrupted: bool = False  # True when the run stopped before every domain was audited
    dns_queries: int = 0  # queries sent upstream (not answered from the run's cache)
    provenance: Provenance | None = None  # where the answers came from


@runtime_checkable
class AuditObserver(Protocol):
    """Receives each finished domain's report, then the run's summary (see the module)."""

    def on_report(self, report: DomainReport) -> None: ...

    def on_done(self, summary: RunSummary) -> None: ...


def notify_report(observers: Sequence[AuditObserver], report: DomainReport) -> None:
    for observer in observers:
        observer.on_report(report)


def notify_done(observers: Iterable[AuditObserver], summary: RunSummary) -> None:
    for observer in observers:
        observer.on_done(summary)
