"""A store that goes away in the middle of a bulk run: the run completes, results.jsonl is
complete, the recorder says what it could not record, and `history import` brings the rest
in later without duplicates. On SQLite the store "goes away" as another writer holding the
lock past the recorder's lock timeout; on PostgreSQL as the database refusing connections
and the recorder's connection killed."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from history_zones import many_domains_zone

from mailauth_audit.bulk import runner
from mailauth_audit.bulk.inputs import read_entries
from mailauth_audit.bulk.runner import BulkConfig, run_bulk
from mailauth_audit.options import StoreLimits
from mailauth_audit.resolver.static import StaticResolver
from mailauth_audit.store.connect import make_engine, migrate
from mailauth_audit.store.recorder import StoreRecorder, import_results
from mailauth_audit.store.store import Store, open_store


class BreakAfterFirstBatch:
    """Passes batches on to the recorder; after the first, takes the store away."""

    def __init__(self, inner: StoreRecorder, take_away: Callable[[], None]) -> None:
        self.inner = inner
        self.take_away = take_away
        self.batches = 0

    def on_lines(self, lines: list[bytes], results: Path) -> None:
        self.inner.on_lines(lines, results)
        self.batches += 1
        if self.batches == 1:
            self.take_away()

    def on_done(self, outcome: Any) -> None:
        self.inner.on_done(outcome)


def _pg_switch(url: str) -> tuple[Callable[[], None], Callable[[], None]]:
    server, name = url.rsplit("/", 1)
    admin = server.replace("postgresql://", "postgresql://") + "/postgres"

    def run(sql: str) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql)

    def away() -> None:
        run(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        run(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")

    def back() -> None:
        run(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    return away, back


def _sqlite_switch(path: str) -> tuple[Callable[[], None], Callable[[], None]]:
    holder: list[sqlite3.Connection] = []

    def away() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        holder.append(conn)

    def back() -> None:
        holder.pop().execute("ROLLBACK")

    return away, back


def test_a_store_lost_mid_bulk_does_not_stop_the_run_and_import_fills_the_gap(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 60
    zone = many_domains_zone(n)
    entries, _ = read_entries([f"d{i}.example\n" for i in range(n)])
    monkeypatch.setattr(runner, "FLUSH_ITEMS", 10)  # several batches, one recorded
    engine = make_engine(store_url, StoreLimits(lock_timeout=0.5, connect_timeout=2))
    migrate(engine)
    recorder = StoreRecorder(Store(engine, StoreLimits()), "bulk")
    if store_url.startswith("postgresql"):
        away, back = _pg_switch(store_url)
    else:
        away, back = _sqlite_switch(store_url)
    observer = BreakAfterFirstBatch(recorder, away)
    out = tmp_path / "out"
    config = BulkConfig(
        output_dir=out,
        progress=False,
        resolver_factory=lambda: StaticResolver(zone),
        line_observers=(observer,),
    )
    try:
        outcome = run_bulk(entries, config)
    finally:
        back()
    # the run completed, every line is in the file
    assert outcome.complete and outcome.reported_now == n
    assert len((out / "results.jsonl").read_bytes().splitlines()) == n
    # the recorder says what it could not record
    assert recorder.error is not None
    assert recorder.recorded > 0 and recorder.recorded + recorder.not_recorded == n
    engine.dispose()
    # once the store is back, import adds exactly the missing audits to the same run
    store = open_store(store_url)
    result = import_results(store, out / "results.jsonl")
    assert (result.recorded, result.already) == (recorder.not_recorded, recorder.recorded)
    assert store.stored_bytes()["audits"] == n and len(store.runs()) == 1
    again = import_results(store, out / "results.jsonl")
    assert (again.recorded, again.already) == (0, n)
    store.close()
