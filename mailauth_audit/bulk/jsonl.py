"""The results file: one JSON line per domain, appended as each domain finishes.

Crash safety, and why it is enough:

- Every batch of lines goes to the file in one `os.write` on an O_APPEND descriptor. A
  process killed by SIGKILL loses nothing the kernel has accepted: the page cache outlives
  the process. A power loss can lose what was not yet on disk, and may leave a torn or
  zero-filled tail.
- fsync policy: the file is fsynced at most once per `sync_interval` seconds (default 1 s)
  while the run goes on, and always when the run ends or is interrupted. So a power loss
  costs at most the last second of results, and those domains are simply audited again.
- Both files are opened through `outputs.open_regular`: never through a symlink planted at
  their name (--resume truncates), and only when they are regular files.
- `recover()` (used by --resume) reads the file from the start and truncates it just before
  the first line that is not a complete JSON object with a "domain": a torn last line never
  survives to break a parser, and every domain whose line survives is not audited again.
- A failed write (disk full, file-size limit) truncates the file back to its last complete
  line before the error is raised, so what was written stays valid JSON lines.

The line (LINE_FORMAT, the first key of every line since format 2):

- format 1 (no "line_format" key): `check --format json`'s domain object as it is.
- format 2: the same object without what repeats itself: no domain-level "findings" (the
  per-check findings are the one copy; the domain's list is their union, sorted), and the
  checklist as {item id: state} (the items' requirement, providers and references are in
  summary.json "checklist_items"; the evidence sentences follow from the facts in the line).
- format 3: format 2 with each finding in its sparse form (`report/sparse.py`): code,
  severity, template values (`params`, an object) and evidence; its check, title, sentences
  and references are the catalogue's (said once in summary.json "finding_texts"), written
  only where they differ (a clipped text). An outcome's empty parts (no result, no findings,
  no error, no skip reason) and the top level's null ones are left out.
- format 4: format 3 written straight from the typed report in the slim form
  (`report/slim.py`): a field of a result, record change or score at its default or empty
  value (null, false, 0, "", [], {}) is left out; a record change's `fixes` when it is its
  finding's code, its `placeholders` when they are the <...> tokens of `proposed`, and a
  replace's `current` when it is the result's `record`; a skipped check is its status and
  reason (no result); an SPF result's record copies and include-tree counts and a DKIM
  selector's name and key (its record's p=) when they follow from the rest
  (`report/slim_rules.py`).
  `report.codec.from_json` reads every format back to the same typed report (format 4: a
  skipped check without the partial result it had gathered).
"""

from __future__ import annotations

import contextlib
import errno
import json
import operator
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..model import DomainReport
from ..outputs import open_regular
from ..report.codec import FORMAT_KEY, encode_value
from ..report.slim import slim_outcome, slim_value
from ..report.sparse import catalogue
from ..verdicts.checklist import ProviderChecklist, provider_checklist
from ..verdicts.score import DomainScore

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency
    orjson = None  # type: ignore[assignment]

__all__ = [
    "LINE_FORMAT",
    "ResultsFile",
    "ResultsWriteError",
    "bulk_line",
    "checklist_items",
    "finding_texts",
    "recover",
]

LINE_FORMAT = 4  # see the module docstring; a change here is a change for every reader

DEFAULT_SYNC_INTERVAL = 1.0  # seconds between fsyncs of the results file during a run


# (a checklist item's id, its state's value), read in C
_ITEM_PAIR = operator.attrgetter("id", "state._value_")


def bulk_line(report: DomainReport, score: DomainScore | None = None) -> bytes:
    """One results line (without its newline): compact UTF-8 JSON, format LINE_FORMAT.

    Built straight from the typed report (`report/slim.py`), not by stripping the full
    document: enums and tuples are left for orjson to write."""
    checks = {}
    domain = report.domain
    for cid, outcome in report.checks.items():
        checks[cid._value_] = slim_outcome(outcome.status, outcome, domain)
    doc: dict[str, Any] = {FORMAT_KEY: LINE_FORMAT, "domain": report.domain}
    if report.input:
        doc["input"] = report.input
    doc["status"] = report.status._value_
    if report.error:
        doc["error"] = report.error
    doc["dns_queries"] = report.dns_queries
    doc["checks"] = checks
    doc["score"] = slim_value(score if score is not None else report.verdict)
    doc["checklist"] = dict(map(_ITEM_PAIR, report.checklist.items))
    if report.resolver_notes:
        doc["resolver_notes"] = slim_value(report.resolver_notes)
    if orjson is not None:
        try:
            return orjson.dumps(doc)
        except orjson.JSONEncodeError:  # a lone surrogate, an integer beyond 64 bits
            pass
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=encode_value)
    return text.encode()


