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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import DBAPIError

from ..model import DomainReport, Severity
from ..report.codec import DERIVED_KEYS, FORMAT_KEY, CodecError, from_json
from ..report.serialize import SCHEMA_VERSION
from . import blob
from .connect import StoreError, classify
from .drift import detect
from .schema import audits, blobs, check_results, events, findings, runs

__all__ = ["RecordResult", "RunInfo", "dialect_insert", "record_documents", "start_run", "utc_text"]


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
    """What is kept of a report document: everything but what is derived from it."""
    return {k: v for k, v in doc.items() if k not in DERIVED_KEYS and k != FORMAT_KEY}


def _grade(doc: dict[str, Any], report: DomainReport | None) -> tuple[str | None, int | None]:
    score = doc.get("score")
    if isinstance(score, dict):
        return score.get("grade"), score.get("score")
    if report is not None:
        return report.verdict.grade, report.verdict.score
    return None, None


def record_documents(
    conn: Connection,
    run_id: int,
    audited_at: str,
    docs: Iterable[dict[str, Any]],
    threshold: Severity = Severity.HIGH,
) -> RecordResult:
    """Record each domain document of one run in the open transaction `conn`."""
    when = utc_text(audited_at)
    batch = [d for d in docs if isinstance(d, dict) and isinstance(d.get("domain"), str)]
    names = [d["domain"] for d in batch]
    existing = set(
        conn.execute(
            select(audits.c.domain).where(audits.c.run_id == run_id, audits.c.domain.in_(names))
        ).scalars()
    )
    recorded = added_events = 0
    for doc in batch:
        if doc["domain"] in existing:
            continue
        existing.add(doc["domain"])
        audit_id, report = _record_one(conn, run_id, when, doc)
        recorded += 1
        if report is not None:
            added_events += _detect_events(conn, audit_id, when, report, threshold)
    return RecordResult(recorded, len(batch) - recorded, added_events)


def _record_one(
    conn: Connection, run_id: int, when: str, doc: dict[str, Any]
) -> tuple[int, DomainReport | None]:
    kept = stored_document(doc)
    data = blob.dumps(kept)
    sha = blob.digest(data)
    conn.execute(
        dialect_insert(conn, blobs)
        .values(sha256=sha, codec=blob.CURRENT_CODEC, body=blob.pack(data))
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    blob_id = conn.execute(select(blobs.c.id).where(blobs.c.sha256 == sha)).scalar_one()
    try:
        report: DomainReport | None = from_json(kept)
    except CodecError:
        report = None  # stored all the same; history says it cannot be decoded
    grade, score = _grade(doc, report)
    audit_id = _new_id(
        conn.execute(
            audits.insert().values(
                run_id=run_id,
                domain=doc["domain"],
                audited_at=when,
                status=str(doc.get("status", "completed")),
                grade=grade,
                score=score,
                schema_version=str(doc.get("schema_version") or SCHEMA_VERSION),
                blob_id=blob_id,
            )
        )
    )
    checks = doc.get("checks") if isinstance(doc.get("checks"), dict) else {}
    status_rows, finding_rows = [], []
    for check_id, outcome in (checks or {}).items():
        if not isinstance(outcome, dict):
            continue
        error = outcome.get("error") if isinstance(outcome.get("error"), dict) else None
        status_rows.append(
            {
                "audit_id": audit_id,
                "check_id": check_id,
                "status": str(outcome.get("status")),
                "reason": None if error is None else error.get("reason"),
            }
        )
        for f in outcome.get("findings") or ():
            params = f.get("params")
            finding_rows.append(
                {
                    "audit_id": audit_id,
                    "code": f.get("code"),
                    "severity": f.get("severity"),
                    "params": json.dumps(params, sort_keys=True) if params else None,
                }
            )
    if status_rows:
        conn.execute(check_results.insert(), status_rows)
    if finding_rows:
        conn.execute(findings.insert(), finding_rows)
    return audit_id, report


def previous_audit(conn: Connection, domain: str, before_id: int, when: str) -> Any:
    return conn.execute(
        select(audits.c.id, audits.c.blob_id)
        .where(audits.c.domain == domain, audits.c.id != before_id, audits.c.audited_at <= when)
        .order_by(audits.c.audited_at.desc(), audits.c.id.desc())
        .limit(1)
    ).first()


def load_report(conn: Connection, blob_id: int) -> DomainReport:
    """The typed report of a stored blob; StoreError when it cannot be decoded."""
    row = conn.execute(select(blobs.c.codec, blobs.c.body).where(blobs.c.id == blob_id)).one()
    try:
        return from_json(blob.unpack(bytes(row.body), int(row.codec)))
    except (blob.BlobError, CodecError) as exc:
        raise StoreError(f"stored report cannot be decoded by this version: {exc}") from None


def _detect_events(
    conn: Connection, audit_id: int, when: str, report: DomainReport, threshold: Severity
) -> int:
    prev = previous_audit(conn, report.domain, audit_id, when)
    if prev is None:
        return 0
    try:
        old = load_report(conn, prev.blob_id)
    except StoreError:
        return 0  # an older audit this version cannot read: nothing to compare with
    found = detect(old, report, threshold)
    rows = [
        {
            "event_key": _event_key(report.domain, e.code, e.subject, e.before, e.after, prev.id),
            "domain": report.domain,
            "code": e.code,
            "severity": e.severity.value,
            "subject": e.subject,
            "before": e.before,
            "after": e.after,
            "audit_id": audit_id,
            "previous_audit_id": prev.id,
            "created_at": when,
        }
        for e in found
    ]
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


def wrap_driver_errors(conn: Connection, exc: DBAPIError) -> StoreError:
    return classify(exc, conn.engine)


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
