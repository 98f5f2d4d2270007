"""A domain that does not exist gets one root-cause finding (mx.domain_nxdomain), not one
"missing" finding per check; the other checks say why they were skipped, the grade stays F.

Against nsd serving tests/zones/example.zone (`nothere.example` is NXDOMAIN there), and on
zone text for the cases the fixture zone does not have (an inherited DMARC policy, errors).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from fixture_zone import ZONE

from mailauth_audit.asyncapi import audit_domain
from mailauth_audit.checks.crosscheck import apply_root_causes, domain_does_not_exist
from mailauth_audit.errors import DnsServfail, DnsTimeout
from mailauth_audit.model import CheckId, CheckOutcome, CheckStatus, DomainReport, Severity
from mailauth_audit.report.schema import committed_schema
from mailauth_audit.resolver.static import StaticResolver

ROOT_CAUSE = "mx.domain_nxdomain"
ABSENCE = {"spf.missing", "dkim.no_selector_found", "dmarc.missing", "mx.missing"}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


@pytest.fixture(scope="module")
def ns(nsd_session_server: Callable[..., tuple[str, int]]) -> str:
    host, port = nsd_session_server({"example": ZONE})
    return f"{host}:{port}"


def _json(ns: str, *domains: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    res = cli("check", "--nameserver", ns, "-f", "json", *extra, *domains)
    assert res.returncode in (0, 1), res.stderr
    doc: dict[str, Any] = json.loads(res.stdout)
    jsonschema.validate(doc, committed_schema())
    return doc


def test_nonexistent_domain_has_one_root_cause_finding_against_nsd(ns: str) -> None:
    # Given nsd answering NXDOMAIN for nothere.example
    # When it is audited
    d = _json(ns, "nothere.example")["domains"][0]
    # Then exactly one finding, the root cause, critical, with the spelling remediation
    assert [f["code"] for f in d["findings"]] == [ROOT_CAUSE]
    finding = d["findings"][0]
    assert finding["severity"] == "critical" and finding["check"] == "mx"
    assert "spelling" in finding["remediation"] and "registered" in finding["remediation"]
    # and the checks say why they have nothing to say
    checks = d["checks"]
    assert checks["mx"]["status"] == "fail"
    for cid in ("spf", "dkim", "dmarc"):
        assert checks[cid]["status"] == "skipped", cid
        assert checks[cid]["findings"] == []
        assert "does not exist" in checks[cid]["skip_reason"]
        assert ROOT_CAUSE in checks[cid]["skip_reason"]
    # and the grade is no better than the F the four findings gave
    assert d["score"]["grade"] == "F" and d["score"]["grade_status"] == "graded"


def test_text_output_and_exit_codes_for_a_nonexistent_domain(ns: str) -> None:
    res = cli("check", "--nameserver", ns, "nothere.example")
    assert res.returncode == 0, res.stderr
    assert res.stdout.count(f"{ROOT_CAUSE}:") == 1  # one finding; the skip reasons cite it
    assert not ABSENCE & set(res.stdout.replace(":", " ").split())
    assert "Grade F" in res.stdout and "1 finding (1 critical)" in res.stdout
    for check in ("SPF", "DKIM", "DMARC"):
        line = next(x for x in res.stdout.splitlines() if x.split()[:1] == [check])
        assert line.split()[1] == "skipped" and "does not exist" in line
    # a critical finding is at or above every --fail-on level
    for level in ("critical", "high", "info"):
        assert (
            cli("check", "--nameserver", ns, "--fail-on", level, "nothere.example").returncode == 1
        )


def test_existing_domains_keep_their_missing_findings(ns: str) -> None:
    """implicit.example exists but publishes no DKIM key or DMARC: its 'missing' findings stay."""
    d = _json(ns, "implicit.example")["domains"][0]
    found = {f["code"] for f in d["findings"]}
    assert ROOT_CAUSE not in found
    assert {"dkim.no_selector_found", "dmarc.missing"} <= found
    assert all(d["checks"][c]["status"] != "skipped" for c in ("mx", "spf", "dkim", "dmarc"))


def test_only_the_checks_requested_run_and_without_mx_there_is_no_root_cause(ns: str) -> None:
    # Without the MX check nothing says the name does not exist: the findings stand as found
    d = _json(ns, "nothere.example", extra=("--checks", "spf,dmarc"))["domains"][0]
    assert {f["code"] for f in d["findings"]} == {"spf.missing", "dmarc.missing"}


# ---- zone text: the cases the fixture zone has no domain for ------------------------------

BASE = """
example.com.                 300 IN MX 10 mx.example.com.
mx.example.com.              300 IN A 192.0.2.1
"""


def _audit(zone: str, domain: str, **faults: type[Exception]) -> DomainReport:
    r = StaticResolver(zone, faults=dict(faults))  # type: ignore[arg-type]
    return asyncio.run(audit_domain(domain, resolver=r))


def test_inherited_dmarc_policy_of_a_nonexistent_name_is_kept() -> None:
    """RFC 9989 np=: the organizational domain's policy does apply to its non-existent
    names, so DMARC keeps its verdict; SPF and DKIM found nothing and are skipped."""
    zone = BASE + '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; np=reject"'
    report = _audit(zone, "ghost.example.com")
    dmarc = report.checks[CheckId.DMARC]
    assert dmarc.status is not CheckStatus.SKIPPED
    assert getattr(dmarc.result, "effective_policy", None) == "reject"
    assert report.checks[CheckId.SPF].status is CheckStatus.SKIPPED
    assert report.checks[CheckId.DKIM].status is CheckStatus.SKIPPED
    assert [f.code for f in report.findings if f.severity.rank >= Severity.MEDIUM.rank] == [
        ROOT_CAUSE
    ]
    assert report.verdict.grade == "F"


def test_a_check_in_error_is_never_explained_away() -> None:
    # Given the DMARC lookup times out for a name that does not exist
    report = _audit(BASE, "ghost.example.com", **{"_dmarc.ghost.example.com": DnsTimeout})
    # Then DMARC stays in error (and the domain is not graded), SPF and DKIM are skipped
    assert report.checks[CheckId.DMARC].status is CheckStatus.ERROR
    assert report.checks[CheckId.SPF].status is CheckStatus.SKIPPED
    assert report.verdict.grade is None


def test_mx_in_error_gives_no_root_cause() -> None:
    report = _audit(BASE, "ghost.example.com", **{"ghost.example.com": DnsServfail})
    assert report.checks[CheckId.MX].status is CheckStatus.ERROR
    assert ROOT_CAUSE not in {f.code for f in report.findings}
    assert all(o.status is not CheckStatus.SKIPPED for o in report.checks.values())


def test_apply_root_causes_leaves_existing_domains_alone() -> None:
    report = _audit(BASE, "example.com")
    outcomes = dict(report.checks)
    assert not domain_does_not_exist(outcomes)
    assert apply_root_causes(outcomes) == outcomes
    assert apply_root_causes({}) == {}
    skipped = CheckOutcome(check=CheckId.MX, status=CheckStatus.SKIPPED, skip_reason="x")
    assert not domain_does_not_exist({CheckId.MX: skipped})
