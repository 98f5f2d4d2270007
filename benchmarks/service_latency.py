"""`serve` latency benchmark (reached through `benchmarks/service.py --latency`).

    python benchmarks/service.py --latency [--clients 200] [--requests 20] [--store URL]

--latency: `GET /v1/audits/{id}` under CLIENTS concurrent clients, each on its own
connection, each making REQUESTS requests back to back, against the real server
(`python -m mailauth_audit serve`, uvicorn, one process) on loopback, over a SQLite store
(or --store URL, e.g. a PostgreSQL database). The job polled is one the server has in
memory (a POST made first), as a client polling its own job sees it. Prints p50, p90, p99
and max latency and the requests per second. The rate limit is lifted for the run
(--rate-per-second): it is the server's cost being measured, not the limit's refusals.
Clients and server share this machine's cores: the figures include the load generator's
own CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import httpx  # noqa: E402
from dnsservers import free_port, stop_process  # noqa: E402

from mailauth_audit.store.store import open_store  # noqa: E402
from mailauth_audit.store.tokens import TokenScope, create_token  # noqa: E402


def _start_serve(store_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        *(sys.executable, "-m", "mailauth_audit", "serve", "--store", store_url),
        *("--port", str(port), "--nameserver", f"127.0.0.1:{free_port()}", "--timeout", "0.2"),
        *("--rate-per-second", "1000000", "--rate-burst", "1000000", "--no-scheduler"),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc, grace=5)
            raise SystemExit("serve did not start:\n" + log.read_text(errors="replace"))
        time.sleep(0.2)


async def _client(base: str, path: str, token: str, n: int, out: list[float]) -> int:
    errors = 0
    limits = httpx.Limits(max_connections=1)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as c:
        for _ in range(n):
            start = time.perf_counter()
            r = await c.get(path, timeout=60)
            out.append(time.perf_counter() - start)
            errors += r.status_code != 200
    return errors


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(clients: int, requests: int, store_url: str | None) -> None:
    """p50/p99 of GET /v1/audits/{id} under `clients` concurrent clients."""
    folder = Path(tempfile.mkdtemp(prefix="mailauth-bench-service-"))
    url = store_url or str(folder / "audits.db")
    store = open_store(url)
    try:
        token = create_token(store, f"bench-{time.time_ns()}", TokenScope.WRITE)[1]
    finally:
        store.close()
    port = free_port()
    proc = _start_serve(url, port, folder / "serve.log")
    base = f"http://127.0.0.1:{port}"
    try:
        posted = httpx.post(
            base + "/v1/audits",
            headers={"Authorization": f"Bearer {token}"},
            json={"domains": ["bench.example"], "checks": ["mx"]},
            timeout=30,
        )
        posted.raise_for_status()
        path = f"/v1/audits/{posted.json()['id']}"

        async def run() -> tuple[list[float], int, float]:
            out: list[float] = []
            start = time.perf_counter()
            errors = await asyncio.gather(
                *(_client(base, path, token, requests, out) for _ in range(clients))
            )
            return out, sum(errors), time.perf_counter() - start

        samples, errors, wall = asyncio.run(run())
    finally:
        stop_process(proc, grace=10)
        shutil.rmtree(folder, ignore_errors=True)
    ms = [s * 1000 for s in samples]
    print(f"GET {path}: {clients} concurrent clients x {requests} requests, store {url}")
    print(
        f"  p50 {_quantile(ms, 0.50):.1f} ms  p90 {_quantile(ms, 0.90):.1f} ms  "
        f"p99 {_quantile(ms, 0.99):.1f} ms  max {max(ms):.1f} ms  "
        f"mean {statistics.fmean(ms):.1f} ms"
    )
    print(f"  {len(ms) / wall:.0f} requests/s over {wall:.1f} s; non-200 answers: {errors}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", action="store_true", help="GET /v1/audits/{id} latency")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--requests", type=int, default=20, help="per client")
    parser.add_argument("--store", default=None, help="store URL (default: a new SQLite file)")
    args = parser.parse_args(argv)
    if args.latency:
        latency(args.clients, args.requests, args.store)
    else:
        parser.error("choose a benchmark: --latency")


if __name__ == "__main__":
    main()
