"""Keeps the fuzz harness from rotting: every target runs a couple of hundred inputs with a
fixed seed, through the Hypothesis engine (no atheris needed) and, when atheris is
installed, one target through the documented command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .engines import run_hypothesis
from .harness import Recorder
from .targets import TARGETS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_hypothesis_engine_fuzzes_each_target(name: str, tmp_path: Path) -> None:
    target = TARGETS[name]
    recorder = Recorder(target, tmp_path / "artifacts", quiet=True)
    summary = run_hypothesis(
        target, recorder, seconds=None, runs=200, seed=0, corpus=tmp_path / "corpus", hang=20
    )
    assert summary.executions >= 200
    assert int(summary.coverage.split()[0]) > 20, summary.coverage
    assert list((tmp_path / "corpus").iterdir()), "inputs reaching new lines are kept"
    assert not summary.findings, [f"{f.key}: {f.detail} ({f.input_path})" for f in summary.findings]


def test_atheris_engine_from_the_command_line(tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz",
            "dkim",
            "--runs",
            "200",
            "--seed",
            "1",
            "--artifacts",
            str(tmp_path / "artifacts"),
            "--corpus",
            str(tmp_path / "corpus"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert "engine atheris" in proc.stdout
    executions = int(proc.stdout.split("executions:")[1].split()[0])
    assert executions >= 200
    assert "cov " in proc.stdout
