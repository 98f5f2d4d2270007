"""What every process of a bulk run sets up the same way: the resolver and Auditor, the
event loop, the garbage collector, and the item a finished domain becomes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

from ..engine.auditor import Auditor
from ..model import DomainReport, DomainStatus, Provenance
from ..options import AuditOptions
from ..outputs import write_output
from ..report.csvout import CSV_COLUMNS, domain_csv_row
from ..resolver.base import Resolver
from ..resolver.caching import CachingResolver
from ..resolver.factory import parse_nameserver, system_nameservers
from ..resolver.ratelimit import RateLimitedResolver
from ..resolver.wire import WireResolver
from .jsonl import bulk_line
from .summary import Digest, digest_report

__all__ = [
    "BULK_CACHE_ENTRIES",
    "BULK_MEMO_ENTRIES",
    "FLUSH_SECONDS",
    "LOOP_ENV",
    "Item",
    "csv_rows_line",
    "gc_tuned",
    "make_auditor",
    "make_bulk_resolver",
    "make_item",
    "page_name",
    "run_loop",
    "tune_gc",
]

# Per process. Most answers of a bulk run belong to one domain and are never asked again;
# what is shared (provider includes, MX hosts, report-authorisation records) is asked by
# thousands, so an LRU of this size keeps all of it while memory stays flat.
BULK_CACHE_ENTRIES = 10_000
BULK_MEMO_ENTRIES = 5_000
FLUSH_SECONDS = 0.5  # longest a finished result waits in a buffer before it is sent on


# ---- one domain's result, computed where the report is (worker or this process) ---------

Item = tuple[str, bytes, bytes, Digest]  # key, results line, CSV-rows line, digest


def make_item(
    report: DomainReport, pages_dir: Path | None = None, provenance: Provenance | None = None
) -> Item:
    # the line is encoded straight from the report (bulk_line: orjson on the dataclasses, a
    # third of the json module's CPU); the digest is read off the report too (digest_report:
    # what --resume's digest(doc) computes from the line, held equal by the tests)
    score = report.verdict  # judged once, on the report
    line = bulk_line(report, score) + b"\n"
    if pages_dir is not None and report.status is _COMPLETED:
        _write_page(pages_dir, report, provenance)
    return report.domain, line, csv_rows_line(report), digest_report(report, score)


def csv_rows_line(report: DomainReport) -> bytes:
    """One line of the CSV-rows file: [domain, [cells in CSV_COLUMNS order]].

    Written as `json.dumps([domain, cells])` writes it (", " between items, non-ASCII
    escaped), each string by the json module's own escaping function: every cell is a
    string, so the encoder's walk over the list is not needed."""
    row = domain_csv_row(report, report.verdict)
    cells = ", ".join(map(_json_string, map(row.get, CSV_COLUMNS, _EMPTY_CELLS)))
    return f"[{_json_string(report.domain)}, [{cells}]]\n".encode()


_EMPTY_CELLS = ("",) * len(CSV_COLUMNS)  # row.get's default for each column
_json_string = json.encoder.encode_basestring_ascii  # what json.dumps writes a str as
_COMPLETED = DomainStatus.COMPLETED


def page_name(domain: str) -> str:
    """A valid domain name is already a safe file name: [a-z0-9._-] only."""
    return f"{domain}.html"


def _write_page(pages_dir: Path, report: DomainReport, provenance: Provenance | None) -> None:
    from ..report.bulk_pages import render_domain_page  # jinja2 only when pages are wanted

    write_output(pages_dir / page_name(report.domain), render_domain_page(report, provenance))


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


def make_auditor(
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
# uvloop's loop does that bookkeeping in fewer instructions (figures: docs/BENCHMARKS.md).
# Results do not depend on the loop; MAILAUTH_AUDIT_LOOP=asyncio rules it out.

LOOP_ENV = "MAILAUTH_AUDIT_LOOP"


def run_loop(coro: Coroutine[Any, Any, None]) -> None:
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
# at the start and collecting less often saves CPU per domain (figures: docs/BENCHMARKS.md);
# memory stays flat (reference counting frees nearly everything at once).

GC_THRESHOLDS = (20_000, 20, 20)


def tune_gc() -> None:
    gc.freeze()  # what is alive now (modules, the parsed options) is never scanned again
    gc.set_threshold(*GC_THRESHOLDS)


@contextlib.contextmanager
def gc_tuned() -> Iterator[None]:
    """For an in-process run: the same tuning, undone afterwards (we are a library here)."""
    before = gc.get_threshold()
    tune_gc()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
