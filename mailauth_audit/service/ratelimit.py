"""Per-token rate limits: a token bucket per API token, kept in the store.

Why in the store: every `serve` process on one store (several behind a balancer) then
draws from the same bucket, so a token gets `rate_per_second` (and `rate_burst`) in all,
not that much per process. The bucket is a row of `query_budget` (the table of the
workers' DNS budget: name, tokens, updated_at) named "rate:<token id>", taken in one
statement: on PostgreSQL an UPDATE ... RETURNING that locks the row, with the database's
clock (the processes' machines may disagree on the time); on SQLite in a write
transaction (BEGIN IMMEDIATE: one writer at a time), with this machine's clock, every
process being on it. One round trip per request, after the one that looks up the token.
Rows exist per token that made a request: tokens are issued by the operator, so callers
cannot grow the table.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..store.connect import StoreError, classify
from ..store.record import dialect_insert
from ..store.schema import query_budget
from ..store.store import Store

__all__ = ["TokenBuckets"]

_TAKE_PG = text(
    """
    WITH now AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS t),
    cur AS (
        SELECT least(:burst, b.tokens + greatest(0, now.t - b.updated_at) * :rate) AS avail,
               now.t AS t
        FROM query_budget b, now WHERE b.name = :name FOR UPDATE OF b
    )
    UPDATE query_budget q
       SET tokens = CASE WHEN cur.avail >= 1 THEN cur.avail - 1 ELSE cur.avail END,
           updated_at = greatest(q.updated_at, cur.t)
      FROM cur
     WHERE q.name = :name
    RETURNING cur.avail AS avail
    """
)
_CREATE_PG = text(
    """
    INSERT INTO query_budget (name, tokens, updated_at)
    VALUES (:name, :burst, extract(epoch FROM clock_timestamp()))
    ON CONFLICT (name) DO NOTHING
    """
)


class TokenBuckets:
    """`take()` runs in a worker thread (it waits for the store), as the token lookup does."""

    def __init__(
        self,
        store: Store,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock  # SQLite only: PostgreSQL uses its own

    def take(self, key: int) -> float:
        """0 when the request may go ahead (one token taken), else the seconds until it may.
        Raises StoreError when the store cannot be used."""
        name = f"rate:{key}"
        if self.store.engine.dialect.name == "postgresql":
            with self.store.transaction() as conn:
                avail = self._take_pg(conn, name)
        else:
            avail = self._take_sqlite(name)
        return 0.0 if avail >= 1.0 else (1.0 - avail) / self.rate

    def _take_pg(self, conn: Connection, name: str) -> float:
        params: dict[str, Any] = {"name": name, "burst": self.burst, "rate": self.rate}
        row = conn.execute(_TAKE_PG, params).first()
        if row is None:  # the token's first request: its bucket starts full
            conn.execute(_CREATE_PG, params)
            row = conn.execute(_TAKE_PG, params).one()
        return float(row.avail)

    def _take_sqlite(self, name: str) -> float:
        """In a write transaction whose commit is not synced to disk (PRAGMA synchronous =
        NORMAL, in WAL mode: the database stays consistent; a power cut may lose the
        commit, leaving a bucket a little fuller). The fsync is most of what a synced
        commit costs a request; the connection's level is restored after, so the store's
        other commits keep theirs."""
        engine = self.store.engine
        try:
            with engine.connect() as conn:
                raw: Any = conn.connection.driver_connection  # no transaction open yet
                level = int(raw.execute("PRAGMA synchronous").fetchone()[0])
                raw.execute("PRAGMA synchronous = NORMAL")
                try:
                    with conn.begin():  # BEGIN IMMEDIATE (store/connect.py)
                        return self._take_here(conn, name)
                finally:
                    raw.execute(f"PRAGMA synchronous = {level}")
        except DBAPIError as exc:
            raise classify(exc, engine) from None
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise StoreError(f"store failed: {exc}") from None

    def _take_here(self, conn: Connection, name: str) -> float:
        now = self.clock()
        row = conn.execute(
            select(query_budget.c.tokens, query_budget.c.updated_at).where(
                query_budget.c.name == name
            )
        ).first()
        if row is None:
            avail, stamp = self.burst, now
        else:  # a clock set back refills nothing until it is past the last request again
            stamp = max(now, float(row.updated_at))
            avail = min(self.burst, float(row.tokens) + (stamp - float(row.updated_at)) * self.rate)
        left = avail - 1.0 if avail >= 1.0 else avail
        stmt = dialect_insert(conn, query_budget).values(name=name, tokens=left, updated_at=stamp)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["name"], set_={"tokens": left, "updated_at": stamp}
            )
        )
        return avail
