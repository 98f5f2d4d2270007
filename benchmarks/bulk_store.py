"""`benchmarks/bulk.py --store sqlite|postgresql`: what recording into the history store
costs a bulk run, and the store's bytes per domain-audit at rest.

Runs are made in pairs in one invocation, against the same nsd: `bulk` without a store,
then `bulk --store URL` into a fresh store (a new SQLite file, or a new database on a
throwaway PostgreSQL server started like tests/store/pgserver.py: an unprivileged user, a
temporary folder, a free loopback port). It prints domains/s of both, the same-run ratio
(the budget is recording adding at most 10 %), and bytes per audit at rest: the whole store
after a checkpoint and VACUUM (SQLite) or the tables' pg_total_relation_size (PostgreSQL),
and the same without an empty store's size (the share that grows with the audits).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def store_bytes(url: str) -> tuple[int, int]:
    """(bytes at rest, audits) of a store."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import text

    from mailauth_audit.store.store import open_store

    if "://" not in url:
        with sqlite3.connect(url) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")
            audits = conn.execute("SELECT count(*) FROM audits").fetchone()[0]
        return Path(url).stat().st_size, int(audits)
    store = open_store(url)
    try:
        with store.transaction() as conn:
            total = sum(
                int(conn.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar_one())
                for t in ("runs", "blobs", "audits", "events", "deliveries", "api_tokens")
            )
            audits = int(conn.execute(text("SELECT count(*) FROM audits")).scalar_one())
    finally:
        store.close()
    return total, audits


def empty_store_bytes(url: str) -> int:
    sys.path.insert(0, str(ROOT))
    from mailauth_audit.store.store import open_store

    open_store(url).close()
    return store_bytes(url)[0]


def store_scenario(
    a: argparse.Namespace,
    data: Path,
    env: dict[str, str],
    run_ours: Callable[..., dict[str, Any]],
) -> None:
    """The pairs of runs (module docstring); `run_ours` is bulk.py's runner."""
    sys.path.insert(0, str(ROOT / "tests" / "store"))
    work = Path(tempfile.mkdtemp(prefix="bulk-store-"))
    server = None
    if a.store == "postgresql":
        from pgserver import PostgresServer

        server = PostgresServer().start()
    pairs = []
    try:
        for i in range(a.runs):
            url = server.new_database() if server else str(work / f"audits-{i}.db")
            empty = empty_store_bytes(url)
            plain = run_ours(data / "domains.txt", a.port, a.processes, a.extra, env, a.root)
            shutil.rmtree(plain["out"], ignore_errors=True)
            stored = run_ours(
                data / "domains.txt",
                a.port,
                a.processes,
                [*a.extra, "--store", url],
                env,
                a.root,
            )
            shutil.rmtree(stored["out"], ignore_errors=True)
            size, audits = store_bytes(url)
            pair = {
                "plain_domains_per_s": plain["domains_per_s"],
                "store_domains_per_s": stored["domains_per_s"],
                "ratio": stored["domains_per_s"] / plain["domains_per_s"],
                "audits": audits,
                "bytes_per_audit": size / max(audits, 1),
                "bytes_per_audit_without_empty": (size - empty) / max(audits, 1),
            }
            pairs.append(pair)
            print(f"  pair {i + 1}/{a.runs}: {json.dumps(pair)}", flush=True)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    def med(key: str) -> float:
        return statistics.median(p[key] for p in pairs)

    ratio = med("ratio")
    print()
    print(f"bulk --store {a.store}, {pairs[0]['audits']} domains, median of {len(pairs)} pairs:")
    print(f"  domains/s without the store   {med('plain_domains_per_s'):>10,.0f}")
    print(f"  domains/s recording           {med('store_domains_per_s'):>10,.0f}")
    print(
        f"  recording costs               {100 * (1 / ratio - 1):>10.1f} % of the run time "
        "(budget <= 10 %)"
    )
    print(
        f"  bytes per domain-audit        {med('bytes_per_audit'):>10,.0f}   "
        f"({med('bytes_per_audit_without_empty'):,.0f} without the empty store; "
        "target <= 2,048)"
    )
