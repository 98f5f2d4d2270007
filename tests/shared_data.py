"""Where the tests find data shared between checkouts but never copied into the repository.

The conformance suites (mail-auth, ARC, RFC 8463) and the bench generator live beside the
repository, in `<repo root>/../shared/`; the repository root is the parent of `tests/`, so a
checkout moved anywhere finds them the same way. A missing folder skips the tests that need
it on a developer's machine, and fails them under CI=true: CI promises the data, and a suite
that silently vanishes would look like a suite that passes.

    from shared_data import require_conformance, conformance_params

    def test_x(conformance):                       # fixture (tests/conftest.py): skip / fail
        path = conformance / "rfc8463" / "zone.txt"

    SUITE = conformance_path("arc", "suite.yml")   # a Path at import time, existing or not
    CASES = conformance_params(load_cases, ("zone", "text"), "arc", "suite.yml")
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
CONFORMANCE = SHARED / "conformance"
BENCH = Path(os.environ.get("BENCH_DIR", SHARED / "bench"))

MISSING_MARK = "shared_data_missing"
"""Marker of the placeholder case that stands for a missing suite under CI (conftest fails it)."""


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def conformance_dir() -> Path | None:
    """The conformance folder, or None when this machine does not have it."""
    return CONFORMANCE if CONFORMANCE.is_dir() else None


def conformance_path(*parts: str) -> Path:
    """A path inside the conformance folder, whether it exists or not (for import time)."""
    return CONFORMANCE.joinpath(*parts)


def missing(path: Path, what: str = "conformance data") -> NoReturn:
    """Skip outside CI, fail under CI=true: the one rule for absent shared data."""
    message = f"{what} not present at {path} (expected beside the repository: ../shared/)"
    if in_ci():
        pytest.fail(f"{message}; CI must provide it", pytrace=False)
    pytest.skip(message)


def require_conformance(*parts: str) -> Path:
    """The path inside the conformance folder; skips or fails (see `missing`) when absent."""
    path = conformance_path(*parts)
    if not path.exists():
        missing(path)
    return path


def require_bench() -> Path:
    """The bench generator's folder (gen_zone.py); skips or fails when absent."""
    if not (BENCH / "gen_zone.py").is_file():
        missing(BENCH, "the bench generator")
    return BENCH


def conformance_params(
    build: Callable[[Path], list[Any]], argnames: Sequence[str], *parts: str
) -> list[Any]:
    """Parameter sets built from a conformance file at collection time.

    When the file is absent, one placeholder case is collected in their place: skipped outside
    CI, failed under CI=true (by tests/conftest.py), so the absence is never an empty run.
    """
    path = conformance_path(*parts)
    if path.exists():
        return build(path)
    if in_ci():
        mark = getattr(pytest.mark, MISSING_MARK)(str(path))
    else:
        mark = pytest.mark.skip(reason=f"conformance data not present at {path}")
    return [pytest.param(*([None] * len(argnames)), id="conformance-data-missing", marks=mark)]
