"""Fixtures for the probe tests: one test CA per session (servers in probe_servers.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from probe_servers import LoopbackCA


@pytest.fixture(scope="session")
def probe_ca(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCA:
    return LoopbackCA.create(tmp_path_factory.mktemp("probe-ca"))


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCA:
    """A CA nobody trusts: its certificates stand for "unknown issuer"."""
    return LoopbackCA.create(tmp_path_factory.mktemp("other-ca"))
