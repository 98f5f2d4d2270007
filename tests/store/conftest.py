"""Store fixtures: `store_url` runs each test on SQLite and on PostgreSQL.

PostgreSQL is one server for the session (tests/store/pgserver.py) with a fresh database
per test. Without PostgreSQL the PostgreSQL half skips, except under CI=true where a missing
server is a failure.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pgserver import PG_BIN, PostgresServer


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if PG_BIN is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not installed (CI must install it: see .ci/run)")
        pytest.skip("PostgreSQL is not installed")
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "audits.db")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()
