"""The starttls and mx_identity checks against zone text and the fixture prober: what each
MX address said, judged; nothing is sent over the network (StaticSmtpProber)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
import trustme

from mailauth_audit.checks.starttls import StarttlsResult
from mailauth_audit.engine.auditor import Auditor
from mailauth_audit.errors import DnsServfail
from mailauth_audit.model import CheckId, CheckStatus, DomainReport, ErrorReason, Severity
from mailauth_audit.options import AuditOptions, ProbeLimits, ProbeOptions
from mailauth_audit.probes import StaticSmtpProber
from mailauth_audit.probes.session import ProbeSet
from mailauth_audit.report.codec import from_json, to_json
from mailauth_audit.resolver.static import StaticResolver
from mailauth_audit.verdicts.checklist import ChecklistState, provider_checklist

ZONE = """
$ORIGIN example.test.
@        IN MX 10 mx1
@        IN MX 20 mx2
mx1      IN A 192.0.2.10
mx1      IN AAAA 2001:db8::10
mx2      IN A 192.0.2.20
10.2.0.192.in-addr.arpa. IN PTR mx1.example.test.
20.2.0.192.in-addr.arpa. IN PTR elsewhere.example.test.
"""

NOW = dt.datetime.now(dt.UTC)
CA = trustme.CA()


def chain(*names: str, days: int = 90, ca: trustme.CA = CA) -> str:
    cert = ca.issue_cert(
        *names,
        not_before=NOW - dt.timedelta(days=30),
        not_after=NOW + dt.timedelta(days=days),
    )
    return cert.cert_chain_pems[0].bytes().decode()


def tls(**extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"version": "TLSv1.3", "chain_pem": chain("mx1.example.test")}
    spec.update(extra)
    return spec


GOOD = {"banner": "220 mx1.example.test ESMTP", "ehlo": ["mx1.example.test", "STARTTLS"]}


def audit(
    fixtures: dict[str, Any],
    *,
    zone: str = ZONE,
    probes: ProbeOptions | None = None,
    checks: frozenset[CheckId] | None = None,
) -> tuple[DomainReport, StaticSmtpProber]:
    prober = StaticSmtpProber(fixtures)
    popts = probes or ProbeOptions(allow_private_targets=True)
    opts = AuditOptions(probes=popts, **({"checks": checks} if checks else {}))

    async def run() -> DomainReport:
        probeset = ProbeSet(popts, smtp=prober)
        async with Auditor(opts, StaticResolver(zone), probes=probeset) as auditor:
            return await auditor.audit_domain("example.test")

    return asyncio.run(run()), prober


def codes(report: DomainReport, cid: CheckId = CheckId.STARTTLS) -> set[str]:
    return {f.code for f in report.checks[cid].findings}


def test_every_address_probed_once_and_all_good() -> None:
    fixtures = {
        "mx1.example.test": {**GOOD, "tls": tls()},
        "mx2.example.test": {
            "banner": "220 mx2.example.test ESMTP",
            "ehlo": ["mx2.example.test", "STARTTLS"],
            "tls": tls(chain_pem=chain("mx2.example.test")),
        },
    }
    report, prober = audit(fixtures)
    outcome = report.checks[CheckId.STARTTLS]
    assert outcome.status is CheckStatus.PASS, outcome.findings
    result = outcome.result
    assert isinstance(result, StarttlsResult) and result.probed_at
    assert [(h.host, h.preference) for h in result.hosts] == [
        ("mx1.example.test", 10),
        ("mx2.example.test", 20),
    ]
    assert [a.address for a in result.hosts[0].addresses] == ["192.0.2.10", "2001:db8::10"]
    assert sorted(c[1] for c in prober.calls) == ["192.0.2.10", "192.0.2.20", "2001:db8::10"]
    # legacy TLS is not asked of a fake prober (no real connection beside a fake)
    assert all(a.legacy_tls_unknown for h in result.hosts for a in h.addresses)
    item = next(i for i in provider_checklist(report).items if i.id == "tls")
    assert item.state is ChecklistState.MET and item.source.value == "probe"
    # the JSON keeps the DER chain (base64) and the dates: the facts decode back the same
    assert from_json(to_json(report)).checks[CheckId.STARTTLS].result == result


def test_no_starttls_anywhere_is_high() -> None:
    plain = {"ehlo": ["mx", "PIPELINING"]}
    report, _ = audit({"mx1.example.test": plain, "mx2.example.test": plain})
    outcome = report.checks[CheckId.STARTTLS]
    assert outcome.status is CheckStatus.FAIL
    (finding,) = outcome.findings
    assert finding.code == "starttls.not_offered" and finding.severity.value == "high"
    item = next(i for i in provider_checklist(report).items if i.id == "tls")
    assert item.state is ChecklistState.NOT_MET


def test_one_mx_without_starttls_is_medium() -> None:
    report, _ = audit({"mx1.example.test": {**GOOD, "tls": tls()}, "mx2.example.test": {}})
    (finding,) = report.checks[CheckId.STARTTLS].findings
    assert finding.code == "starttls.not_offered" and finding.severity.value == "medium"
    assert "mx2.example.test [192.0.2.20]" in finding.detail


def test_certificate_problems_are_low_and_expiry_is_judged() -> None:
    stranger = trustme.CA()
    fixtures = {
        "mx1.example.test@192.0.2.10": {**GOOD, "tls": tls(trusted=False)},
        "mx1.example.test@2001:db8::10": {
            **GOOD,
            "tls": tls(chain_pem=chain("other.example.test", ca=stranger)),
        },
        "mx2.example.test": {**GOOD, "tls": tls(chain_pem=chain("mx2.example.test", days=5))},
    }
    report, _ = audit(fixtures)
    found = {f.code: f for f in report.checks[CheckId.STARTTLS].findings}
    assert set(found) == {
        "starttls.certificate_untrusted",
        "starttls.certificate_name_mismatch",
        "starttls.certificate_expiring",
    }
    assert found["starttls.certificate_untrusted"].severity.value == "low"
    assert found["starttls.certificate_name_mismatch"].severity.value == "low"
    assert found["starttls.certificate_expiring"].severity.value == "medium"
    assert "MTA-STS" in found["starttls.certificate_untrusted"].detail


def test_expired_certificate_fails() -> None:
    expired = chain("mx1.example.test", days=-2)
    report, _ = audit(
        {"mx1.example.test": {**GOOD, "tls": tls(chain_pem=expired)}, "mx2.example.test": GOOD}
    )
    assert "starttls.certificate_expired" in codes(report)
    assert report.checks[CheckId.STARTTLS].status is CheckStatus.FAIL


def test_old_version_refused_starttls_and_failed_handshake() -> None:
    fixtures = {
        "mx1.example.test@192.0.2.10": {**GOOD, "tls": tls(version="TLSv1")},
        "mx1.example.test@2001:db8::10": {"error": "tls_handshake_failed", "stage": "tls"},
        "mx2.example.test": {**GOOD, "starttls_reply": "454 TLS not available"},
    }
    report, _ = audit(fixtures)
    assert codes(report) == {
        "starttls.old_tls_version",
        "starttls.handshake_failed",
        "starttls.refused",
    }


@pytest.mark.parametrize(
    "error",
    [
        {"error": "connection_refused"},
        {"error": "temporarily_unavailable", "code": 421, "text": "too many connections"},
        {"error": "probe_timeout", "stage": "banner"},
    ],
)
def test_an_mx_that_cannot_be_tested_is_error_never_no_starttls(error: dict[str, Any]) -> None:
    report, _ = audit({"mx1.example.test": error, "mx2.example.test": error})
    outcome = report.checks[CheckId.STARTTLS]
    assert outcome.status is CheckStatus.ERROR and outcome.findings == ()
    assert outcome.error is not None and outcome.error.reason.value == error["error"]
    assert outcome.result is not None  # the per-address facts stay for MTA-STS and DANE
    assert report.grade is None  # could not check: no grade
    item = next(i for i in provider_checklist(report).items if i.id == "tls")
    assert item.state is ChecklistState.UNKNOWN


def test_some_addresses_untestable_is_an_info_note() -> None:
    fixtures = {
        "mx1.example.test": {**GOOD, "tls": tls()},
        "mx2.example.test": {"error": "temporarily_unavailable", "code": 421},
    }
    report, _ = audit(fixtures)
    outcome = report.checks[CheckId.STARTTLS]
    assert outcome.status is CheckStatus.PASS
    (note,) = outcome.findings
    assert note.code == "starttls.addresses_not_tested" and note.severity.value == "info"
    assert "421" in note.evidence[0]


def test_documentation_addresses_are_not_probed_and_the_grade_stands() -> None:
    report, prober = audit({}, probes=ProbeOptions())
    outcome = report.checks[CheckId.STARTTLS]
    assert prober.calls == []
    assert outcome.status is CheckStatus.SKIPPED
    assert outcome.skip_reason and "documentation address" in outcome.skip_reason
    assert "--allow-private-targets" in outcome.skip_reason
    assert report.checks[CheckId.MX_IDENTITY].status is CheckStatus.SKIPPED
    assert report.grade is not None


def test_no_probes_skips_and_connects_nowhere() -> None:
    report, prober = audit(
        {"mx1.example.test": GOOD}, probes=ProbeOptions(enabled=False, allow_private_targets=True)
    )
    assert prober.calls == []
    outcome = report.checks[CheckId.STARTTLS]
    assert (
        outcome.status is CheckStatus.SKIPPED and outcome.skip_reason == "not probed: --no-probes"
    )
    # the DNS-only part still runs: reverse DNS of the MX addresses
    assert report.checks[CheckId.MX_IDENTITY].status is not CheckStatus.SKIPPED


def test_mx_identity_ptr_forward_confirmation_and_banner() -> None:
    fixtures = {
        "mx1.example.test": {**GOOD, "tls": tls()},
        "mx2.example.test": {
            "banner": "220 smtp.hoster.example ESMTP",
            "ehlo": ["smtp.hoster.example", "STARTTLS"],
            "tls": tls(chain_pem=chain("mx2.example.test")),
        },
    }
    report, _ = audit(fixtures)
    identity = report.checks[CheckId.MX_IDENTITY]
    by_address = {a.address: a for a in identity.result.addresses}
    assert by_address["192.0.2.10"].forward_confirmed == "mx1.example.test"
    assert by_address["192.0.2.20"].ptr_names == ("elsewhere.example.test",)
    assert by_address["192.0.2.20"].forward_confirmed is None
    assert by_address["2001:db8::10"].ptr_names == ()
    assert codes(report, CheckId.MX_IDENTITY) == {
        "mx_identity.no_ptr",
        "mx_identity.ptr_not_confirmed",
        "mx_identity.banner_name_mismatch",
    }


def test_ipv6_address_that_does_not_answer() -> None:
    fixtures = {
        "mx1.example.test@192.0.2.10": {**GOOD, "tls": tls()},
        "mx1.example.test@2001:db8::10": {"error": "connection_refused"},
        "mx2.example.test": {**GOOD, "tls": tls(chain_pem=chain("mx2.example.test"))},
    }
    report, _ = audit(fixtures)
    assert "mx_identity.ipv6_unreachable" in codes(report, CheckId.MX_IDENTITY)


def test_fifty_mx_hosts_probe_a_bounded_number_of_addresses() -> None:
    # Given 50 MX hosts: the MX check resolves 20 (max_mx_hosts), the probes stop at the cap
    lines = [f"@ IN MX {i} mx{i}" for i in range(50)]
    lines += [f"mx{i} IN A 192.0.2.{i + 1}" for i in range(50)]
    zone = "$ORIGIN example.test.\n" + "\n".join(lines) + "\n"
    cap = 5
    popts = ProbeOptions(
        allow_private_targets=True, limits=ProbeLimits(max_mx_addresses_probed=cap)
    )
    fixtures = {f"mx{i}.example.test": {**GOOD, "tls": tls()} for i in range(50)}
    report, prober = audit(fixtures, zone=zone, probes=popts)
    assert len(prober.calls) == cap
    result = report.checks[CheckId.STARTTLS].result
    assert result.addresses_over_cap == 20 - cap
    assert "starttls.addresses_not_probed" in codes(report)
    assert "mx.hosts_not_checked" in codes(report, CheckId.MX)


def test_null_mx_has_nothing_to_probe() -> None:
    report, prober = audit({}, zone="$ORIGIN example.test.\n@ IN MX 0 .\n")
    assert prober.calls == []
    outcome = report.checks[CheckId.STARTTLS]
    assert outcome.status is CheckStatus.SKIPPED and outcome.skip_reason == "no MX address to probe"


def test_a_dependency_error_is_not_a_starttls_verdict() -> None:
    resolver_faults = StaticResolver(ZONE, faults={"example.test": DnsServfail})
    prober = StaticSmtpProber({})

    async def run() -> DomainReport:
        popts = ProbeOptions(allow_private_targets=True)
        async with Auditor(
            AuditOptions(probes=popts), resolver_faults, probes=ProbeSet(popts, smtp=prober)
        ) as auditor:
            return await auditor.audit_domain("example.test")

    report = asyncio.run(run())
    outcome = report.checks[CheckId.STARTTLS]
    assert outcome.status is CheckStatus.ERROR
    assert outcome.error is not None and outcome.error.reason is ErrorReason.DEPENDENCY_FAILED
    assert prober.calls == []


def test_reverse_zone_outside_a_draft_zone_file_is_not_checked_not_an_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mailauth_audit.resolver.zonefiles import ZoneFileResolver, load_zone_files

    zone = tmp_path / "example.test.zone"
    # the PTR records of ZONE are out of a zone file for example.test.: only the domain's own
    draft = "\n".join(line for line in ZONE.splitlines() if "in-addr" not in line)
    zone.write_text("$ORIGIN example.test.\n@ 3600 IN SOA ns. h. 1 2 3 4 5\n" + draft)
    resolver = ZoneFileResolver(load_zone_files([zone]))
    popts = ProbeOptions(enabled=False, allow_private_targets=True)

    async def run() -> DomainReport:
        async with Auditor(AuditOptions(probes=popts), resolver) as auditor:
            return await auditor.audit_domain("example.test")

    report = asyncio.run(run())
    identity = report.checks[CheckId.MX_IDENTITY]
    assert identity.status is CheckStatus.SKIPPED
    assert identity.skip_reason and "outside the zone file" in identity.skip_reason
    assert CheckId.MX_IDENTITY not in report.verdict.checks_in_error


def test_html_table_and_csv_columns_show_the_facts() -> None:
    from mailauth_audit.model import AuditRun
    from mailauth_audit.report.csvout import domain_csv_row
    from mailauth_audit.report.html import render_run_page
    from mailauth_audit.report.renderers import TextRenderer

    fixtures = {
        "mx1.example.test": {**GOOD, "tls": tls(group="X25519", group_bits=253)},
        "mx2.example.test": {"ehlo": ["mx2.example.test", "PIPELINING"]},
    }
    report, _ = audit(fixtures)
    page = render_run_page(AuditRun("", "", (report,)))
    table = page[page.index('class="stack mx-tls"') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == 1 + 3  # header and one row per MX address
    assert "TLSv1.3" in table and "no STARTTLS" in table
    assert '<th scope="col">Group</th>' in table and ">X25519</td>" in table
    assert "mx1.example.test (forward-confirmed)" in table and "issued by" in table
    row = domain_csv_row(report)
    assert row["starttls_status"] == "warn" and row["mx_identity_status"] == "warn"
    assert row["mx_tls_versions"] == "TLSv1.3" and row["mx_without_starttls"] == "1"
    assert row["mx_cert_expires"] == (NOW + dt.timedelta(days=90)).strftime("%Y-%m-%d")
    text = TextRenderer().render(AuditRun("", "", (report,)))
    assert "STARTTLS on 2 of 3 MX address(es) tested (TLSv1.3; group X25519)" in text


@pytest.mark.parametrize(
    ("group", "bits", "weak"),
    [
        ("DHE", 1024, "a 1024-bit DHE prime"),
        ("DHE", 2048, None),
        ("ffdhe2048", 2048, None),
        ("secp192r1", 192, "secp192r1 (192 bits)"),
        ("secp256r1", 256, None),
        ("X25519", 253, None),
        (None, None, None),  # not reported: never judged
        ("unknown group 0x7777", None, None),
    ],
)
def test_weak_key_exchange_group(group: str | None, bits: int | None, weak: str | None) -> None:
    report, _ = audit({"mx1.example.test": {**GOOD, "tls": tls(group=group, group_bits=bits)}})
    findings = {f.code: f for f in report.checks[CheckId.STARTTLS].findings}
    if weak is None:
        assert "starttls.weak_key_exchange" not in findings
        return
    finding = findings["starttls.weak_key_exchange"]
    assert finding.severity is Severity.LOW
    assert weak in finding.detail and "RFC 7919" in finding.references
    assert finding.evidence == (
        f"mx1.example.test [192.0.2.10]: {weak}",
        f"mx1.example.test [2001:db8::10]: {weak}",
    )
