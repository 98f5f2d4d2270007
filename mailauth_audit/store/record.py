"""Recording audits: one code path for `check`, a bulk run's results lines and `history
import`, all of which hand over the domain's JSON document (`report.codec` shape).

An audit is (run, domain): recording the same run's domain twice keeps the first, which is
what makes `history import out/results.jsonl` after a run that lost its store add only what
is missing. Identical documents share one compressed blob. Drift events are detected when
an audit is recorded, against the domain's previous audit, and keyed so the same change
seen again is the same event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select, text

from ..model import DomainReport, Severity
from ..report.codec import DERIVED_KEYS, FORMAT_KEY, CodecError, from_json
from ..report.serialize import SCHEMA_VERSION
from . import blob
from .connect import StoreError
from .drift import detect
from .facts import facts_text
from .schema import audits, blobs, events, runs

__all__ = [
    "RecordResult",
    "RunInfo",
    "content_digest",
    "decode_document",
    "dialect_insert",
    "record_documents",
    "start_run",
    "utc_text",
]


def utc_text(value: str | float | datetime | None = None) -> str:
    """ISO 8601 UTC of one fixed width: text comparisons order times in both databases."""
    if value is None:
        moment = datetime.now(UTC)
    elif isinstance(value, datetime):
        moment = value
    elif isinstance(value, float | int):
        moment = datetime.fromtimestamp(value, UTC)
    else:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class RunInfo:
    kind: str  # "check", "bulk" or "import"
    started_at: str
    tool_version: str
    provenance: dict[str, Any] | None = None
    source: str | None = None  # the results file of a bulk run
    run_key: str | None = None  # the same key finds the same run again (see schema.runs)


@dataclass(frozen=True)
class RecordResult:
    recorded: int  # audits added
    already: int  # audits of this run already in the store (not added again)
    events: int  # drift events added


def dialect_insert(conn: Connection, table: Any) -> Any:
    """INSERT with ON CONFLICT DO NOTHING available: the two dialects spell it alike."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def start_run(conn: Connection, info: RunInfo) -> tuple[int, str]:
    """The run's id and start time: a new row, or the existing run with the same key."""
    if info.run_key is not None:
        stmt = (
            dialect_insert(conn, runs)
            .values(**_run_row(info))
            .on_conflict_do_nothing(index_elements=["run_key"])
        )
        conn.execute(stmt)
        found = conn.execute(
            select(runs.c.id, runs.c.started_at).where(runs.c.run_key == info.run_key)
        ).one()
        return int(found.id), str(found.started_at)
    row = _run_row(info)
    return _new_id(conn.execute(runs.insert().values(**row))), row["started_at"]


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise StoreError("the database returned no id for a new row")
    return int(key[0])


def _run_row(info: RunInfo) -> dict[str, Any]:
    return {
        "kind": info.kind,
        "run_key": info.run_key,
        "started_at": utc_text(info.started_at),
        "tool_version": info.tool_version,
        "provenance": None if info.provenance is None else json.dumps(info.provenance),
        "source": info.source,
    }


def stored_document(doc: dict[str, Any]) -> dict[str, Any]:
    """What is kept of a report document: everything but what is derived from it. A bulk
    line's format number stays: it says how the rest reads (format 3 is sparse)."""
    return {k: v for k, v in doc.items() if k not in DERIVED_KEYS}


def content_digest(kept: dict[str, Any]) -> bytes:
    """What two audits share when their stored documents differ at most in the query count
    (which depends on what the run's cache already held, not on the domain): a run diff
    compares these instead of decompressing both documents."""
    return blob.digest(blob.dumps({k: v for k, v in kept.items() if k != "dns_queries"}))[:16]


def decode_document(doc: dict[str, Any]) -> DomainReport:
    """The typed report of a stored document. Bulk lines of format 3 were first stored
    without their format number; such a document reads as what it is."""
    try:
        return from_json(doc)
    except CodecError:
        if FORMAT_KEY in doc:
            raise
        return from_json({**doc, FORMAT_KEY: 3})


def _grade(doc: dict[str, Any]) -> tuple[str | None, int | None]:
    """The verdict the document carries (check's JSON and bulk lines both do); judged from
    the typed report when a document comes without one."""
    score = doc.get("score")
    if isinstance(score, dict):
        return score.get("grade"), score.get("score")
    try:
        verdict = decode_document(stored_document(doc)).verdict
    except CodecError:
        return None, None
    return verdict.grade, verdict.score


