"""Real components for the queue tests: a throwaway PostgreSQL (tests/store/pgserver.py),
nsd serving a generated zone, a counting UDP relay in front of it, `serve` under uvicorn
and `worker` processes, all on loopback. Processes are stopped by their own pids."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "store"))

from dnsservers import free_port, stop_process
from pgserver import PG_BIN, PostgresServer

ORIGIN = "q.test"
CHECKS = "dmarc"  # one question per domain: the tests are about the queue, not the checks


def domain_names(count: int) -> list[str]:
    return [f"d{i:05d}.{ORIGIN}" for i in range(count)]


def zone_text(count: int) -> str:
    """Each domain: an MX to a shared host, an SPF record, a DMARC record."""
    lines = [
        "$TTL 300",
        f"@ IN SOA ns.{ORIGIN}. hostmaster.{ORIGIN}. 1 3600 600 86400 300",
        f"@ IN NS ns.{ORIGIN}.",
        "ns IN A 127.0.0.1",
        "mx IN A 192.0.2.25",
    ]
    for i in range(count):
        label = f"d{i:05d}"
        lines.append(f"{label} IN MX 10 mx.{ORIGIN}.")
        lines.append(f'{label} IN TXT "v=spf1 ip4:192.0.2.0/24 -all"')
        lines.append(f'_dmarc.{label} IN TXT "v=DMARC1; p=reject"')
    return "\n".join(lines) + "\n"


def require_postgres() -> None:
    if PG_BIN is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not installed (CI must install it: see .ci/run)")
        pytest.skip("PostgreSQL is not installed")


def restart_postgres(server: PostgresServer) -> None:
    """A fast stop (connections dropped) and a start on the same port and data (stop and
    start, not `pg_ctl restart`, so the server logs to its file, not to our pipe)."""
    pg_ctl = str(server.bin / "pg_ctl")
    server._run(pg_ctl, "-D", str(server.data), "-m", "fast", "-w", "stop")
    options = f"-h {server.host} -p {server.port} -k {server.base} -c fsync=off"
    log = str(server.base / "log")
    server._run(pg_ctl, "-D", str(server.data), "-o", options, "-l", log, "-w", "-t", "60", "start")


class CountingRelay:
    """UDP relay to the real server that stamps every question it forwards (monotonic
    seconds): what the whole fleet sent, counted outside it."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.times: list[float] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.up.connect(upstream)
        self.pending: dict[int, tuple[bytes, tuple[str, int]]] = {}
        self.next_id = 0
        self.lock = threading.Lock()
        self.stopping = False
        self.threads = [
            threading.Thread(target=self._from_clients, daemon=True),
            threading.Thread(target=self._from_server, daemon=True),
        ]
        for t in self.threads:
            t.start()

    @property
    def address(self) -> str:
        host, port = self.sock.getsockname()
        return f"{host}:{port}"

    def _from_clients(self) -> None:
        while not self.stopping:
            try:
                data, client = self.sock.recvfrom(65535)
            except OSError:
                return
            if len(data) < 12:
                continue
            with self.lock:
                self.times.append(time.monotonic())
                self.next_id = (self.next_id + 1) % 65536
                ours = self.next_id
                self.pending[ours] = (data[:2], client)
            self.up.send(ours.to_bytes(2, "big") + data[2:])

    def _from_server(self) -> None:
        while not self.stopping:
            try:
                data = self.up.recv(65535)
            except OSError:
                return
            with self.lock:
                found = self.pending.pop(int.from_bytes(data[:2], "big"), None)
            if found is not None:
                self.sock.sendto(found[0] + data[2:], found[1])

    def close(self) -> None:
        self.stopping = True
        self.sock.close()
        self.up.close()

    def max_in_window(self, window: float) -> int:
        times = sorted(self.times)
        best, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] > window:
                start += 1
            best = max(best, end - start + 1)
        return best


@dataclass
class Fleet:
    """serve + workers against one PostgreSQL database."""

    store_url: str
    nameserver: str
    folder: Path
    token: str = ""
    base: str = ""
    serve: subprocess.Popen[bytes] | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start_serve(self, chunk_size: int) -> None:
        port = free_port()
        log = (self.folder / "serve.log").open("wb")
        self.serve = subprocess.Popen(
            [
                *(sys.executable, "-m", "mailauth_audit", "serve", "--store", self.store_url),
                *("--port", str(port), "--nameserver", self.nameserver, "--checks", CHECKS),
                *("--max-domains-per-request", "5000", "--chunk-size", str(chunk_size)),
                "--no-probes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _healthy(self.base), 60, "serve did not start", self.folder / "serve.log")

    def start_worker(self, name: str, *extra: str, nameserver: str | None = None) -> None:
        log = (self.folder / f"{name}.log").open("ab")
        self.workers[name] = subprocess.Popen(
            [
                *(sys.executable, "-m", "mailauth_audit", "worker", "--store", self.store_url),
                *("--nameserver", nameserver or self.nameserver, "--checks", CHECKS),
                *("--heartbeat-interval", "0.5", "--stalled-after", "5"),
                *("--recovery-interval", "0.5", "--name", name, "--concurrency", "1"),
                "--no-probes",
                *extra,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    def submit(self, domains: list[str]) -> int:
        with self.client() as c:
            r = c.post("/v1/audits", json={"domains": domains})
        assert r.status_code == 202, r.text
        return int(r.json()["id"])

    def status(self, job_id: int) -> dict[str, Any]:
        with self.client() as c:
            r = c.get(f"/v1/audits/{job_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def wait_status(self, job_id: int, statuses: tuple[str, ...], timeout: float) -> dict[str, Any]:
        last: dict[str, Any] = {}

        def reached() -> bool:
            nonlocal last
            try:
                last = self.status(job_id)
            except httpx.TransportError:
                return False
            return last["status"] in statuses

        wait_for(reached, timeout, f"job {job_id} never reached {statuses}: {last}", None, self)
        return last

    def stop_workers(self) -> None:
        for proc in self.workers.values():
            stop_process(proc, grace=20)
        self.workers.clear()

    def stop(self) -> None:
        self.stop_workers()
        stop_process(self.serve, grace=10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.folder.glob("*.log"))
        )


def _healthy(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def wait_for(
    ready: Callable[[], bool],
    timeout: float,
    message: str,
    log: Path | None = None,
    fleet: Fleet | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            detail = log.read_text(errors="replace") if log is not None and log.exists() else ""
            if fleet is not None:
                detail += fleet.logs()
            pytest.fail(f"{message}\n{detail}")
        time.sleep(0.05)


def kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
