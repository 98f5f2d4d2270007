"""domain_json_line is the bulk fast path: it must give exactly the bytes of the json module."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from mailauth_audit.asyncapi import audit_domains
from mailauth_audit.model import (
    CheckError,
    CheckId,
    CheckOutcome,
    CheckStatus,
    DomainReport,
    DomainStatus,
    ErrorReason,
    Finding,
    Severity,
)
from mailauth_audit.report.serialize import domain_json_line, domain_to_json
from mailauth_audit.resolver.static import StaticResolver
from mailauth_audit.verdicts.score import score_domain

ZONE_PATH = Path(__file__).parents[1] / "zones" / "example.zone"
# every control character, quotes, backslash, non-ASCII, U+2028 and an astral character:
# where compact JSON encoders are most likely to differ
AWKWARD = "".join(chr(c) for c in range(0x20)) + '"\\/ é ü\u2028\u2029\x7f 𝄞 \ufffd'


def _zone_domains() -> list[str]:
    """The domains the fixture zone's section headers name ("; --- good.example: ...")."""
    return sorted(set(re.findall(r"^; --- ([a-z0-9-]+\.example)\b", ZONE_PATH.read_text(), re.M)))


def _reports() -> list[DomainReport]:
    names = [*_zone_domains(), "loopy.example", "missing.example", "not a domain"]
    run = asyncio.run(audit_domains(names, resolver=StaticResolver(ZONE_PATH.read_text())))
    finding = Finding(
        "spf.awkward", Severity.LOW, CheckId.SPF, AWKWARD, AWKWARD, AWKWARD, (AWKWARD, ""), ()
    )
    errored = DomainReport(
        "timeout.example",
        DomainStatus.COMPLETED,
        {
            CheckId.MX: CheckOutcome(CheckId.MX, CheckStatus.SKIPPED, skip_reason="not requested"),
            CheckId.SPF: CheckOutcome(CheckId.SPF, CheckStatus.WARN, findings=(finding,)),
            CheckId.DKIM: CheckOutcome(
                CheckId.DKIM,
                CheckStatus.ERROR,
                error=CheckError(ErrorReason.BUG, AWKWARD, trace="Traceback\n  line 1"),
            ),
        },
        input="TIMEOUT.example",
        dns_queries=2**40,
    )
    return [*run.domains, errored]


REPORTS = _reports()


def _reference(report: DomainReport) -> bytes:
    doc = domain_to_json(report)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def test_the_zone_gives_many_kinds_of_report() -> None:
    # Given the fixture zone, the comparison below covers passes, failures and invalid names
    assert len(REPORTS) >= 10
    statuses = {o.status for r in REPORTS for o in r.checks.values()}
    assert {CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.ERROR} <= statuses
    assert any(r.status is DomainStatus.INVALID for r in REPORTS)


@pytest.mark.parametrize("report", REPORTS, ids=lambda r: r.domain)
def test_json_line_is_the_json_module_bytes(report: DomainReport) -> None:
    assert domain_json_line(report) == _reference(report)
    assert domain_json_line(report, score_domain(report)) == _reference(report)


def test_lone_surrogate_fails_as_the_json_module_does() -> None:
    # a string Python can hold but UTF-8 cannot: both paths refuse it the same way
    report = DomainReport("\ud800.example", DomainStatus.INVALID, error="bad")
    with pytest.raises(UnicodeEncodeError):
        _reference(report)
    with pytest.raises(UnicodeEncodeError):
        domain_json_line(report)
