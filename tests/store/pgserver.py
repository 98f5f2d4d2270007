"""A throwaway PostgreSQL server on loopback for the store tests.

Debian's binaries (/usr/lib/postgresql/<version>/bin) run from a temporary data folder on a
free port, as an unprivileged user when the tests run as root (PostgreSQL refuses root):
`nobody`, through runuser. The server is stopped by its own pid file (pg_ctl stop), never
by name.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_ROOTS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
PG_BIN: Path | None = next((p for p in PG_ROOTS if (p / "postgres").exists()), None)
SUPERUSER = "audit"


def free_tcp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self) -> None:
        if PG_BIN is None:
            raise RuntimeError("PostgreSQL is not installed")
        self.bin = PG_BIN
        # not under pytest's tmp_path: its parents are private to root, so `nobody` could
        # not reach a data folder there
        self.base = Path(tempfile.mkdtemp(prefix="mailauth-pg-"))
        self.data = self.base / "data"
        self.port = free_tcp_port()
        self.host = "127.0.0.1"
        self._databases = 0

    def _as_owner(self, *argv: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "nobody", "--", *argv]
        return list(argv)

    def _run(self, *argv: str) -> None:
        proc = subprocess.run(
            self._as_owner(*argv), capture_output=True, text=True, timeout=120, cwd=self.base
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {proc.stderr.strip() or proc.stdout.strip()}")

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            shutil.chown(self.base, "nobody", "nogroup")
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        options = f"-h {self.host} -p {self.port} -k {self.base} -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.base / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                pg_ctl = str(self.bin / "pg_ctl")
                self._run(pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh empty database's URL: each test gets its own."""
        import psycopg

        self._databases += 1
        name = f"t{self._databases}_{os.getpid()}_{int(time.time() * 1000) % 100000}"
        with psycopg.connect(
            host=self.host, port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