@dataclass
class _Pending:
    doc: dict[str, Any]
    kept: dict[str, Any]
    sha: bytes
    data: bytes  # the canonical bytes (blob.dumps)
    blob_id: int = 0
    audit_id: int = 0


def record_documents(
    conn: Connection,
    run_id: int,
    audited_at: str,
    docs: Iterable[dict[str, Any]],
    threshold: Severity = Severity.HIGH,
) -> RecordResult:
    """Record each domain document of one run in the open transaction `conn`.

    In a few statements per batch, not per domain: a bulk run hands over hundreds of
    documents at a time, and each round trip to PostgreSQL costs more than the work."""
    when = utc_text(audited_at)
    batch = [d for d in docs if isinstance(d, dict) and isinstance(d.get("domain"), str)]
    names = [d["domain"] for d in batch]
    existing = set(
        conn.execute(
            select(audits.c.domain).where(audits.c.run_id == run_id, audits.c.domain.in_(names))
        ).scalars()
    )
    todo: dict[str, _Pending] = {}
    for doc in batch:
        name = doc["domain"]
        if name in existing or name in todo:
            continue
        kept = stored_document(doc)
        data = blob.dumps(kept)
        todo[name] = _Pending(doc, kept, blob.digest(data), data)
    if not todo:
        return RecordResult(0, len(batch), 0)
    previous = _previous_audits(conn, run_id, when, list(todo))
    _store_blobs(conn, list(todo.values()))
    rows = []
    for name, p in todo.items():
        grade, score = _grade(p.doc)
        rows.append(
            {
                "run_id": run_id,
                "domain": name,
                "audited_at": when,
                "status": str(p.doc.get("status", "completed")),
                "grade": grade,
                "score": score,
                "schema_version": SCHEMA_VERSION,
                "blob_id": p.blob_id,
                "facts": facts_text(
                    p.doc.get("checks") if isinstance(p.doc.get("checks"), dict) else None
                ),
                "content_digest": content_digest(p.kept),
                "dns_queries": _count(p.kept.get("dns_queries")),
            }
        )
    for audit_id, name in _insert_audits(conn, rows):
        todo[name].audit_id = int(audit_id)
    added = _detect_events(conn, when, todo, previous, threshold)
    return RecordResult(len(todo), len(batch) - len(todo), added)


def _count(value: object) -> int:
    """A report's count as its row keeps it (what /metrics sums): 0 when it gives none."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


# PostgreSQL: a batch's rows as one array per column, one statement of constant text. Why
# not SQLAlchemy's many-row VALUES: its SQL text grows with the batch, so the driver parses
# a new statement of thousands of placeholders for every batch, the larger part of what
# recording cost the bulk run's process beyond compressing.
_PG_BLOBS = text(
    "INSERT INTO blobs (digest, codec, body) "
    "SELECT * FROM unnest(CAST(:digest AS bytea[]), CAST(:codec AS integer[]), "
    "CAST(:body AS bytea[])) ON CONFLICT (digest) DO NOTHING RETURNING digest, id"
)
_AUDIT_COLUMNS = (
    "run_id", "domain", "audited_at", "status", "grade", "score", "schema_version",
    "blob_id", "facts", "content_digest", "dns_queries",
)  # fmt: skip
_AUDIT_TYPES = (
    "integer", "text", "text", "text", "text", "integer", "text", "integer", "text", "bytea",
    "integer",
)  # fmt: skip
_PG_AUDITS = text(
    f"INSERT INTO audits ({', '.join(_AUDIT_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"CAST(:{c} AS {t}[])" for c, t in zip(_AUDIT_COLUMNS, _AUDIT_TYPES, strict=True))
    + ") RETURNING id, domain"
)


def _insert_audits(conn: Connection, rows: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """Insert the audits' rows: (id, domain) of each."""
    if conn.dialect.name == "postgresql":
        found = conn.execute(_PG_AUDITS, {c: [r[c] for r in rows] for c in _AUDIT_COLUMNS})
        return [(int(i), str(d)) for i, d in found]
    stmt = audits.insert().returning(audits.c.id, audits.c.domain, sort_by_parameter_order=True)
    return [(int(i), str(d)) for i, d in conn.execute(stmt, rows)]


