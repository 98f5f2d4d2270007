"""GET /metrics (read scope): Prometheus text format.

What is counted, and from where: audits done (by status), DNS queries they made, and
checks that could not complete (by ErrorReason) are read from the store's audit rows (the
status, dns_queries and facts columns: no report is decompressed), from the audits
recorded since this process started: the jobs may run in this process or in workers
elsewhere, and the store sees them all. Each scrape reads the audits added since the last
one, at most `ServiceLimits.max_metrics_audits` (the rest at the next scrape). Counters
start at zero with the process, as Prometheus counters do; with several `serve` processes
on one store, scrape one of them. Requests refused (no token, scope, rate limit) and the
job queue are this process's own.
"""

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from sqlalchemy import Connection, func, select

from ..store.blob import BlobError, unpack
from ..store.connect import StoreError
from ..store.facts import parse_facts
from ..store.schema import audits, blobs
from ..store.store import Store
from .context import ApiContext, Problem

__all__ = ["ApiMetrics", "metrics_router"]


class ApiMetrics:
    """One registry per app (not the global one): two apps in one process (tests) do not
    collide, and nothing else registered in the process leaks into the scrape."""

    def __init__(self, store: Store, max_audits: int) -> None:
        self.store = store
        self.max_audits = max_audits
        self.registry = CollectorRegistry(auto_describe=True)
        self.audits = Counter(
            "mailauth_audit_audits",
            "Domain audits recorded in the store, by status",
            ["status"],
            registry=self.registry,
        )
        self.dns_queries = Counter(
            "mailauth_audit_dns_queries",
            "DNS queries made by the audits recorded",
            registry=self.registry,
        )
        self.check_errors = Counter(
            "mailauth_audit_check_errors",
            "Checks that could not complete, by reason (dns_timeout, dns_servfail, ...)",
            ["reason"],
            registry=self.registry,
        )
        self.refused = Counter(
            "mailauth_audit_requests_refused",
            "Requests refused before their route ran, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.jobs = Gauge(
            "mailauth_audit_jobs",
            "Jobs of this process by state (queued: the queue depth)",
            ["state"],
            registry=self.registry,
        )
        self.lag = Gauge(
            "mailauth_audit_metrics_audits_unread",
            "Audits recorded but not yet counted (more than one scrape reads)",
            registry=self.registry,
        )
        self._last_id: int | None = None
        self._lock = asyncio.Lock()

    def _start(self) -> None:
        with self.store.transaction(write=False) as conn:
            self._last_id = int(conn.execute(select(func.max(audits.c.id))).scalar() or 0)

    def _read_new(self) -> None:
        if self._last_id is None:
            self._start()
            return
        with self.store.transaction(write=False) as conn:
            rows = conn.execute(
                select(audits.c.id, audits.c.status, audits.c.facts, audits.c.dns_queries)
                .where(audits.c.id > self._last_id)
                .order_by(audits.c.id)
                .limit(self.max_audits)
            ).all()
            if not rows:
                self.lag.set(0)
                return
            top = int(rows[-1].id)
            unread = conn.execute(
                select(func.count()).select_from(audits).where(audits.c.id > top)
            ).scalar_one()
            # rows a writer older than migration 0007 recorded: their count is in the report
            older = [int(r.id) for r in rows if r.dns_queries is None]
            from_reports = _report_queries(conn, older) if older else {}
        errors: dict[str, int] = {}
        for row in rows:
            self.audits.labels(str(row.status)).inc()
            facts = parse_facts(row.facts)
            if facts is not None:
                for check, status in facts.statuses.items():
                    if status == "error":
                        reason = facts.reasons.get(check, "unknown")
                        errors[reason] = errors.get(reason, 0) + 1
            queries = row.dns_queries
            if queries is None:
                queries = from_reports.get(int(row.id), 0)
            if queries > 0:
                self.dns_queries.inc(queries)
        for reason, count in errors.items():
            self.check_errors.labels(reason).inc(count)
        self.lag.set(int(unread))
        self._last_id = top

    async def start(self) -> None:
        """Mark where counting begins (the lifespan calls it; a failure waits for a scrape)."""
        async with self._lock:
            try:
                await asyncio.to_thread(self._start)
            except Exception:  # the store may come up later: the first scrape starts then
                self._last_id = None

    async def render(self, job_states: dict[str, int]) -> bytes:
        async with self._lock:
            await asyncio.to_thread(self._read_new)
        for state in ("queued", "running"):
            self.jobs.labels(state).set(job_states.get(state, 0))
        return bytes(generate_latest(self.registry))


def _report_queries(conn: Connection, ids: list[int]) -> dict[int, int]:
    """dns_queries of each audit in `ids`, read from its stored report."""
    found: dict[int, int] = {}
    rows = conn.execute(
        select(audits.c.id, blobs.c.codec, blobs.c.body)
        .join(blobs, blobs.c.id == audits.c.blob_id)
        .where(audits.c.id.in_(ids))
    )
    for row in rows:
        try:
            doc: dict[str, Any] = unpack(bytes(row.body), int(row.codec))
        except BlobError:
            continue
        queries = doc.get("dns_queries")
        if isinstance(queries, int) and queries > 0:
            found[int(row.id)] = queries
    return found


def metrics_router(ctx: ApiContext) -> APIRouter:
    router = APIRouter(dependencies=[ctx.reader], responses=ctx.errors)
    metrics: ApiMetrics = ctx.metrics

    @router.get(
        "/metrics",
        response_class=Response,
        responses={
            200: {
                "description": "Prometheus text exposition format",
                "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
            },
            503: {"model": Problem, "description": "the store cannot be read now"},
        },
    )
    async def scrape() -> Response:
        states: dict[str, int] = {}
        for job in list(ctx.manager.jobs.values()):
            states[job.status] = states.get(job.status, 0) + 1
        try:
            body = await metrics.render(states)
        except StoreError as exc:
            raise HTTPException(503, f"the store cannot be read now: {exc}") from None
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
