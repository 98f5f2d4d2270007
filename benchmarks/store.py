"""History store benchmark: bytes per domain-audit at rest, what recording costs a bulk run,
and how long `diff --run A --run B` takes.

    python benchmarks/store.py --count 2000 [--backend sqlite|postgresql|both] [--pg-url URL]

1. generates a bench zone of COUNT domains with ../shared/bench/gen_zone.py (or --data DIR);
2. runs the bulk runner twice over it in this process (answers from the zone file through
   StaticResolver: no network, so the run is CPU-bound and recording's share is at its
   largest), once without a store and once recording into it; then a second recorded run;
3. prints: bulk seconds without/with recording, bytes per audit at rest (SQLite: the file
   after a checkpoint and VACUUM; PostgreSQL: pg_total_relation_size of the tables), the
   compressed report bytes per audit, and the time of a run diff of the two recorded runs.

PostgreSQL: --pg-url, or a throwaway server started like the tests do (tests/store/pgserver.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "store"))
BENCH = Path(os.environ.get("BENCH_DIR", ROOT.parent / "shared" / "bench"))

from mailauth_audit.bulk.inputs import read_entries  # noqa: E402
from mailauth_audit.bulk.runner import BulkConfig, run_bulk  # noqa: E402
from mailauth_audit.resolver.static import StaticResolver  # noqa: E402
from mailauth_audit.store.recorder import StoreRecorder  # noqa: E402
from mailauth_audit.store.store import Store, open_store  # noqa: E402
from mailauth_audit.store.views import diff_runs  # noqa: E402


def bulk(zone: str, domains: list[str], out: Path, recorder: StoreRecorder | None) -> float:
    entries, _ = read_entries([d + "\n" for d in domains])
    config = BulkConfig(
        output_dir=out,
        progress=False,
        resolver_factory=lambda: StaticResolver(zone),
        line_observers=(recorder,) if recorder is not None else (),
    )
    start = time.perf_counter()
    run_bulk(entries, config)
    return time.perf_counter() - start


def at_rest(store: Store, url: str) -> int:
    if store.engine.dialect.name == "sqlite":
        store.engine.dispose()  # the pool reconnects when the store is next used
        path = url
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")
        return Path(path).stat().st_size
    with store.transaction() as conn:
        from sqlalchemy import text

        total = 0
        for table in ("runs", "blobs", "audits", "events"):
            total += conn.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar_one()
        return int(total)


def measure(
    backend: str, url: str, zone: str, domains: list[str], work: Path, plain: float
) -> dict[str, Any]:
    store = open_store(url)
    empty = at_rest(store, url)
    first = StoreRecorder(store, "bulk")
    recorded = bulk(zone, domains, work / f"{backend}-1", first)
    one_run_total = at_rest(store, url)
    one_run = one_run_total / store.stored_bytes()["audits"]
    marginal = (one_run_total - empty) / store.stored_bytes()["audits"]
    second = StoreRecorder(store, "bulk")
    bulk(zone, domains, work / f"{backend}-2", second)
    assert first.error is None and second.error is None, (first.error, second.error)
    runs = store.runs()
    start = time.perf_counter()
    d = diff_runs(store, runs[0]["id"], runs[1]["id"])
    diff_seconds = time.perf_counter() - start
    figures = store.stored_bytes()
    size = at_rest(store, url)
    return {
        "backend": backend,
        "audits": figures["audits"],
        "bulk_s": recorded,
        "overhead_pct": 100 * (recorded - plain) / plain,
        "bytes_per_audit_one_run": one_run,
        "bytes_per_audit_marginal": marginal,
        "empty_store": empty,
        "bytes_per_audit_at_rest": size / figures["audits"],
        "blob_bytes_per_audit": figures["blob_bytes"] / figures["audits"],
        "diff_s": diff_seconds,
        "diff_unchanged": d.unchanged,
        "diff_changed": len(d.changes),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--data", type=Path, help="a gen_zone.py folder (default: generate)")
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--pg-url", help="an empty PostgreSQL database (default: a throwaway server)")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="store-bench-"))
    server = None
    try:
        data = a.data or work / "data"
        if not (data / "bench.zone").exists():
            subprocess.run(
                [sys.executable, str(BENCH / "gen_zone.py"), str(a.count), "--out", str(data)],
                check=True,
                capture_output=True,
            )
        zone = (data / "bench.zone").read_text()
        domains = (data / "domains.txt").read_text().split()[: a.count]
        plain = bulk(zone, domains, work / "plain", None)
        print(f"{len(domains)} domains; bulk without a store: {plain:.1f} s")
        rows = []
        if a.backend in ("sqlite", "both"):
            rows.append(measure("sqlite", str(work / "audits.db"), zone, domains, work, plain))
        if a.backend in ("postgresql", "both"):
            url = a.pg_url
            if url is None:
                from pgserver import PostgresServer

                server = PostgresServer().start()
                url = server.new_database()
            rows.append(measure("postgresql", url, zone, domains, work, plain))
        for r in rows:
            print(
                f"{r['backend']:<10} {r['audits']} audits: bulk {r['bulk_s']:.1f} s "
                f"(+{r['overhead_pct']:.0f} % for recording); at rest "
                f"{r['bytes_per_audit_one_run']:.0f} B per audit after one run "
                f"({r['bytes_per_audit_marginal']:.0f} B without the empty store's "
                f"{r['empty_store']} B), "
                f"{r['bytes_per_audit_at_rest']:.0f} B after two (compressed reports "
                f"{r['blob_bytes_per_audit']:.0f} B per audit, shared when identical); "
                f"diff of the two runs {r['diff_s']:.2f} s "
                f"({r['diff_changed']} changed, {r['diff_unchanged']} unchanged)"
            )
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
