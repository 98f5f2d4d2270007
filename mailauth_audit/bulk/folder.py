"""The output folder of a bulk run: its files, what --resume reads back, what the end writes.

Every file here is opened through mailauth_audit/outputs.py: the streamed files
(results.jsonl, the CSV rows) never through a symlink and only if regular, the final files
(summary.json, results.csv, index.html, run.json) replaced atomically and refused when a
symlink sits at their name. `preflight` checks all of them before any domain is audited, so
a planted link stops the run at its start, not after hours of work.
"""

from __future__ import annotations

import csv
import errno
import gzip
import io
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ..outputs import OutputRefused, check_output, open_output, open_regular
from ..report.csvout import CSV_COLUMNS
from .jsonl import recover
from .manifest import MANIFEST_NAME
from .summary import BulkSummary, digest

__all__ = [
    "COMPRESSED_NAMES",
    "CSV_NAME",
    "CSV_ROWS_NAME",
    "INDEX_NAME",
    "PAGES_DIR",
    "RESULTS_NAME",
    "SUMMARY_NAME",
    "compress_results",
    "compressed_results",
    "preflight",
    "read_rows",
    "recover_state",
    "write_csv",
]

RESULTS_NAME = "results.jsonl"
# --compress: the results file as the finished run leaves it (streamed uncompressed first,
# so that an interrupted run stays resumable; compressed once every domain is reported)
COMPRESSED_NAMES = {"gzip": RESULTS_NAME + ".gz", "zstd": RESULTS_NAME + ".zst"}
ZSTD_LEVEL = 10  # zstd's higher levels cost little more CPU here than gzip -6 and pack tighter
COMPRESS_CHUNK = 1 << 20  # bytes read at a time when compressing results.jsonl
CSV_ROWS_NAME = ".results.csv.jsonl"  # CSV rows as JSON lines, kept in step with results
SUMMARY_NAME = "summary.json"
CSV_NAME = "results.csv"
INDEX_NAME = "index.html"
PAGES_DIR = "domains"

STREAMED = (RESULTS_NAME, CSV_ROWS_NAME)
FINAL = (SUMMARY_NAME, CSV_NAME, INDEX_NAME, MANIFEST_NAME, *COMPRESSED_NAMES.values())


def preflight(out: Path, *, pages: bool) -> None:
    """Raise OutputRefused for any file of the folder that would be refused later."""
    for name in (*STREAMED, *FINAL):
        check_output(out / name)
        try:
            mode = os.lstat(out / name).st_mode
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(mode):  # a FIFO or a device is fine for -o, not in a run folder
            raise OutputRefused(
                errno.EINVAL,
                f"{out / name} is not a regular file; remove it or choose another folder",
            )
    if pages:
        try:
            mode = os.lstat(out / PAGES_DIR).st_mode
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(mode):  # a link here would put the pages anywhere
            raise OutputRefused(
                errno.ENOTDIR,
                f"{out / PAGES_DIR} is not a directory (a symbolic link is not followed)",
            )


def recover_state(out: Path, summary: BulkSummary, keys: set[str]) -> tuple[set[str], int]:
    """Keys of this list already reported, and the number of lines for other domains
    (foreign: reported to the user, never counted). Rebuilds the counters and trims the CSV
    rows to the counted keys."""
    done: set[str] = set()
    foreign = 0
    for doc in recover(out / RESULTS_NAME):
        key = doc["domain"]
        if key not in keys:
            foreign += 1
            continue
        if key in done:
            continue
        done.add(key)
        summary.add(digest(doc))
    rows_path = out / CSV_ROWS_NAME
    try:
        rows = list(read_rows(rows_path))
    except FileNotFoundError:
        return done, foreign
    kept: set[str] = set()
    fd, tmp = tempfile.mkstemp(prefix=f"{CSV_ROWS_NAME}.", dir=out)  # O_EXCL: no link
    try:
        with os.fdopen(fd, "wb") as dst:
            for row in rows:
                if row[0] in done and row[0] not in kept:
                    kept.add(row[0])
                    dst.write(json.dumps(row).encode() + b"\n")
            dst.flush()
            os.fsync(dst.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, rows_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return done, foreign


def compressed_results(out: Path) -> Path | None:
    """The compressed results file of a finished --compress run in `out`, if there is one."""
    for name in COMPRESSED_NAMES.values():
        if (out / name).exists():
            return out / name
    return None


def compress_results(out: Path, method: str) -> Path:
    """Replace results.jsonl by its compressed copy (written atomically, then the original
    removed): only once the run is complete, since --resume appends to results.jsonl."""
    source = out / RESULTS_NAME
    target = out / COMPRESSED_NAMES[method]
    with (
        os.fdopen(open_regular(source, os.O_RDONLY), "rb") as src,
        open_output(target) as raw,
        _compressor(method, raw) as dst,
    ):
        while chunk := src.read(COMPRESS_CHUNK):
            dst.write(chunk)
    source.unlink()
    return target


def _compressor(method: str, raw: BinaryIO) -> Any:
    """A writable compressing stream over `raw`, used as a context manager."""
    if method == "zstd":
        import zstandard  # only for --compress zstd

        # closefd=False: open_output commits the file when its own block ends
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL).stream_writer(raw, closefd=False)
    return gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0)


def read_rows(path: Path) -> Iterator[list[Any]]:
    """The complete rows of the CSV-rows file (a torn tail is skipped)."""
    with os.fdopen(open_regular(path, os.O_RDONLY), "rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break
            try:
                doc = json.loads(raw)
            except ValueError:
                break
            if isinstance(doc, list) and len(doc) == 2 and isinstance(doc[0], str):
                yield doc


def write_csv(out: Path) -> None:
    """results.csv from the CSV rows, streamed (it can be large), replaced atomically."""
    rows_path = out / CSV_ROWS_NAME
    with open_output(out / CSV_NAME) as raw:
        fh = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        try:
            for _, row in read_rows(rows_path):
                writer.writerow(row)
        except FileNotFoundError:
            pass
        fh.flush()
        fh.detach()
