"""Service benchmark: a job through the task queue with two `worker` processes vs `bulk`
with two processes, on the same bench zone, in the same run.

    python benchmarks/service.py --count 10000               # the README figure
    python benchmarks/service.py --count 10000 --runs 3 --chunk-size 500

What it does (everything on loopback):
1. generates a zone of COUNT domains with ../shared/bench/gen_zone.py (unless --data has one)
   and serves it with ../shared/bench/serve.sh (nsd on 127.0.0.1:PORT), as bulk.py does,
2. starts a throwaway PostgreSQL (tests/store/pgserver.py; or uses --store URL),
   `serve` on it and two `worker` processes, and waits until both workers are up,
3. for each run: `mailauth-audit bulk --processes 2` (a fresh process, as a user runs it),
   then POST /v1/audits with the same domains and polls until the job is done; domains/s is
   COUNT / wall time from POST to "done" (queueing, chunk hand-out and recording included),
4. prints both rates, the stored audits (each domain once) and the ratio (target >= 80 %).

    python benchmarks/service.py --latency [--clients 200] [--requests 20] [--store URL]

--latency measures `GET /v1/audits/{id}` under concurrent clients instead (p50/p90/p99):
benchmarks/service_latency.py, which this dispatches to.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "store"))

from bulk import BENCH, run_ours, sh  # noqa: E402  (benchmarks/bulk.py: the bulk side)

from mailauth_audit.options import QueueLimits  # noqa: E402


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Fleet:
    """`serve` and N workers on one PostgreSQL store (processes stopped by their pids)."""

    def __init__(self, store_url: str, nameserver: str, workers: int, chunk_size: int) -> None:
        self.store_url = store_url
        self.nameserver = nameserver
        self.folder = Path(tempfile.mkdtemp(prefix="service-bench-"))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.workers = workers
        self.chunk_size = chunk_size
        self.base = ""
        self.token = ""

    def _spawn(self, name: str, *argv: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "mailauth_audit", *argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self.procs.append(proc)
        return proc

    def start(self, count: int) -> None:
        from mailauth_audit.store.store import open_store
        from mailauth_audit.store.tokens import TokenScope, create_token

        store = open_store(self.store_url)
        try:
            self.token = create_token(store, f"bench-{os.getpid()}", TokenScope.WRITE)[1]
        finally:
            store.close()
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self._spawn(
            "serve",
            *("serve", "--store", self.store_url, "--port", str(port)),
            *("--nameserver", self.nameserver, "--chunk-size", str(self.chunk_size)),
            *("--max-domains-per-request", str(count)),
        )
        for i in range(self.workers):
            self._spawn(
                f"worker{i}",
                *("worker", "--store", self.store_url, "--nameserver", self.nameserver),
                *("--name", f"bench{i}"),
            )
        deadline = time.monotonic() + 120
        while True:
            up = sum(
                "started" in (self.folder / f"worker{i}.log").read_text(errors="replace")
                for i in range(self.workers)
            )
            try:
                healthy = httpx.get(self.base + "/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                healthy = False
            if healthy and up == self.workers:
                return
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise SystemExit(f"the fleet did not start; logs in {self.folder}")
            time.sleep(0.2)

    def post_job(self, domains: list[str]) -> int:
        r = httpx.post(
            self.base + "/v1/audits",
            json={"domains": domains},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=120,
        )
        if r.status_code != 202:
            raise SystemExit(f"POST /v1/audits: {r.status_code} {r.text[:500]}")
        return int(r.json()["id"])

    def wait_done(self, job_id: int, poll: float = 0.1) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=60) as client:
            while True:
                doc: dict[str, Any] = client.get(f"/v1/audits/{job_id}").json()
                if doc["status"] not in ("queued", "running"):
                    return doc
                time.sleep(poll)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(90)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_queue(fleet: Fleet, domains: list[str]) -> dict[str, Any]:
    pids = [p.pid for p in fleet.procs]
    cpu0 = cpu_seconds(pids)
    t0 = time.perf_counter()
    job_id = fleet.post_job(domains)
    doc = fleet.wait_done(job_id)
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(pids) - cpu0
    return {
        "job": job_id,
        "status": doc["status"],
        "domains": doc["total"],
        "recorded": doc["recorded"],
        "wall_s": round(wall, 2),
        "domains_per_s": round(doc["total"] / wall, 1),
        # serve + workers (PostgreSQL's own processes not included)
        "cpu_ms_per_domain": round(1000 * cpu / max(1, doc["total"]), 3),
        "load": load(),
    }


def main() -> None:
    if "--latency" in sys.argv[1:]:
        import service_latency  # benchmarks/ is on sys.path when this runs as a script

        service_latency.main(sys.argv[1:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=10_000, help="domains in the generated zone")
    ap.add_argument("--data", type=Path, help="a gen_zone.py folder (default: generate)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2, help="worker processes (bulk: processes)")
    ap.add_argument("--chunk-size", type=int, default=QueueLimits().chunk_size)
    ap.add_argument("--port", type=int, default=5301)
    ap.add_argument("--store", help="a PostgreSQL URL (default: a throwaway server)")
    a = ap.parse_args()

    data = a.data or Path(tempfile.gettempdir()) / f"mailauth-bench-{a.count}"
    if not (data / "bench.zone").exists():
        print(f"generating {a.count} domains in {data}", flush=True)
        sh(sys.executable, str(BENCH / "gen_zone.py"), str(a.count), "--out", str(data))
    domains = [d.strip() for d in (data / "domains.txt").read_text().splitlines() if d.strip()]
    env = {**os.environ, "PORT": str(a.port)}
    print(sh("bash", str(BENCH / "serve.sh"), "start", str(data), env=env).strip(), flush=True)
    pg = None
    fleet = None
    bulk_runs: list[dict[str, Any]] = []
    queue_runs: list[dict[str, Any]] = []
    try:
        url = a.store
        if url is None:
            from pgserver import PostgresServer

            pg = PostgresServer().start()
            url = pg.new_database()
        fleet = Fleet(url, f"127.0.0.1:{a.port}", a.workers, a.chunk_size)
        fleet.start(len(domains))
        for i in range(a.runs):
            b = run_ours(data / "domains.txt", a.port, a.workers, [], env)
            b["load"] = load()
            shutil.rmtree(b["out"], ignore_errors=True)
            bulk_runs.append(b)
            print(f"  bulk run {i + 1}: {json.dumps(b)}", flush=True)
            q = run_queue(fleet, domains)
            queue_runs.append(q)
            print(f"  queue run {i + 1}: {json.dumps(q)}", flush=True)
    finally:
        if fleet is not None:
            fleet.stop()
        if pg is not None:
            pg.stop()
        print(sh("bash", str(BENCH / "serve.sh"), "stop", env=env, check=False).strip())
    bulk_rate = statistics.median(r["domains_per_s"] for r in bulk_runs)
    queue_rate = statistics.median(r["domains_per_s"] for r in queue_runs)
    print()
    print(f"{len(domains)} domains, {a.workers} processes each, median of {a.runs} run(s):")
    print(f"  bulk --processes {a.workers}        {bulk_rate:>10,.0f} domains/s")
    print(f"  queue, {a.workers} workers (POST->done) {queue_rate:>8,.0f} domains/s")
    ratio = 100 * queue_rate / bulk_rate
    print(f"  ratio queue / bulk          {ratio:>9.0f} %   (target >= 80 %)")
    if a.runs > 1:
        pairs = [
            100 * q["domains_per_s"] / b["domains_per_s"]
            for b, q in zip(bulk_runs, queue_runs, strict=True)
        ]
        print(f"  ratio of each run (bulk then queue): {', '.join(f'{r:.0f} %' for r in pairs)}")
    print(f"  load average at the end: {load()}")


if __name__ == "__main__":
    main()
