"""`serve` latency benchmark (reached through `benchmarks/service.py --latency`).

    python benchmarks/service.py --latency [--clients 200] [--requests 20]
    python benchmarks/service.py --latency --running 10000              # while a job runs
    python benchmarks/service.py --latency --running 10000 --workers 2  # PostgreSQL + workers

--latency: `GET /v1/audits/{id}` under CLIENTS concurrent clients, each on its own
keep-alive connection, each making REQUESTS requests back to back, against the real server
(`python -m mailauth_audit serve`, uvicorn, one process) on loopback. Prints p50, p90, p99
and max latency, the requests per second and the load average.

- Default: a SQLite store; the job polled is a one-domain job the server has in memory.
- `--running N`: the job polled is N bench domains (../shared/bench, served by nsd) that
  is still running while the clients ask: on SQLite `serve` audits it in its own event
  loop, the case where a status request competes with the audit for the loop.
- `--workers K` (with --running): a throwaway PostgreSQL store, `serve` queues the job
  and K `worker` processes run it; every status request reads the job's progress from
  the store (benchmarks/service.py's fleet).

The rate limit is lifted for the run (--rate-per-second): it is the server's cost being
measured, not the limit's refusals. The clients are raw asyncio streams (a request line,
headers, Content-Length body), connected before the clock starts and released together:
a client library's own CPU (an HTTP client per connection builds a TLS context, ~50 ms
each on a loaded core) would otherwise be measured as the server's latency. Clients and
server share this machine's cores.
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
sys.path.insert(0, str(ROOT / "tests" / "store"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
from dnsservers import free_port, stop_process  # noqa: E402

from mailauth_audit.store.store import open_store  # noqa: E402
from mailauth_audit.store.tokens import TokenScope, create_token  # noqa: E402


def _start_serve(store_url: str, port: int, log: Path, nameserver: str) -> subprocess.Popen[bytes]:
    command = [
        *(sys.executable, "-m", "mailauth_audit", "serve", "--store", store_url),
        *("--port", str(port), "--nameserver", nameserver, "--timeout", "0.2"),
        *("--rate-per-second", "1000000", "--rate-burst", "1000000", "--no-scheduler"),
        *("--max-domains-per-request", "100000"),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 120
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


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """One request on a keep-alive connection: the status code (the body is read)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    await reader.readexactly(length)
    return status


async def _client(port: int, request: bytes, n: int, go: asyncio.Event, out: list[float]) -> int:
    errors = 0
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await go.wait()
        for _ in range(n):
            start = time.perf_counter()
            try:
                status = await _exchange(reader, writer, request)
            except (asyncio.IncompleteReadError, ConnectionError):
                # the server closed the keep-alive connection: count it, reconnect
                errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            out.append(time.perf_counter() - start)
            errors += status != 200
    finally:
        writer.close()
    return errors


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    port: int, path: str, token: str, clients: int, requests: int, pid: int | None = None
) -> None:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
    ).encode()

    async def run() -> tuple[list[float], int, float]:
        out: list[float] = []
        go = asyncio.Event()
        tasks = [
            asyncio.create_task(_client(port, request, requests, go, out)) for _ in range(clients)
        ]
        await asyncio.sleep(0.5)  # every client connected before the clock starts
        start = time.perf_counter()
        go.set()
        errors = await asyncio.gather(*tasks)
        return out, sum(errors), time.perf_counter() - start

    load_before = _load()
    cpu_before = _cpu(pid) if pid is not None else 0.0
    samples, errors, wall = asyncio.run(run())
    cpu = _cpu(pid) - cpu_before if pid is not None else None
    ms = [s * 1000 for s in samples]
    print(f"GET {path}: {clients} concurrent clients x {requests} requests")
    print(
        f"  p50 {_quantile(ms, 0.50):.1f} ms  p90 {_quantile(ms, 0.90):.1f} ms  "
        f"p99 {_quantile(ms, 0.99):.1f} ms  max {max(ms):.1f} ms  "
        f"mean {statistics.fmean(ms):.1f} ms"
    )
    print(f"  {len(ms) / wall:.0f} requests/s over {wall:.1f} s; failed requests: {errors}")
    print(f"  load average before {load_before}, after {_load()}")
    if cpu is not None:
        # the server's own cost, which the load of the machine does not change much: on a
        # free core it answers 1000 / this many requests per second
        print(f"  serve CPU per request: {1000 * cpu / max(1, len(ms)):.2f} ms")


