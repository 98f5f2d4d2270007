"""Shared fixtures: real DNS servers on loopback (nsd for zones, Python threads for faults).

    def test_x(nsd_server):
        host, port = nsd_server({"example.test": ZONE_TEXT})   # zone text needs SOA + NS

`nsd_server` starts one nsd per call and stops it after the test; `nsd_session_server` does
the same but keeps the servers for the whole session (start once, share between modules:
call it with the same zones and you get the same server back). Without nsd these tests skip,
except under CI=true where a missing nsd is a failure.

`fault_server("servfail")` starts a misbehaving server (see tests/dnsservers.py BEHAVIOURS)
and returns it (`.address` is (host, port)); `closed_port` is a loopback UDP port with
nothing listening.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import shared_data
from dnsservers import NSD, FaultServer, NsdServer, free_port

NsdFactory = Callable[[Mapping[str, str]], tuple[str, int]]


def _require_nsd() -> None:
    if NSD is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nsd is not installed (CI must install it: see .ci/run)")
        pytest.skip("nsd is not installed")


def _factory(base: Path, servers: list[NsdServer]) -> NsdFactory:
    known: dict[tuple[tuple[str, str], ...], tuple[str, int]] = {}

    def start(zones: Mapping[str, str], host: str = "127.0.0.1") -> tuple[str, int]:
        _require_nsd()
        key = (*sorted(zones.items()), ("", host))
        if key not in known:
            server = NsdServer(zones, base / f"nsd{len(servers)}", host)
            servers.append(server)
            known[key] = server.start()
        return known[key]

    return start


@pytest.fixture
def nsd_server(tmp_path: Path) -> Iterator[NsdFactory]:
    servers: list[NsdServer] = []
    try:
        yield _factory(tmp_path, servers)
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def nsd_session_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NsdFactory]:
    servers: list[NsdServer] = []
    try:
        yield _factory(tmp_path_factory.mktemp("nsd"), servers)
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def fault_server() -> Iterator[Callable[..., FaultServer]]:
    servers: list[FaultServer] = []

    def start(behaviour: str, host: str = "127.0.0.1") -> FaultServer:
        server = FaultServer(behaviour, host).start()
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def closed_port() -> int:
    return free_port()


# --- shared data beside the repository (tests/shared_data.py) --------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{shared_data.MISSING_MARK}(path): placeholder for absent shared data"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    marker = item.get_closest_marker(shared_data.MISSING_MARK)
    if marker is not None:
        shared_data.missing(Path(marker.args[0]))


@pytest.fixture
def conformance() -> Path:
    """The conformance folder (../shared/conformance): skip outside CI, fail under CI=true."""
    return shared_data.require_conformance()