def _store_blobs(conn: Connection, pending: list[_Pending]) -> None:
    """Each pending document's blob id; only documents not stored yet are compressed (a
    domain unchanged since its last audit is the usual case, and compressing is the cost)."""
    unique = {p.sha: p.data for p in pending}
    ids = _blob_ids(conn, list(unique))
    missing = [sha for sha in unique if sha not in ids]
    if missing:
        bodies = [blob.pack(unique[sha]) for sha in missing]
        if conn.dialect.name == "postgresql":
            params = {"digest": missing, "codec": [blob.CURRENT_CODEC] * len(missing)}
            for sha, blob_id in conn.execute(_PG_BLOBS, {**params, "body": bodies}):
                ids[bytes(sha)] = int(blob_id)
        else:
            conn.execute(
                dialect_insert(conn, blobs).on_conflict_do_nothing(index_elements=["digest"]),
                [
                    {"digest": sha, "codec": blob.CURRENT_CODEC, "body": body}
                    for sha, body in zip(missing, bodies, strict=True)
                ],
            )
        raced = [sha for sha in missing if sha not in ids]  # another writer stored them first
        if raced:
            ids.update(_blob_ids(conn, raced))
    for p in pending:
        p.blob_id = ids[p.sha]


def _blob_ids(conn: Connection, keys: list[bytes]) -> dict[bytes, int]:
    found = conn.execute(select(blobs.c.digest, blobs.c.id).where(blobs.c.digest.in_(keys)))
    return {bytes(key): int(blob_id) for key, blob_id in found}


def _previous_audits(
    conn: Connection, run_id: int, when: str, names: list[str]
) -> dict[str, tuple[int, int]]:
    """Each domain's latest audit up to `when` from another run: (audit id, blob id)."""
    rank = (
        func.row_number()
        .over(
            partition_by=audits.c.domain,
            order_by=(audits.c.audited_at.desc(), audits.c.id.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(audits.c.domain, audits.c.id, audits.c.blob_id, rank)
        .where(audits.c.domain.in_(names), audits.c.run_id != run_id, audits.c.audited_at <= when)
        .subquery()
    )
    query = select(ranked.c.domain, ranked.c.id, ranked.c.blob_id).where(ranked.c.rank == 1)
    return {str(d): (int(i), int(b)) for d, i, b in conn.execute(query)}


def load_report(conn: Connection, blob_id: int) -> DomainReport:
    """The typed report of a stored blob; StoreError when it cannot be decoded."""
    row = conn.execute(select(blobs.c.codec, blobs.c.body).where(blobs.c.id == blob_id)).one()
    try:
        return decode_document(blob.unpack(bytes(row.body), int(row.codec)))
    except (blob.BlobError, CodecError) as exc:
        raise StoreError(f"stored report cannot be decoded by this version: {exc}") from None


def _detect_events(
    conn: Connection,
    when: str,
    todo: dict[str, _Pending],
    previous: dict[str, tuple[int, int]],
    threshold: Severity,
) -> int:
    # an identical report (the same blob) cannot have drifted: nothing to decode
    changed = [n for n, (_, blob_id) in previous.items() if blob_id != todo[n].blob_id]
    if not changed:
        return 0
    old_blobs = {previous[n][1] for n in changed}
    bodies = {
        int(r.id): r
        for r in conn.execute(
            select(blobs.c.id, blobs.c.codec, blobs.c.body).where(blobs.c.id.in_(old_blobs))
        )
    }
    rows = []
    for name in changed:
        prev_id, prev_blob = previous[name]
        row = bodies[prev_blob]
        try:
            old = decode_document(blob.unpack(bytes(row.body), int(row.codec)))
            new = decode_document(todo[name].kept)
        except (blob.BlobError, CodecError):
            continue  # a report this version cannot read: nothing to compare with
        for e in detect(old, new, threshold):
            rows.append(
                {
                    "event_key": _event_key(name, e.code, e.subject, e.before, e.after, prev_id),
                    "domain": name,
                    "code": e.code,
                    "severity": e.severity.value,
                    "subject": e.subject,
                    "before": e.before,
                    "after": e.after,
                    "audit_id": todo[name].audit_id,
                    "previous_audit_id": prev_id,
                    "created_at": when,
                }
            )
    if not rows:
        return 0
    stmt = (
        dialect_insert(conn, events)
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(events.c.id)
    )
    # RETURNING, not rowcount: drivers disagree on the rowcount of a many-row insert
    return len(conn.execute(stmt, rows).all())


def _event_key(domain: str, *parts: object) -> str:
    text = "\x1f".join([domain, *("" if p is None else str(p) for p in parts)])
    return hashlib.sha256(text.encode()).hexdigest()