def _job_status(port: int, path: str, token: str) -> str:
    doc = httpx.get(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=60
    ).json()
    return f"{doc['status']}, {doc['recorded']}/{doc['total']} recorded"


def _post(port: int, token: str, body: dict[str, object]) -> str:
    posted = httpx.post(
        f"http://127.0.0.1:{port}/v1/audits",
        headers={"Authorization": f"Bearer {token}"},
        json=body,
        timeout=120,
    )
    posted.raise_for_status()
    return f"/v1/audits/{posted.json()['id']}"


def latency(clients: int, requests: int, store_url: str | None, running: int) -> None:
    """p50/p99 of GET /v1/audits/{id} under `clients` concurrent clients, serve alone."""
    folder = Path(tempfile.mkdtemp(prefix="mailauth-bench-service-"))
    url = store_url or str(folder / "audits.db")
    store = open_store(url)
    try:
        token = create_token(store, f"bench-{time.time_ns()}", TokenScope.WRITE)[1]
    finally:
        store.close()
    port = free_port()
    bench = _BenchZone(running) if running else None
    nameserver = bench.nameserver if bench else f"127.0.0.1:{free_port()}"
    try:
        proc = _start_serve(url, port, folder / "serve.log", nameserver)
        try:
            if bench is None:
                path = _post(port, token, {"domains": ["bench.example"], "checks": ["mx"]})
            else:
                path = _post(port, token, {"domains": bench.domains})
                time.sleep(2)  # the job under way
                print(f"job before: {_job_status(port, path, token)}")
            print(f"store {url}")
            measure(port, path, token, clients, requests, proc.pid)
            if bench is not None:
                print(f"job after: {_job_status(port, path, token)}")
        finally:
            stop_process(proc, grace=10)
    finally:
        if bench is not None:
            bench.stop()
        shutil.rmtree(folder, ignore_errors=True)


def latency_fleet(
    clients: int, requests: int, store_url: str | None, running: int, workers: int
) -> None:
    """The same while `workers` worker processes run a job of `running` bench domains."""
    from service import Fleet  # benchmarks/service.py

    bench = _BenchZone(running)
    pg = None
    fleet = None
    try:
        url = store_url
        if url is None:
            from pgserver import PostgresServer

            pg = PostgresServer().start()
            url = pg.new_database()
        fleet = Fleet(url, bench.nameserver, workers, 1000)
        fleet.start(len(bench.domains))
        port = int(fleet.base.rsplit(":", 1)[1])
        path = f"/v1/audits/{fleet.post_job(bench.domains)}"
        time.sleep(5)  # the workers under way
        print(f"job before: {_job_status(port, path, fleet.token)}")
        print(f"store {url}, {workers} workers")
        measure(port, path, fleet.token, clients, requests, fleet.procs[0].pid)
        print(f"job after: {_job_status(port, path, fleet.token)}")
    finally:
        if fleet is not None:
            fleet.stop()
        if pg is not None:
            pg.stop()
        bench.stop()


class _BenchZone:
    """COUNT generated bench domains served by nsd (as benchmarks/bulk.py serves them)."""

    def __init__(self, count: int) -> None:
        from bulk import BENCH, sh

        self.sh, self.script = sh, str(BENCH / "serve.sh")
        data = Path(tempfile.gettempdir()) / f"mailauth-bench-{count}"
        if not (data / "bench.zone").exists():
            sh(sys.executable, str(BENCH / "gen_zone.py"), str(count), "--out", str(data))
        self.domains = [d for d in (data / "domains.txt").read_text().split() if d]
        port = free_port()
        self.env = {**os.environ, "PORT": str(port)}
        sh("bash", self.script, "start", str(data), env=self.env)
        self.nameserver = f"127.0.0.1:{port}"

    def stop(self) -> None:
        self.sh("bash", self.script, "stop", env=self.env, check=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", action="store_true", help="GET /v1/audits/{id} latency")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--requests", type=int, default=20, help="per client")
    parser.add_argument("--store", default=None, help="store URL (default: a new SQLite file)")
    parser.add_argument("--running", type=int, default=0, help="poll a job of N bench domains")
    parser.add_argument("--workers", type=int, default=0, help="with --running: PostgreSQL")
    args = parser.parse_args(argv)
    if not args.latency:
        parser.error("choose a benchmark: --latency")
    if args.workers:
        latency_fleet(args.clients, args.requests, args.store, args.running or 10_000, args.workers)
    else:
        latency(args.clients, args.requests, args.store, args.running)


if __name__ == "__main__":
    main()
