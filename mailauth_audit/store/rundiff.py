"""Two runs compared domain by domain (`diff --run A --run B`).

Most domains do not change between two runs: the same report is the same blob, or the same
content digest (the document but for its query count, which depends on the run's cache),
and those are counted from the audits' rows without reading a body, in a few statements
over the (run, domain) index. Which of the rest changed, and how (better, worse), is read
from the rows' grades and facts; only rows without digests that agree on those are told
apart by their documents. A changed domain's diff is read only when it is shown
(`details`), in batches of blobs (one query per batch, not per domain), and decodes only
the outcomes whose records it compares (rundetail.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context
from typing import Any

from sqlalchemy import and_, func, or_, select

from ..report.codec import CodecError
from .blob import BlobError, unpack
from .diff import AuditDiff, diff_reports
from .facts import parse_facts
from .record import decode_document
from .reports import answering_servers
from .rundetail import UNREADABLE, PairRow, facts_diff
from .schema import audits, blobs
from .store import Store

__all__ = ["RunDiff", "RunDomainChange", "diff_runs"]

_BLOBS_PER_QUERY = 500  # bodies read per SELECT: bounded memory, few round trips
_POOL_MIN_PAIRS = 400  # fewer diffs to read: decoded in this process (a fork costs more)


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
    # the last changes whose diff was not read (diff_runs' `details`): their `diff` is None
    details_omitted: int = 0

    @property
    def worse(self) -> int:
        return sum(1 for c in self.changes if c.direction == "worse")

    @property
    def better(self) -> int:
        return sum(1 for c in self.changes if c.direction == "better")


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    # the query count depends on what the run's cache already held, not on the domain
    return {k: v for k, v in doc.items() if k != "dns_queries"}


def _chunks(items: list[_Pair], size: int) -> Iterator[list[_Pair]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class _Pair:
    """A domain in both runs with two different blobs: its two audits' rows."""

    domain: str
    before: PairRow
    after: PairRow
    blob_before: int
    blob_after: int
    digests: bool  # both rows have a content digest (then they differ: see _rows)

    @property
    def settled(self) -> bool:
        """Changed for sure, from the rows alone: another content digest, grade, score,
        status or finding."""
        if self.digests or self.before[2:4] != self.after[2:4]:
            return True
        fa, fb = parse_facts(self.before[4]), parse_facts(self.after[4])
        if fa is None or fb is None:
            return False  # rows written without facts: the documents say
        return (fa.statuses, fa.reasons, sorted(fa.findings)) != (
            fb.statuses,
            fb.reasons,
            sorted(fb.findings),
        )

    @property
    def direction(self) -> str:
        (_, _, ga, sa, _), (_, _, gb, sb, _) = self.before, self.after
        if sa is not None and sb is not None and sa != sb:
            return "better" if sb > sa else "worse"
        if ga != gb:
            if gb is None:
                return "worse"
            return "better" if ga is None or gb < ga else "worse"
        return "changed"


