"""`mailauth-audit serve` as a real process on a loopback port, for the tests that need
uvicorn itself (access logs, several processes on one store, the CLI's flags): started
with the given flags, ready when /healthz answers, stopped by its own pid."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from dnsservers import free_port, stop_process

__all__ = ["ServeProcess", "serve_process"]


@dataclass(frozen=True)
class ServeProcess:
    base: str  # http://127.0.0.1:PORT
    proc: subprocess.Popen[bytes]
    log: Path  # stdout and stderr of the process

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)


@contextmanager
def serve_process(
    store: str, *flags: str, log: Path, start_timeout: float = 60
) -> Iterator[ServeProcess]:
    """`serve --store STORE --port <free> FLAGS...`; fails the test with the log if it
    exits or does not answer /healthz within `start_timeout` seconds."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "mailauth_audit", "serve", "--store", store),
        *("--port", str(port), *flags),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"}
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("serve did not start:\n" + log.read_text(errors="replace"))
            time.sleep(0.1)
        yield ServeProcess(base, proc, log)
    finally:
        stop_process(proc, grace=10)
