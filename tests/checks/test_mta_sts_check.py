"""MTA-STS and TLS-RPT checks against zone text (StaticResolver) and a policy fake
(StaticHttpsFetcher): every finding code from the facts that cause it, no network."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mailauth_audit.checks.mta_sts import MtaStsResult, PolicyFetchState, PolicyProblem
from mailauth_audit.checks.mta_sts.evaluate import mx_tls_problems
from mailauth_audit.checks.starttls.result import MxAddressTls, MxHostTls, StarttlsResult
from mailauth_audit.checks.tls_rpt import TlsRptResult
from mailauth_audit.engine.auditor import Auditor
from mailauth_audit.errors import ProbeTimeout
from mailauth_audit.model import CheckId, CheckStatus, DomainReport, ErrorReason, Severity
from mailauth_audit.options import AuditOptions, ProbeOptions
from mailauth_audit.probes.results import SmtpProbeResult, SmtpReply, TlsSession
from mailauth_audit.probes.session import ProbeSet
from mailauth_audit.probes.static import StaticHttpsFetcher
from mailauth_audit.records.mta_sts import parse_mta_sts_policy
from mailauth_audit.resolver.static import StaticResolver

ZONE = """
$ORIGIN example.
$TTL 300
@ IN SOA ns.example. host.example. 1 3600 600 86400 300
{rows}
"""
GOOD_POLICY = (
    "version: STSv1\nmode: enforce\nmx: mx1.sts.example\nmx: *.mx.sts.example\nmax_age: 604800\n"
)
TEXT = "text/plain"


def zone(
    *,
    txt: tuple[str, ...] = ('"v=STSv1; id=20260101"',),
    policy_host: str = "mta-sts IN A 192.0.2.80",
    rpt: tuple[str, ...] = (),
    mx: tuple[str, ...] = ("10 mx1.sts.example.", "20 a.mx.sts.example."),
) -> str:
    rows = [f"sts IN MX {m}" for m in mx]
    rows += [f"_mta-sts.sts IN TXT {t}" for t in txt]
    rows += [f"_smtp._tls.sts IN TXT {t}" for t in rpt]
    if policy_host:
        rows.append(policy_host.replace("mta-sts ", "mta-sts.sts ", 1))
    rows += ["mx1.sts IN A 192.0.2.25", "a.mx.sts IN A 192.0.2.26"]
    return ZONE.format(rows="\n".join(rows))


def audit(
    zone_text: str,
    fixture: Any = None,
    *,
    probes: ProbeOptions | None = None,
    checks: frozenset[CheckId] = frozenset({CheckId.MTA_STS, CheckId.TLS_RPT}),
) -> tuple[DomainReport, StaticHttpsFetcher]:
    url = "https://mta-sts.sts.example/.well-known/mta-sts.txt"
    fetcher = StaticHttpsFetcher({url: fixture} if fixture is not None else {})
    options = AuditOptions(checks=checks, probes=probes or ProbeOptions(allow_private_targets=True))

    async def run() -> DomainReport:
        async with Auditor(
            options, StaticResolver(zone_text), probes=ProbeSet(options.probes, https=fetcher)
        ) as auditor:
            return await auditor.audit_domain("sts.example")

    return asyncio.run(run()), fetcher


def codes(report: DomainReport, cid: CheckId = CheckId.MTA_STS) -> list[str]:
    return [f.code for f in report.checks[cid].findings]


def ok(body: str = GOOD_POLICY, **extra: Any) -> dict[str, Any]:
    return {"status": 200, "content_type": TEXT, "body": body, **extra}


def test_good_enforce_policy_covering_every_mx_has_no_finding_above_info() -> None:
    report, fetcher = audit(zone(rpt=('"v=TLSRPTv1; rua=mailto:tls@sts.example"',)), ok())
    outcome = report.checks[CheckId.MTA_STS]
    assert outcome.status is CheckStatus.PASS
    result = outcome.result
    assert isinstance(result, MtaStsResult) and result.policy is not None
    assert result.policy.state is PolicyFetchState.FETCHED and result.policy.policy is not None
    assert result.policy.policy.mx == ("mx1.sts.example", "*.mx.sts.example")
    assert result.mx_hosts == ("mx1.sts.example", "a.mx.sts.example")
    # the starttls check is not in this build's run: said, at info level
    assert codes(report) == ["mta_sts.mx_tls_not_verified"]
    assert codes(report, CheckId.TLS_RPT) == []
    assert fetcher.calls == [("mta-sts.sts.example", "192.0.2.80", "/.well-known/mta-sts.txt", 443)]


@pytest.mark.parametrize(
    ("fixture", "state", "problem", "code"),
    [
        (ok(status=301, location="https://elsewhere.example/p"), "rejected", "redirect",
         "mta_sts.policy_redirect"),
        (ok(status=404), "rejected", "http_status", "mta_sts.policy_http_status"),
        (ok(status=500), "rejected", "http_status", "mta_sts.policy_http_status"),
        (ok(content_type="text/html"), "rejected", "content_type", "mta_sts.policy_content_type"),
        (ok(content_type=None), "rejected", "content_type", "mta_sts.policy_content_type"),
        (ok(body="x" * 100_000), "rejected", "too_large", "mta_sts.policy_too_large"),
        (ok(tls={"trusted": False, "trust_error": "self-signed"}), "rejected", "certificate",
         "mta_sts.policy_certificate_invalid"),
        (ok(tls={"hostname_matches": False}), "rejected", "certificate",
         "mta_sts.policy_certificate_invalid"),
        (ok(body="version: STSv1\nmode: enforce\nmax_age: 600000\n"), "fetched", None,
         "mta_sts.policy_syntax_error"),
        ({"error": "connection_refused"}, "unreachable", None, "mta_sts.policy_unreachable"),
        ({"error": "tls_handshake_failed"}, "unreachable", None, "mta_sts.policy_unreachable"),
    ],
)  # fmt: skip
def test_a_policy_senders_refuse_is_a_high_finding(
    fixture: dict[str, Any], state: str, problem: str | None, code: str
) -> None:
    report, _ = audit(zone(), fixture)
    outcome = report.checks[CheckId.MTA_STS]
    assert isinstance(outcome.result, MtaStsResult) and outcome.result.policy is not None
    fetch = outcome.result.policy
    assert fetch.state is PolicyFetchState(state)
    assert fetch.problem is (PolicyProblem(problem) if problem else None)
    assert code in codes(report)
    finding = next(f for f in outcome.findings if f.code == code)
    assert finding.severity is Severity.HIGH and outcome.status is CheckStatus.FAIL
    assert "cached" in finding.detail  # senders with a cached policy keep applying it


def test_redirect_is_never_followed() -> None:
    report, fetcher = audit(zone(), ok(status=302, location="https://mta-sts.sts.example/x"))
    assert len(fetcher.calls) == 1
    assert "mta_sts.policy_redirect" in codes(report)


def test_unresolvable_policy_host_is_unreachable_not_an_error() -> None:
    report, fetcher = audit(zone(policy_host=""), ok())
    outcome = report.checks[CheckId.MTA_STS]
    assert outcome.status is CheckStatus.FAIL and fetcher.calls == []
    assert isinstance(outcome.result, MtaStsResult) and outcome.result.policy is not None
    assert outcome.result.policy.reason == "mta-sts.sts.example does not exist (NXDOMAIN)"
    assert codes(report)[0] == "mta_sts.policy_unreachable"


def test_enforce_with_an_uncovered_mx_is_high_and_testing_is_medium() -> None:
    mx = ("10 mx1.sts.example.", "20 backup.other.example.")
    report, _ = audit(zone(mx=mx), ok())
    f = next(
        f for f in report.checks[CheckId.MTA_STS].findings if f.code == "mta_sts.mx_not_covered"
    )
    assert f.severity is Severity.HIGH and "backup.other.example" in f.detail
    assert "mx: backup.other.example" in f.remediation
    report, _ = audit(zone(mx=mx), ok(GOOD_POLICY.replace("enforce", "testing")))
    found = {f.code: f.severity for f in report.checks[CheckId.MTA_STS].findings}
    assert found["mta_sts.mx_not_covered"] is Severity.MEDIUM
    assert found["mta_sts.mode_testing"] is Severity.INFO


def test_wildcard_covers_one_label_only() -> None:
    # *.mx.sts.example covers a.mx.sts.example, never b.a.mx.sts.example (RFC 8461 §4.1)
    mx = ("10 b.a.mx.sts.example.",)
    report, _ = audit(zone(mx=mx), ok())
    assert "mta_sts.mx_not_covered" in codes(report)


def test_unknown_fields_are_ignored_and_noted_at_info() -> None:
    body = GOOD_POLICY + "comment: hello\nfuture_field: 1\n"
    report, _ = audit(zone(), ok(body))
    outcome = report.checks[CheckId.MTA_STS]
    assert outcome.status is CheckStatus.PASS
    assert "mta_sts.policy_unknown_fields" in codes(report)


def test_short_max_age_warns() -> None:
    report, _ = audit(zone(), ok(GOOD_POLICY.replace("604800", "3600")))
    assert report.checks[CheckId.MTA_STS].status is CheckStatus.WARN
    assert "mta_sts.max_age_short" in codes(report)


def test_mode_none_is_noted() -> None:
    report, _ = audit(zone(), ok("version: STSv1\nmode: none\nmax_age: 86400\n"))
    assert codes(report) == ["mta_sts.mode_none"]


@pytest.mark.parametrize(
    ("txt", "code", "severity"),
    [
        (('"v=STSv1; id=1"', '"v=STSv1; id=2"'), "mta_sts.multiple_records", Severity.HIGH),
        (('"v=STSv1; id=not-alnum"',), "mta_sts.record_syntax_error", Severity.HIGH),
        (('"v=STSv1; id=' + "a" * 33 + '"',), "mta_sts.record_syntax_error", Severity.HIGH),
        (('"v=stsv1; id=1"',), "mta_sts.record_ignored", Severity.MEDIUM),
        (('"v=STSv1; id=1; ext=2"',), "mta_sts.record_notes", Severity.INFO),
        (('"v=spf1 -all"', '"v=STSv1; id=1"'), None, None),  # other records are ignored
    ],
)
def test_txt_record_rules(
    txt: tuple[str, ...], code: str | None, severity: Severity | None
) -> None:
    report, _ = audit(zone(txt=txt), ok())
    findings = {f.code: f.severity for f in report.checks[CheckId.MTA_STS].findings}
    if code is None:
        assert not any(c.startswith("mta_sts.record") or "multiple" in c for c in findings)
    else:
        assert findings[code] is severity


def test_no_record_is_an_info_note_and_fetches_nothing() -> None:
    report, fetcher = audit(zone(txt=()), ok())
    assert codes(report) == ["mta_sts.not_deployed"]
    assert report.checks[CheckId.MTA_STS].status is CheckStatus.PASS
    assert fetcher.calls == []
    assert codes(report, CheckId.TLS_RPT) == []  # nothing deployed: no TLS-RPT demanded


def test_no_probes_checks_the_txt_and_skips_the_policy() -> None:
    report, fetcher = audit(zone(), ok(), probes=ProbeOptions(enabled=False))
    outcome = report.checks[CheckId.MTA_STS]
    assert fetcher.calls == [] and outcome.status is CheckStatus.PASS
    assert isinstance(outcome.result, MtaStsResult) and outcome.result.policy is not None
    assert outcome.result.policy.state is PolicyFetchState.SKIPPED
    assert outcome.result.probes_enabled is False
    assert codes(report) == ["mta_sts.policy_not_checked"]


def test_loopback_policy_host_is_not_probed_without_allow_private_targets() -> None:
    report, fetcher = audit(zone(policy_host="mta-sts IN A 127.0.0.1"), ok(), probes=ProbeOptions())
    outcome = report.checks[CheckId.MTA_STS]
    assert fetcher.calls == []
    assert outcome.status is CheckStatus.PASS and report.grade is not None  # not an error
    assert isinstance(outcome.result, MtaStsResult) and outcome.result.policy is not None
    fetch = outcome.result.policy
    assert fetch.state is PolicyFetchState.NOT_PROBED
    assert fetch.reason is not None and "loopback" in fetch.reason
    assert "--allow-private-targets" in fetch.reason
    assert codes(report) == ["mta_sts.policy_not_checked"]


def test_a_probe_timeout_is_could_not_check_never_a_finding() -> None:
    report, _ = audit(zone(), {"error": "probe_timeout"})
    outcome = report.checks[CheckId.MTA_STS]
    assert outcome.status is CheckStatus.ERROR and outcome.findings == ()
    assert outcome.error is not None and outcome.error.reason is ErrorReason.PROBE_TIMEOUT
    assert report.grade is None


def test_a_second_address_is_tried_when_the_first_refuses() -> None:
    rows = "mta-sts IN A 192.0.2.80\nmta-sts.sts IN AAAA 2001:db8::80"
    z = zone(policy_host=rows)
    url = "https://mta-sts.sts.example/.well-known/mta-sts.txt"
    fetcher = StaticHttpsFetcher({})
    calls: list[str] = []

    async def fetch(host: str, address: str, path: str, port: int = 443) -> Any:
        calls.append(address)
        if address == "192.0.2.80":
            from mailauth_audit.errors import ProbeConnectionRefused

            raise ProbeConnectionRefused(host, address, port, stage="connect")
        return await StaticHttpsFetcher({url: ok()}).fetch(host, address, path, port)

    fetcher.fetch = fetch  # type: ignore[method-assign]
    options = AuditOptions(
        checks=frozenset({CheckId.MTA_STS}), probes=ProbeOptions(allow_private_targets=True)
    )

    async def run() -> DomainReport:
        async with Auditor(
            options, StaticResolver(z), probes=ProbeSet(options.probes, https=fetcher)
        ) as auditor:
            return await auditor.audit_domain("sts.example")

    report = asyncio.run(run())
    result = report.checks[CheckId.MTA_STS].result
    assert isinstance(result, MtaStsResult) and result.policy is not None
    assert calls == ["192.0.2.80", "2001:db8::80"]
    assert result.policy.state is PolicyFetchState.FETCHED
    assert [a.outcome for a in result.policy.attempts] == ["connection_refused", "http"]


def test_tls_rpt_missing_is_noted_when_mta_sts_is_deployed() -> None:
    report, _ = audit(zone(), ok())
    f = report.checks[CheckId.TLS_RPT].findings
    assert [x.code for x in f] == ["tls_rpt.missing"] and f[0].severity is Severity.LOW
    assert "MTA-STS" in f[0].detail


@pytest.mark.parametrize(
    ("rpt", "code"),
    [
        (('"v=TLSRPTv1; rua=mailto:a@sts.example"', '"v=TLSRPTv1; rua=mailto:b@sts.example"'),
         "tls_rpt.multiple_records"),
        (('"v=TLSRPTv1; rua=ftp://x.example/r"',), "tls_rpt.no_supported_rua"),
        (('"v=TLSRPTv1; rua=mailto:a@sts.example,ftp://x.example/r"',),
         "tls_rpt.unsupported_scheme"),
        (('"v=TLSRPTv1; ruf=mailto:a@sts.example"',), "tls_rpt.syntax_error"),
        (('"v=tlsrptv1; rua=mailto:a@sts.example"',), "tls_rpt.record_ignored"),
        (('"v=TLSRPTv1; rua=mailto:a@sts.example; ext=1"',), "tls_rpt.record_notes"),
        (('"v=TLSRPTv1; rua=https://r.example/tls"',), None),
    ],
)  # fmt: skip
def test_tls_rpt_record_rules(rpt: tuple[str, ...], code: str | None) -> None:
    report, _ = audit(zone(rpt=rpt), ok())
    outcome = report.checks[CheckId.TLS_RPT]
    assert isinstance(outcome.result, TlsRptResult)
    assert codes(report, CheckId.TLS_RPT) == ([code] if code else [])


def _tls(trusted: bool = True) -> TlsSession:
    return TlsSession(
        version="TLSv1.3",
        cipher="TLS_AES_256_GCM_SHA384",
        cipher_bits=256,
        group=None,
        chain_der=(),
        chain=(),
        chain_truncated=False,
        trusted=trusted,
        trust_error=None if trusted else "untrusted",
        trust_store="system",
        hostname_matches=True,
        sni=None,
    )


def _addr(host: str, tls: TlsSession | None = None, *, offered: bool = True) -> MxAddressTls:
    probe = SmtpProbeResult(
        host=host,
        address="192.0.2.25",
        port=25,
        banner=SmtpReply(220, (host,)),
        ehlo_name="probe.example",
        esmtp=True,
        ehlo_greeting=host,
        extensions=(("STARTTLS", ""),) if offered else (),
        starttls_offered=offered,
        starttls_reply=SmtpReply(220, ("go ahead",)) if offered else None,
        tls=tls,
        extensions_after_tls=None,
    )
    return MxAddressTls(host=host, address="192.0.2.25", probe=probe)


def test_mx_tls_problems_read_the_starttls_result() -> None:
    policy = parse_mta_sts_policy(GOOD_POLICY)
    result = StarttlsResult(
        hosts=(
            MxHostTls("mx1.sts.example", 10, (_addr("mx1.sts.example", _tls()),)),
            MxHostTls("a.mx.sts.example", 20, (_addr("a.mx.sts.example", _tls(False)),)),
            # not covered by the policy: mx_not_covered says it, not this
            MxHostTls("other.example", 30, (_addr("other.example", offered=False),)),
            MxHostTls(
                "b.mx.sts.example",
                40,
                (MxAddressTls("b.mx.sts.example", "192.0.2.25", not_probed="loopback"),),
            ),
        )
    )
    problems, unverified = mx_tls_problems(policy, result)
    assert problems == ["a.mx.sts.example (192.0.2.25): certificate not trusted (untrusted)"]
    assert unverified == ["b.mx.sts.example (192.0.2.25): loopback"]


def test_probe_timeout_class_is_what_the_fixture_raises() -> None:
    # the fixture error above is the class the collector treats as "could not test"
    from mailauth_audit.probes.static import _ERRORS

    assert _ERRORS["probe_timeout"] is ProbeTimeout