def diff_runs(
    store: Store, run_a: int, run_b: int, details: int | None = None, processes: int | None = None
) -> RunDiff:
    """The two runs compared; `details`: how many changed domains (worse first) get their
    diff read, None for all (the rest keep direction and grades, `diff` None); `processes`:
    how many decode them when there are many (default StoreLimits.run_diff_processes)."""
    if processes is None:
        processes = store.limits.run_diff_processes
    servers = answering_servers(store, {run_a, run_b})
    with store.transaction(write=False) as conn:
        counts, only_a, only_b, pairs = _rows(conn, run_a, run_b)
        changed = [p for p in pairs if p.settled]
        unchanged = counts[2] - len(pairs)
        for chunk in _chunks([p for p in pairs if not p.settled], _BLOBS_PER_QUERY // 2):
            docs = _read_docs(conn, {p.blob_before for p in chunk} | {p.blob_after for p in chunk})
            for p in chunk:
                before, after = docs.get(p.blob_before), docs.get(p.blob_after)
                if (
                    before is not None
                    and after is not None
                    and _comparable(before) == _comparable(after)
                ):
                    unchanged += 1
                else:
                    changed.append(p)
        order = {"worse": 0, "better": 1, "changed": 2}
        changed.sort(key=lambda p: (order[p.direction], p.domain))
        shown = changed if details is None else changed[:details]
        diffs = _details(conn, shown, (servers.get(run_a), servers.get(run_b)), processes)
    changes = tuple(
        RunDomainChange(
            p.domain,
            p.before[2],
            p.after[2],
            p.before[3],
            p.after[3],
            p.direction,
            diffs.get(p.domain),
        )
        for p in changed
    )
    return RunDiff(
        run_a,
        run_b,
        counts[0],
        counts[1],
        only_a,
        only_b,
        unchanged,
        changes,
        len(changed) - len(shown),
    )


def _rows(
    conn: Any, run_a: int, run_b: int
) -> tuple[tuple[int, int, int], tuple[str, ...], tuple[str, ...], list[_Pair]]:
    """(audits in A, in B, in both), the domains of one run only, and the pairs whose blobs
    differ: a few statements over the (run, domain) index, never one per domain."""
    a, b = audits.alias("a"), audits.alias("b")
    both = and_(b.c.domain == a.c.domain, b.c.run_id == run_b)

    def count(run_id: int) -> int:
        return int(conn.execute(select(func.count()).where(audits.c.run_id == run_id)).scalar_one())

    common = conn.execute(
        select(func.count()).select_from(a.join(b, both)).where(a.c.run_id == run_a)
    ).scalar_one()

    def only(x: Any, y: Any, run_x: int, run_y: int) -> tuple[str, ...]:
        absent = ~select(y.c.id).where(y.c.run_id == run_y, y.c.domain == x.c.domain).exists()
        query = select(x.c.domain).where(x.c.run_id == run_x, absent).order_by(x.c.domain)
        return tuple(str(d) for d in conn.execute(query).scalars())

    cols = (a.c.id, a.c.audited_at, a.c.grade, a.c.score, a.c.facts)
    query = (
        select(
            a.c.domain,
            *cols,
            a.c.blob_id,
            b.c.id,
            b.c.audited_at,
            b.c.grade,
            b.c.score,
            b.c.facts,
            b.c.blob_id,
            and_(a.c.content_digest.is_not(None), b.c.content_digest.is_not(None)),
        )
        .select_from(a.join(b, both))
        .where(
            a.c.run_id == run_a,
            a.c.blob_id != b.c.blob_id,
            # equal content digests: the documents differ at most in their query count
            or_(
                a.c.content_digest.is_(None),
                b.c.content_digest.is_(None),
                a.c.content_digest != b.c.content_digest,
            ),
        )
        .order_by(a.c.domain)
    )
    pairs = [
        _Pair(str(r[0]), _side(r[1:6]), _side(r[7:12]), int(r[6]), int(r[12]), bool(r[13]))
        for r in conn.execute(query)
    ]
    return (
        (count(run_a), count(run_b), int(common)),
        only(a, b, run_a, run_b),
        only(b, a, run_b, run_a),
        pairs,
    )


def _side(r: Any) -> PairRow:
    return (int(r[0]), str(r[1]), r[2], None if r[3] is None else int(r[3]), r[4])


Bodies = dict[int, tuple[int, bytes]]  # blob id -> (codec, compressed body)


def _details(
    conn: Any, shown: list[_Pair], servers: tuple[str | None, str | None], processes: int
) -> dict[str, AuditDiff | None]:
    """The shown pairs' diffs. The bodies are read here (one query per batch); decompressing
    and decoding them is the work, spread over `processes` forked workers when there are
    enough pairs to pay for the fork, a bounded number of batches in flight."""
    batches = (
        (chunk, _read_bodies(conn, {p.blob_before for p in chunk} | {p.blob_after for p in chunk}))
        for chunk in _chunks(shown, _BLOBS_PER_QUERY // 2)
    )
    out: dict[str, AuditDiff | None] = {}
    if processes < 2 or len(shown) < _POOL_MIN_PAIRS or "fork" not in get_all_start_methods():
        for chunk, bodies in batches:
            out.update(_detail_batch(chunk, bodies, servers))
        return out
    pending: deque[Future[dict[str, AuditDiff | None]]] = deque()
    with ProcessPoolExecutor(processes, mp_context=get_context("fork")) as pool:
        for chunk, bodies in batches:
            pending.append(pool.submit(_detail_batch, chunk, bodies, servers))
            if len(pending) > 2 * processes:
                out.update(pending.popleft().result())
        while pending:
            out.update(pending.popleft().result())
    return out


def _detail_batch(
    chunk: list[_Pair], bodies: Bodies, servers: tuple[str | None, str | None]
) -> dict[str, AuditDiff | None]:
    docs: dict[int, dict[str, Any]] = {}
    for blob_id, (codec, body) in bodies.items():
        try:
            docs[blob_id] = unpack(body, codec)
        except BlobError:
            continue
    return {
        p.domain: _detail(p, docs.get(p.blob_before), docs.get(p.blob_after), servers)
        for p in chunk
    }


def _read_bodies(conn: Any, ids: set[int]) -> Bodies:
    query = select(blobs.c.id, blobs.c.codec, blobs.c.body).where(blobs.c.id.in_(ids))
    return {int(r.id): (int(r.codec), bytes(r.body)) for r in conn.execute(query)}


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


def _detail(
    p: _Pair,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    servers: tuple[str | None, str | None],
) -> AuditDiff | None:
    """The pair's diff, from the facts where they suffice, else from the typed reports;
    None when a report cannot be read."""
    if before is None or after is None:
        return None
    found = facts_diff(p.domain, p.before, p.after, (before, after), servers)
    if isinstance(found, AuditDiff):
        return found
    if found is UNREADABLE:
        return None
    try:
        return diff_reports(
            decode_document(before),
            decode_document(after),
            before_audit=p.before[0],
            after_audit=p.after[0],
            before_at=p.before[1],
            after_at=p.after[1],
            before_server=servers[0],
            after_server=servers[1],
        )
    except CodecError:
        return None
