"""`mailauth-audit fix` end to end: a real process; live DNS from a real nsd on loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fixture_zone import ZONE, ZONE_FILE


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def ns(nsd_session_server: Callable[..., tuple[str, int]]) -> str:
    host, port = nsd_session_server({"example": ZONE})
    return f"{host}:{port}"


def test_fix_writes_the_corrected_zone_and_shows_the_diff(tmp_path: Path) -> None:
    out = tmp_path / "out.zone"
    res = cli(
        "fix", "--zone-file", str(ZONE_FILE), "--write-zone", str(out), "--diff", "weak.example"
    )
    assert res.returncode == 0, res.stderr
    text = res.stdout
    assert 'replace  _dmarc.weak.example. 300 IN TXT "v=DMARC1; p=none; pct=50;' in text
    assert "Grade before: C (62/100)" in text and "Grade after:  B (" in text
    assert "Needs your input" in text and "<base64 public key>" in text
    assert (
        "+++ b/example.zone" in text
        and '-weak                    IN TXT "v=spf1 ptr mx ?all"' in text
    )
    corrected = out.read_text()
    assert "<base64 public key>" not in corrected
    assert (
        '_dmarc.weak.example. 300 IN TXT "v=DMARC1; p=quarantine; '
        'rua=mailto:dmarc@elsewhere.example; np=reject"' in corrected
    )
    # Then nsd would load it, and it audits as the command said it would
    checkzone = shutil.which("nsd-checkzone")
    if checkzone:
        loaded = subprocess.run(
            [checkzone, "example", str(out)], capture_output=True, text=True, check=False
        )
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    again = cli("check", "--zone-file", str(out), "weak.example")
    assert "spf.neutral_all" not in again.stdout and "dmarc.policy_none" not in again.stdout
    assert again.stdout.splitlines()[1].strip().startswith("Grade B")


def test_fix_against_live_dns_prints_the_change_set_and_both_grades(ns: str) -> None:
    res = cli("fix", "--nameserver", ns, "broken.example")
    assert res.returncode == 0, res.stderr
    assert "change set from live DNS" in res.stdout
    assert "remove   _dmarc.broken.example. " in res.stdout
    assert (
        "replace  broken.example. " in res.stdout and "IN MX 20 mx1.provider.example." in res.stdout
    )
    assert "Grade before: D" in res.stdout and "Grade after:" in res.stdout
    assert "(re-audited with the changes)" in res.stdout


def test_fix_refuses_write_zone_without_a_zone_file(tmp_path: Path) -> None:
    res = cli("fix", "--write-zone", str(tmp_path / "x.zone"), "example.com")
    assert res.returncode == 2
    assert "need --zone-file" in res.stderr


def test_fix_help_has_examples() -> None:
    res = cli("fix", "--help")
    assert res.returncode == 0 and "--write-zone out.zone" in res.stdout
