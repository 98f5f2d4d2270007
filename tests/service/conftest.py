"""Service fixtures: `api` (the app in process, tests/service/service_app.py) and the
PostgreSQL server of tests/store for the scheduler's tests on both databases."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "store"))
sys.path.insert(0, str(Path(__file__).parent))

from pgserver import PG_BIN, PostgresServer
from service_app import Api, make_store, offline_options
from starlette.testclient import TestClient

from mailauth_audit.options import ServiceLimits
from mailauth_audit.service.app import create_app
from mailauth_audit.service.jobs import JobManager
from mailauth_audit.store.store import open_store


@pytest.fixture(scope="session")
def api_store_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The populated store, made once; each module works on its own copy."""
    path = tmp_path_factory.mktemp("api-template") / "audits.db"
    store, tokens = make_store(path)
    store.close()
    return path, tokens


@pytest.fixture(scope="module")
def api(
    api_store_template: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    template, tokens = api_store_template
    copy = tmp_path_factory.mktemp("api") / "audits.db"
    shutil.copyfile(template, copy)
    store = open_store(str(copy))
    limits = ServiceLimits(max_domains_per_request=50, rate_per_second=1e5, rate_burst=10**5)
    manager = JobManager(store, offline_options(), limits)
    app = create_app(store, manager)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Api(app, client, store, manager, tokens)
    finally:
        store.close()


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
