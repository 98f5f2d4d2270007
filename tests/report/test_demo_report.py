"""`mailauth-audit demo`: offline, a spread of grades, and every record it proposes is sound."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailauth_audit.cli.main import main
from mailauth_audit.demo.sample import DEMO_DOMAINS, audit_demo, demo_zone_text
from mailauth_audit.model import AuditRun, Severity
from mailauth_audit.records.dkim import parse_dkim_key
from mailauth_audit.records.dmarc import parse_dmarc
from mailauth_audit.records.spf import parse_spf
from mailauth_audit.verdicts.score import score_domain


@pytest.fixture(scope="module")
def demo_run() -> AuditRun:
    return asyncio.run(audit_demo())


def test_demo_spans_perfect_to_badly_broken(demo_run: AuditRun) -> None:
    grades = {d.domain: score_domain(d).grade for d in demo_run.domains}
    assert list(grades) == list(DEMO_DOMAINS)
    assert grades["perfect.example"] == "A" and grades["parked.example"] == "A"
    assert grades["broken.example"] == "F"
    assert set(grades.values()) == {"A", "B", "C", "D", "F"}
    perfect = demo_run.domains[0]
    assert all(f.severity is Severity.INFO for f in perfect.findings)
    assert not any(d.has_errors for d in demo_run.domains), "the zone answers every question"


def _proposals(run: AuditRun) -> list[tuple[str, str, str]]:
    """Every record a finding proposes, from its typed changes (never parsed from prose)."""
    out = []
    for d in run.domains:
        for f in d.findings:
            for c in f.changes:
                if c.proposed is not None:
                    value = c.proposed
                    if c.placeholders:  # a template the user completes, e.g. p=<base64 ...>
                        assert all(p in value for p in c.placeholders), (f.code, value)
                        continue
                    out.append((f.code, c.name, value))
    return out


def test_every_proposed_record_passes_our_parsers(demo_run: AuditRun) -> None:
    proposals = _proposals(demo_run)
    parsed = {"spf": 0, "dmarc": 0, "dkim": 0}
    for code, owner, value in proposals:
        assert "<" not in value, (code, value)  # a placeholder is declared as one
        if value.startswith("v=spf1"):
            parse_spf(value)
            parsed["spf"] += 1
        elif "._report._dmarc." in owner:
            assert parse_dmarc(value).policy is None  # the bare authorisation record
        elif owner.startswith("_dmarc."):
            record = parse_dmarc(value)
            assert record.policy is not None, (code, value)
            parsed["dmarc"] += 1
        elif "._domainkey." in owner:
            parse_dkim_key(value)
            parsed["dkim"] += 1
    # the demo exercises proposals of every kind
    assert parsed["spf"] >= 2 and parsed["dmarc"] >= 3 and parsed["dkim"] >= 1, parsed


def test_demo_command_writes_index_and_pages_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the demo must not use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "sendto", no_network)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["demo"])
    assert res.exit_code == 0, res.output
    index = Path("reports/demo/index.html")
    assert res.stdout.strip() == str(index)
    pages = sorted(p.name for p in index.parent.iterdir())
    assert pages == sorted(["index.html", *(f"{d}.html" for d in DEMO_DOMAINS)])
    text = index.read_text()
    # worst first: broken before perfect
    assert text.index("broken.example.html") < text.index("perfect.example.html")


def test_demo_zone_ships_in_the_package() -> None:
    assert "perfect" in demo_zone_text() and "$ORIGIN example." in demo_zone_text()
