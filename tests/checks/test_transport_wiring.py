"""The six transport checks read each other's typed results: MTA-STS judges the starttls
facts of a real aiosmtpd (RFC 8461 §4.2), the escalation of a certificate problem is said
once, TLS-RPT reads the DaneResult, and the HTML per-MX table shows DANE and MTA-STS."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import trustme
from probe_servers import LoopbackCA, counting_smtp_server

from mailauth_audit.checks.dane.result import DaneAddress, DaneHost, DaneResult
from mailauth_audit.checks.dnssec.result import DnssecVerdict
from mailauth_audit.checks.tls_rpt.evaluate import deployed_policies, judge
from mailauth_audit.checks.tls_rpt.result import TlsRptResult
from mailauth_audit.engine.auditor import Auditor
from mailauth_audit.model import CheckId, CheckOutcome, CheckStatus, DomainReport, Severity
from mailauth_audit.options import AuditOptions, ProbeLimits, ProbeOptions
from mailauth_audit.probes.session import ProbeSet
from mailauth_audit.probes.static import StaticHttpsFetcher
from mailauth_audit.report.mx_rows import mx_tls_rows
from mailauth_audit.resolver.static import StaticResolver

MX = "mx1.sts.example"
FAST = ProbeLimits(
    connect_timeout=5,
    smtp_banner_timeout=5,
    smtp_command_timeout=5,
    tls_handshake_timeout=5,
    smtp_total_timeout=20,
)
ZONE = f"""
$ORIGIN example.
$TTL 300
@ IN SOA ns.example. host.example. 1 3600 600 86400 300
sts IN MX 10 {MX}.
_mta-sts.sts IN TXT "v=STSv1; id=20260101"
mta-sts.sts IN A 192.0.2.80
mx1.sts IN A 127.0.0.1
"""
CHECKS = frozenset(
    {CheckId.MX, CheckId.STARTTLS, CheckId.MX_IDENTITY, CheckId.MTA_STS, CheckId.TLS_RPT}
)

TRANSPORT = CHECKS - {CheckId.MX}  # the MX on loopback is its own (high) finding


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCA:
    return LoopbackCA.create(tmp_path_factory.mktemp("wiring-ca"))


def policy(mode: str) -> dict[str, Any]:
    body = f"version: STSv1\nmode: {mode}\nmx: {MX}\nmax_age: 604800\n"
    return {"status": 200, "content_type": "text/plain", "body": body}


def audit(port: int, ca_file: str, mode: str) -> DomainReport:
    fetcher = StaticHttpsFetcher(
        {"https://mta-sts.sts.example/.well-known/mta-sts.txt": policy(mode)}
    )
    probes = ProbeOptions(allow_private_targets=True, smtp_port=port, ca_file=ca_file, limits=FAST)
    options = AuditOptions(checks=CHECKS, probes=probes)

    async def run() -> DomainReport:
        async with Auditor(
            options, StaticResolver(ZONE), probes=ProbeSet(options.probes, https=fetcher)
        ) as auditor:
            return await auditor.audit_domain("sts.example")

    return asyncio.run(run())


def by_code(report: DomainReport) -> dict[str, list[tuple[CheckId, Severity]]]:
    out: dict[str, list[tuple[CheckId, Severity]]] = {}
    for outcome in report.checks.values():
        for f in outcome.findings:
            out.setdefault(f.code, []).append((f.check, f.severity))
    return out


BAD_CERTIFICATES = {
    "wrong_name": ("starttls.certificate_name_mismatch", "not valid for mx1.sts.example"),
    "self_signed": ("starttls.certificate_untrusted", "certificate not trusted"),
}


def server_context(ca: LoopbackCA, kind: str) -> Any:
    if kind == "wrong_name":
        return ca.server_context("other.example")
    return LoopbackCA(trustme.CA(), ca.ca_file).server_context(MX)  # not under the test CA


@pytest.mark.parametrize("kind", sorted(BAD_CERTIFICATES))
@pytest.mark.parametrize(
    ("mode", "severity", "status"),
    [("enforce", Severity.CRITICAL, CheckStatus.FAIL), ("testing", Severity.MEDIUM, None)],
)
def test_a_bad_mx_certificate_is_fatal_once_under_enforce_only(
    ca: LoopbackCA, kind: str, mode: str, severity: Severity, status: CheckStatus | None
) -> None:
    starttls_code, problem = BAD_CERTIFICATES[kind]
    with counting_smtp_server(server_context(ca, kind)) as (port, _):
        report = audit(port, ca.ca_file, mode)
    codes = by_code(report)
    # starttls says it once, low (mail TLS is opportunistic) ...
    assert codes[starttls_code] == [(CheckId.STARTTLS, Severity.LOW)]
    # ... and the escalation comes once, from mta_sts, with the policy mode and the reason
    assert codes["mta_sts.mx_certificate_invalid"] == [(CheckId.MTA_STS, severity)]
    escalated = [
        f
        for o in report.checks.values()
        for f in o.findings
        if f.check in TRANSPORT and f.severity.rank > Severity.MEDIUM.rank
    ]
    assert [f.code for f in escalated] == (
        ["mta_sts.mx_certificate_invalid"] if mode == "enforce" else []
    )
    finding = next(
        f for f in report.checks[CheckId.MTA_STS].findings if f.code.endswith("certificate_invalid")
    )
    assert problem in finding.detail and f"In mode {mode}" in finding.detail
    assert f"{MX} (127.0.0.1)" in finding.detail
    # the low starttls finding points at the check that escalates (no contradiction)
    low = next(f for f in report.checks[CheckId.STARTTLS].findings if f.code == starttls_code)
    assert "mta_sts and dane checks" in low.detail
    if status is not None:
        assert report.checks[CheckId.MTA_STS].status is status
    assert "mta_sts.mx_tls_not_verified" not in codes  # the real StarttlsResult was read
    print(f"{kind}/{mode}: {finding.severity.value} {finding.code}: {finding.detail}")


def test_a_good_certificate_under_enforce_says_nothing_about_the_mx(ca: LoopbackCA) -> None:
    with counting_smtp_server(ca.server_context(MX)) as (port, _):
        report = audit(port, ca.ca_file, "enforce")
    codes = by_code(report)
    assert "mta_sts.mx_certificate_invalid" not in codes
    assert "mta_sts.mx_tls_not_verified" not in codes
    rows = mx_tls_rows(report)
    assert [(r.host, r.address, r.mta_sts, r.trusted) for r in rows] == [
        (MX, "127.0.0.1", "covered (enforce)", "yes")
    ]
    assert rows[0].ptr  # mx_identity ran: "none" or the PTR name, never blank
    assert rows[0].dane == ""  # the dane check was not in this run


def test_an_mx_that_cannot_be_tested_under_enforce_is_not_verified_never_a_pass(
    ca: LoopbackCA,
) -> None:
    from probe_servers import free_port

    report = audit(free_port(), ca.ca_file, "enforce")  # nothing listens: connection refused
    assert report.checks[CheckId.STARTTLS].status is CheckStatus.ERROR
    findings = report.checks[CheckId.MTA_STS].findings
    assert [f.code for f in findings] == ["mta_sts.mx_tls_not_verified"]
    assert "could not complete" in findings[0].detail


def dane_outcome(*hosts: DaneHost) -> CheckOutcome[Any]:
    return CheckOutcome(CheckId.DANE, CheckStatus.PASS, result=DaneResult(hosts=hosts))


def no_rpt() -> TlsRptResult:
    return TlsRptResult("_smtp._tls.d.example", (), (), None, None, None, None)


TLSA = "3 1 1 " + "ab" * 32


@pytest.mark.parametrize(
    ("host", "deployed"),
    [
        (DaneHost("mx.d.example", "_25._tcp.mx.d.example", DnssecVerdict.SECURE, (TLSA,)), True),
        (DaneHost("mx.d.example", "_25._tcp.mx.d.example", DnssecVerdict.BOGUS, (TLSA,)), True),
        # senders ignore TLSA behind an insecure answer: DANE is not deployed for them
        (DaneHost("mx.d.example", "_25._tcp.mx.d.example", DnssecVerdict.INSECURE, (TLSA,)), False),
        (DaneHost("mx.d.example", "_25._tcp.mx.d.example", DnssecVerdict.SECURE), False),
    ],
)
def test_tls_rpt_reads_the_dane_result(host: DaneHost, deployed: bool) -> None:
    outcomes = {CheckId.DANE: dane_outcome(host)}
    assert deployed_policies(outcomes) == (["DANE"] if deployed else [])
    findings = judge(no_rpt(), "d.example", outcomes)
    assert [f.code for f in findings] == (["tls_rpt.missing"] if deployed else [])
    if deployed:
        assert "DANE" in findings[0].detail and findings[0].severity is Severity.LOW


def test_dane_cell_of_the_mx_table() -> None:
    from mailauth_audit.report.mx_rows import _dane_cell

    matched = DaneAddress("192.0.2.1", tls=True, authenticated_by=(TLSA,))
    host = DaneHost(
        "mx.d.example",
        "_25._tcp.mx.d.example",
        DnssecVerdict.SECURE,
        (TLSA,),
        addresses=(matched, DaneAddress("192.0.2.2", tls=True)),
    )
    result = DaneResult(hosts=(host,))
    assert _dane_cell(host, "192.0.2.1", result) == f"match ({TLSA})"
    assert _dane_cell(host, "192.0.2.2", result) == "no match"
    off = DaneResult(hosts=(host,), probes_enabled=False)
    bare = DaneHost("mx.d.example", "_25._tcp.mx.d.example", DnssecVerdict.SECURE, (TLSA,))
    assert _dane_cell(bare, "192.0.2.1", off) == "not checked: probes turned off"
    none = DaneHost("mx.d.example", "_25._tcp.mx.d.example", DnssecVerdict.SECURE)
    assert _dane_cell(none, "192.0.2.1", result) == "no TLSA"
