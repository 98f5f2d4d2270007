"""Bulk audits: thousands of domains per run, streamed to disk, resumable, summarised.

See runner.py for the shape of a run and the exactly-once argument.
"""

from .inputs import DomainEntry, InputStats, iter_entries, read_entries
from .jsonl import ResultsFile, ResultsWriteError, recover
from .manifest import ResumeMismatch, RunManifest
from .runner import BulkConfig, BulkOutcome, make_bulk_resolver, run_bulk
from .summary import BulkSummary, Digest, digest

__all__ = [
    "BulkConfig",
    "BulkOutcome",
    "BulkSummary",
    "Digest",
    "DomainEntry",
    "InputStats",
    "ResultsFile",
    "ResultsWriteError",
    "ResumeMismatch",
    "RunManifest",
    "digest",
    "iter_entries",
    "make_bulk_resolver",
    "read_entries",
    "recover",
    "run_bulk",
]
