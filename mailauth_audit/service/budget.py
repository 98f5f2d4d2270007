"""`worker --qps`: one DNS query budget for all workers, however many and wherever.

A token bucket in PostgreSQL (`query_budget`, one row): it fills at `qps` tokens per second
by the database's clock, holds at most one lease, and a worker takes tokens from it a lease
at a time (`qps * budget_lease` tokens, in one short transaction that locks the row). A
leased token is good for `budget_lease` seconds; what a worker has not spent by then is
dropped. So over any window of T seconds all workers together send at most
`qps * (T + 2 * budget_lease)` upstream questions, and on average at most `qps`, whether
there are two workers or twenty, and with workers joining or leaving at any time.

Placed under the worker's DNS cache (`CachingResolver(BudgetedResolver(WireResolver))`):
only questions that go upstream spend tokens. When the bucket cannot be reached (the
database restarting), a worker paces itself at `qps / workers` (the live workers it last
counted) until it can: the bound still holds unless workers join meanwhile, and they cannot
join without the database.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from sqlalchemy import text

from ..resolver.base import Answer, Resolver, RRType
from ..store.connect import StoreError
from ..store.store import Store

__all__ = ["BudgetedResolver", "QueryBudget"]

BUCKET = "dns"

_LEASE = text(
    """
    WITH now AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS t),
    cur AS (
        SELECT least(:burst, b.tokens + greatest(0, now.t - b.updated_at) * :qps) AS avail,
               now.t AS t
        FROM query_budget b, now WHERE b.name = :name FOR UPDATE OF b
    )
    UPDATE query_budget q
       SET tokens = cur.avail - least(:want, floor(cur.avail)), updated_at = cur.t
      FROM cur
     WHERE q.name = :name
    RETURNING least(:want, floor(cur.avail))::int AS granted, cur.avail AS avail,
      (SELECT count(*) FROM procrastinate_workers w
        WHERE w.last_heartbeat > now() - make_interval(secs => :stale)) AS workers
    """
)
_CREATE = text(
    """
    INSERT INTO query_budget (name, tokens, updated_at)
    VALUES (:name, 0, extract(epoch FROM clock_timestamp()))
    ON CONFLICT (name) DO NOTHING
    """
)


class QueryBudget:
    """A worker's side of the shared bucket: `take()` returns when one question may go."""

    def __init__(self, store: Store, qps: float, lease: float, stale_after: float) -> None:
        if not (math.isfinite(qps) and qps > 0):
            raise ValueError(f"qps must be a finite number above 0: {qps!r}")
        self.store = store
        self.qps = float(qps)
        self.lease = lease
        self.stale_after = stale_after
        self.block = max(1, math.ceil(self.qps * lease))
        self.tokens = 0
        self.expires = 0.0
        self.workers = 1  # live workers at the last lease: the share when the bucket is away
        self.leases = 0
        self._lock = asyncio.Lock()
        self._created = False
        self._next_local = 0.0
        self._retry_at = 0.0  # while the bucket is away, ask it again only after this

    def _lease(self) -> tuple[int, float, int]:
        with self.store.transaction() as conn:
            if not self._created:
                conn.execute(_CREATE, {"name": BUCKET})
                self._created = True
            row: Any = conn.execute(
                _LEASE,
                {
                    "name": BUCKET,
                    "burst": float(self.block),
                    "qps": self.qps,
                    "want": self.block,
                    "stale": self.stale_after,
                },
            ).one()
        return int(row.granted), float(row.avail), max(1, int(row.workers))

    async def take(self) -> None:
        while True:
            now = time.monotonic()
            if self.tokens > 0 and now < self.expires:
                self.tokens -= 1
                return
            async with self._lock:
                now = time.monotonic()
                if self.tokens > 0 and now < self.expires:
                    continue
                if now < self._retry_at:
                    await self._local_pace()
                    return
                try:
                    granted, avail, self.workers = await asyncio.to_thread(self._lease)
                except StoreError:
                    self._retry_at = time.monotonic() + 1.0
                    await self._local_pace()
                    return
                self.leases += 1
                if granted:
                    self.tokens, self.expires = granted, time.monotonic() + self.lease
                    continue
                await asyncio.sleep(max(0.002, (1.0 - avail) / self.qps))

    async def _local_pace(self) -> None:
        """The bucket is away: one question per `workers / qps` seconds from this worker."""
        interval = self.workers / self.qps
        now = asyncio.get_running_loop().time()
        slot = max(self._next_local, now)
        self._next_local = slot + interval
        if slot > now:
            await asyncio.sleep(slot - now)


class BudgetedResolver:
    """Asks `budget` before each upstream question (see the module docstring)."""

    def __init__(self, inner: Resolver, budget: QueryBudget) -> None:
        self.inner = inner
        self.budget = budget

    async def resolve(
        self,
        name: str,
        rdtype: RRType,
        *,
        dnssec_ok: bool = False,
        checking_disabled: bool = False,
    ) -> Answer:
        await self.budget.take()
        if dnssec_ok or checking_disabled:
            return await self.inner.resolve(
                name, rdtype, dnssec_ok=dnssec_ok, checking_disabled=checking_disabled
            )
        return await self.inner.resolve(name, rdtype)

    async def aclose(self) -> None:
        await self.inner.aclose()
