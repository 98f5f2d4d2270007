"""What the shared per-token rate limit costs a request: `TokenBuckets.take()` (the store
row every `serve` process draws from) timed against the token lookup each request already
makes, on PostgreSQL (a throwaway server, as the tests start it) and on SQLite.

    python benchmarks/rate_buckets.py [--requests 500]

Both are timed in this process, one call after another (a request's two store round trips
as `serve` makes them, minus HTTP); medians and 90th percentiles in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "store"))

from pgserver import PostgresServer  # noqa: E402

from mailauth_audit.service.ratelimit import TokenBuckets  # noqa: E402
from mailauth_audit.store.store import open_store  # noqa: E402
from mailauth_audit.store.tokens import TokenScope, create_token, find_token  # noqa: E402


def _timed(call: Callable[[], object], count: int) -> str:
    call()  # the first request of a token creates its bucket
    times = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    times.sort()
    p90 = times[int(len(times) * 0.9)]
    return f"median {statistics.median(times) * 1e3:.2f} ms, p90 {p90 * 1e3:.2f} ms"


def _measure(url: str, count: int) -> None:
    store = open_store(url)
    try:
        secret = create_token(store, "bench", TokenScope.READ)[1]
        buckets = TokenBuckets(store, rate=1e6, burst=10**6)
        name = store.engine.dialect.name
        print(f"{name}: token lookup  {_timed(lambda: find_token(store, secret), count)}")
        print(f"{name}: bucket take   {_timed(lambda: buckets.take(1), count)}")
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    count = parser.parse_args().requests
    server = PostgresServer().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            for url in (server.new_database(), str(Path(folder) / "audits.db")):
                _measure(url, count)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
