"""A stored audit as the run it was part of, so every renderer of a live audit (the full
HTML report, JSON, text) presents it too: its report, with the run's start, tool version
and provenance, finished when the audit was recorded."""

from __future__ import annotations

import json

from sqlalchemy import select

from ..model import AuditRun, Provenance
from ..report.codec import CodecError, decode_value
from ..report.provenance import source_text
from .connect import StoreError
from .record import load_report
from .schema import audits, runs
from .store import Store

__all__ = ["answering_servers", "stored_run"]


def stored_run(store: Store, audit_id: int, domain: str | None = None) -> AuditRun:
    """The audit `audit_id` as a run of one; StoreError when there is no such audit (of
    `domain`, when given) or its report cannot be decoded by this version."""
    query = (
        select(
            audits.c.domain,
            audits.c.audited_at,
            audits.c.blob_id,
            runs.c.started_at,
            runs.c.tool_version,
            runs.c.provenance,
        )
        .join(runs, runs.c.id == audits.c.run_id)
        .where(audits.c.id == audit_id)
    )
    with store.transaction(write=False) as conn:
        row = conn.execute(query).first()
        if row is None or (domain is not None and row.domain != domain):
            of = f" of {domain}" if domain is not None else ""
            raise StoreError(f"no audit {audit_id}{of} in the store")
        report = load_report(conn, int(row.blob_id))
    return AuditRun(
        started_at=str(row.started_at),
        finished_at=str(row.audited_at),
        domains=(report,),
        dns_queries=report.dns_queries,
        tool_version=str(row.tool_version),
        provenance=_provenance(row.provenance),
    )


def _provenance(text: str | None) -> Provenance | None:
    """The run's provenance as it was recorded; None when absent or in a shape this version
    does not read (the report still renders, without its sources line)."""
    if not text:
        return None
    try:
        value = decode_value(Provenance, json.loads(text))
    except (CodecError, ValueError):
        return None
    return value if isinstance(value, Provenance) else None


def answering_servers(store: Store, run_ids: set[int]) -> dict[int, str | None]:
    """Who answered each run's questions, when the run asked one DNS source: every record
    its reports hold came from it. None for a run that asked several (the reports do not
    say which answered what) or whose sources were not recorded."""
    with store.transaction(write=False) as conn:
        rows = conn.execute(select(runs.c.id, runs.c.provenance).where(runs.c.id.in_(run_ids)))
        found = {int(r.id): _provenance(r.provenance) for r in rows}
    return {
        run_id: source_text(p.sources[0]) if p is not None and len(p.sources) == 1 else None
        for run_id, p in found.items()
    }
