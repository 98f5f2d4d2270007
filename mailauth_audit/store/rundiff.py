"""Two runs compared domain by domain (`diff --run A --run B`).

Most domains do not change between two runs: the same report is the same blob, and those
are counted from the audits' rows without reading a body. The rest are read in batches of
blobs (one query per batch, not per domain), compared as documents first (equal but for the
query count: unchanged), and only the domains that really differ are decoded to typed
reports and diffed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..report.codec import CodecError
from .blob import BlobError, unpack
from .diff import AuditDiff, diff_reports
from .record import decode_document
from .reports import answering_servers
from .schema import blobs
from .store import AuditRow, Store

__all__ = ["RunDiff", "RunDomainChange", "diff_runs"]

_BLOBS_PER_QUERY = 500  # bodies read per SELECT: bounded memory, few round trips


@dataclass(frozen=True)
class RunDomainChange:
    domain: str
    grade_before: str | None
    grade_after: str | None
    score_before: int | None
    score_after: int | None
    direction: str  # "better", "worse", "changed" (same score, other facts)
    diff: AuditDiff | None  # None when a report could not be decoded


@dataclass(frozen=True)
class RunDiff:
    run_before: int
    run_after: int
    domains_before: int
    domains_after: int
    only_before: tuple[str, ...]  # audited in the first run only
    only_after: tuple[str, ...]
    unchanged: int
    changes: tuple[RunDomainChange, ...]  # worse first, then better, then changed

    @property
    def worse(self) -> int:
        return sum(1 for c in self.changes if c.direction == "worse")

    @property
    def better(self) -> int:
        return sum(1 for c in self.changes if c.direction == "better")


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    # the query count depends on what the run's cache already held, not on the domain
    return {k: v for k, v in doc.items() if k != "dns_queries"}


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def diff_runs(store: Store, run_a: int, run_b: int) -> RunDiff:
    a, b = store.audits_of_run(run_a), store.audits_of_run(run_b)
    common = sorted(a.keys() & b.keys())
    differing = [d for d in common if a[d].blob_id != b[d].blob_id]
    unchanged = len(common) - len(differing)
    changes: list[RunDomainChange] = []
    servers = answering_servers(store, {run_a, run_b})
    with store.transaction(write=False) as conn:
        for chunk in _chunks(differing, _BLOBS_PER_QUERY // 2):
            wanted = {a[d].blob_id for d in chunk} | {b[d].blob_id for d in chunk}
            docs = _read_docs(conn, wanted)
            for domain in chunk:
                before, after = docs.get(a[domain].blob_id), docs.get(b[domain].blob_id)
                if (
                    before is not None
                    and after is not None
                    and _comparable(before) == _comparable(after)
                ):
                    unchanged += 1
                    continue
                changes.append(
                    _domain_change(
                        a[domain],
                        b[domain],
                        before,
                        after,
                        (servers.get(run_a), servers.get(run_b)),
                    )
                )
    order = {"worse": 0, "better": 1, "changed": 2}
    changes.sort(key=lambda c: (order[c.direction], c.domain))
    return RunDiff(
        run_a,
        run_b,
        len(a),
        len(b),
        tuple(sorted(a.keys() - b.keys())),
        tuple(sorted(b.keys() - a.keys())),
        unchanged,
        tuple(changes),
    )


def _read_docs(conn: Any, ids: set[int]) -> dict[int, dict[str, Any]]:
    """The documents of these blobs; one that cannot be read is left out."""
    out: dict[int, dict[str, Any]] = {}
    query = select(blobs.c.id, blobs.c.codec, blobs.c.body).where(blobs.c.id.in_(ids))
    for row in conn.execute(query):
        try:
            out[int(row.id)] = unpack(bytes(row.body), int(row.codec))
        except BlobError:
            continue
    return out


def _domain_change(
    a: AuditRow,
    b: AuditRow,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    servers: tuple[str | None, str | None],
) -> RunDomainChange:
    diff: AuditDiff | None = None
    if before is not None and after is not None:
        try:
            diff = diff_reports(
                decode_document(before),
                decode_document(after),
                before_audit=a.id,
                after_audit=b.id,
                before_at=a.audited_at,
                after_at=b.audited_at,
                before_server=servers[0],
                after_server=servers[1],
            )
        except CodecError:
            diff = None
    if a.score is not None and b.score is not None and a.score != b.score:
        direction = "better" if b.score > a.score else "worse"
    elif a.grade != b.grade:
        direction = (
            "worse"
            if b.grade is None
            else "better"
            if a.grade is None
            else ("better" if b.grade < a.grade else "worse")
        )
    else:
        direction = "changed"
    return RunDomainChange(a.domain, a.grade, b.grade, a.score, b.score, direction, diff)