def checklist_items(checklist: ProviderChecklist | None = None) -> dict[str, dict[str, Any]]:
    """What every results line's checklist ids stand for, said once (for summary.json)."""
    if checklist is None:
        from ..model import DomainStatus

        checklist = provider_checklist(DomainReport("example.invalid", DomainStatus.COMPLETED))
    return {
        item.id: {
            "requirement": item.requirement,
            "providers": list(item.providers),
            "source": item.source.value,
            "references": list(item.references),
        }
        for item in checklist.items
    }


def finding_texts() -> dict[str, dict[str, Any]]:
    """The catalogue's texts of every finding code, said once (for summary.json): a line's
    finding is its code and template values; `detail` and `remediation` are str.format
    templates over those values (a name a line does not give stays as {name})."""
    return {
        spec.code: {
            "severity": spec.severity.value,
            "check": spec.check.value,
            "title": spec.title,
            "detail": spec.detail,
            "remediation": spec.remediation,
            "references": list(spec.references),
        }
        for spec in catalogue().values()
    }


class ResultsWriteError(OSError):
    """Writing results failed (e.g. disk full); the file is left with whole lines only."""


def recover(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the complete records of an existing results file, truncating a damaged tail.

    The file is truncated when the generator is exhausted (callers must consume it all)."""
    try:
        fd = open_regular(path, os.O_RDWR)  # never through a symlink: it is truncated below
    except FileNotFoundError:
        return
    good = 0
    with os.fdopen(fd, "r+b") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break  # torn last line: its domain is audited again
            try:
                doc = json.loads(raw)
            except ValueError:
                break  # a corrupt line (e.g. zero-filled after a power loss): stop here
            if not isinstance(doc, dict) or not isinstance(doc.get("domain"), str):
                break
            good += len(raw)
            yield doc
        if os.fstat(fh.fileno()).st_size != good:
            fh.truncate(good)
            fh.flush()
            os.fsync(fh.fileno())


class ResultsFile:
    """Append-only JSON lines; single writer (the parent process of a run)."""

    def __init__(self, path: Path, *, sync_interval: float = DEFAULT_SYNC_INTERVAL) -> None:
        self.path = path
        self.sync_interval = sync_interval
        path.parent.mkdir(parents=True, exist_ok=True)
        # never through a symlink, and only a regular file (a FIFO would block the run)
        self._fd = open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._size = os.fstat(self._fd).st_size
        self._last_sync = time.monotonic()
        self.lines = 0

    def append(self, lines: list[bytes]) -> None:
        """Append whole lines (each ending in b"\\n"); all or none of them stay in the file."""
        if not lines:
            return
        data = b"".join(lines)
        view = memoryview(data)
        written = 0
        try:
            while written < len(data):
                written += os.write(self._fd, view[written:])
        except OSError as exc:
            self._undo()
            reason = "disk full" if exc.errno in (errno.ENOSPC, errno.EFBIG) else exc.strerror
            raise ResultsWriteError(
                exc.errno,
                f"cannot write {self.path}: {reason}; the lines already written are "
                "intact, free some space and run again with --resume",
            ) from exc
        self._size += len(data)
        self.lines += len(lines)
        now = time.monotonic()
        if now - self._last_sync >= self.sync_interval:
            self.sync()

    def _undo(self) -> None:
        """Drop a partly written batch so the file ends with a whole line."""
        with contextlib.suppress(OSError):  # if this fails too, recover() cuts the tail
            os.ftruncate(self._fd, self._size)

    def sync(self) -> None:
        with contextlib.suppress(OSError):  # e.g. /dev/full: the write itself already failed
            os.fsync(self._fd)
        self._last_sync = time.monotonic()

    def close(self) -> None:
        if self._fd >= 0:
            self.sync()
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
