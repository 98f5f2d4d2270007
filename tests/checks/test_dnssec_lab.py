"""The DNSSEC and DANE checks end to end against real components: zones signed with
ldns-signzone served by nsd, behind a validating unbound that trusts the lab's root key, and
an aiosmtpd with STARTTLS presenting a trustme certificate (tests/dnssec_servers.py)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys

import jsonschema
import pytest
from dnssec_servers import ChainLab, chain_lab

from mailauth_audit.asyncapi import audit_domain
from mailauth_audit.checks.dane import DaneResult
from mailauth_audit.checks.dnssec import BogusKind, DnssecResult, DnssecVerdict
from mailauth_audit.model import CheckId, CheckStatus, DomainReport, ErrorReason
from mailauth_audit.options import AuditOptions, Limits, ProbeOptions
from mailauth_audit.report.schema import committed_schema

__all__ = ["chain_lab"]

FAST = Limits(dns_timeout=3.0, dns_attempts=2)


def audit(lab: ChainLab, domain: str, *, separate: bool = False, nsd: bool = False) -> DomainReport:
    host, port = lab.authoritative if nsd else lab.validator
    server = f"{host}:{port}"
    vhost, vport = lab.validator
    probes = ProbeOptions(
        allow_private_targets=True,
        smtp_port=lab.smtp_port,
        ca_file=lab.ca_file,
        dnssec_resolvers=(f"{vhost}:{vport}",) if separate else (),
    )
    options = AuditOptions(nameservers=(server,), limits=FAST, probes=probes)
    return asyncio.run(audit_domain(domain, options))


def codes(report: DomainReport, cid: CheckId) -> list[str]:
    return [f.code for f in report.checks[cid].findings]


def dnssec(report: DomainReport) -> DnssecResult:
    result = report.checks[CheckId.DNSSEC].result
    assert isinstance(result, DnssecResult), report.checks[CheckId.DNSSEC]
    return result


def test_signed_domain_and_mx_are_secure(chain_lab: ChainLab) -> None:
    report = audit(chain_lab, "secure.test")
    result = dnssec(report)
    assert [(n.name, n.verdict) for n in result.names] == [
        ("secure.test", DnssecVerdict.SECURE),
        ("mx.secure.test", DnssecVerdict.SECURE),
    ]
    assert result.names[0].zone == "secure.test"
    assert report.checks[CheckId.DNSSEC].status is CheckStatus.PASS
    assert set(codes(report, CheckId.DNSSEC)) == {"dnssec.secure"}


def test_unsigned_delegation_is_insecure(chain_lab: ChainLab) -> None:
    report = audit(chain_lab, "insecure.test")
    names = dnssec(report).names
    assert [n.verdict for n in names] == [DnssecVerdict.INSECURE] * 2
    assert not any(n.signed for n in names)
    assert set(codes(report, CheckId.DNSSEC)) == {"dnssec.insecure"}


def test_expired_signatures_are_bogus_and_explained(chain_lab: ChainLab) -> None:
    report = audit(chain_lab, "expired.test")
    domain = dnssec(report).names[0]
    assert domain.verdict is DnssecVerdict.BOGUS
    assert domain.bogus is not None and domain.bogus.kind is BogusKind.EXPIRED_SIGNATURE
    assert "2020-02-01" in domain.bogus.detail
    assert domain.extended_errors  # unbound says why (RFC 8914)
    assert "dnssec.bogus" in codes(report, CheckId.DNSSEC)
    assert report.checks[CheckId.DNSSEC].status is CheckStatus.FAIL


def test_ds_matching_no_dnskey_is_bogus_with_the_ds_to_publish(chain_lab: ChainLab) -> None:
    report = audit(chain_lab, "badds.test")
    domain = dnssec(report).names[0]
    assert domain.verdict is DnssecVerdict.BOGUS
    assert domain.bogus is not None and domain.bogus.kind is BogusKind.DS_MISMATCH
    assert domain.bogus.expected_ds is not None
    assert domain.bogus.expected_ds.startswith("badds.test. IN DS ")
    finding = next(f for f in report.checks[CheckId.DNSSEC].findings if f.code == "dnssec.bogus")
    assert domain.bogus.expected_ds in finding.remediation


def test_mx_hosts_in_other_zones_get_their_own_verdicts(chain_lab: ChainLab) -> None:
    report = audit(chain_lab, "mixed.secure.test")
    verdicts = {n.name: n.verdict for n in dnssec(report).names}
    assert verdicts == {
        "mixed.secure.test": DnssecVerdict.SECURE,
        "mx.secure.test": DnssecVerdict.SECURE,
        "mx.expired.test": DnssecVerdict.BOGUS,
        "mx.insecure.test": DnssecVerdict.INSECURE,
    }
    assert "dnssec.mx_bogus" in codes(report, CheckId.DNSSEC)


def test_separate_validating_resolver_gives_the_verdicts(chain_lab: ChainLab) -> None:
    # the audit asks nsd (which never validates); --dnssec-resolver names unbound
    report = audit(chain_lab, "secure.test", nsd=True, separate=True)
    assert [n.verdict for n in dnssec(report).names] == [DnssecVerdict.SECURE] * 2
    assert report.checks[CheckId.MX].status is not CheckStatus.ERROR


@pytest.mark.parametrize(
    "domain",
    [
        "secure.test",
        # signed, no MX (the A record is the implicit MX): the MX answer is a signed NODATA,
        # whose RRSIGs are in the authority section, not on an answer RRset
        "mx.secure.test",
        "absent.secure.test",  # NXDOMAIN, signed the same way
    ],
)
def test_non_validating_resolver_is_an_error_never_insecure(
    chain_lab: ChainLab, domain: str
) -> None:
    report = audit(chain_lab, domain, nsd=True)
    outcome = report.checks[CheckId.DNSSEC]
    assert outcome.status is CheckStatus.ERROR and outcome.result is None
    assert outcome.error is not None
    assert outcome.error.reason is ErrorReason.RESOLVER_NOT_VALIDATING
    assert "resolver does not validate DNSSEC" in outcome.error.message
    if domain == "secure.test":  # with no MX host there is no TLSA to ask for
        dane = report.checks[CheckId.DANE]
        assert dane.error is not None and dane.error.reason is ErrorReason.RESOLVER_NOT_VALIDATING


def test_domain_without_mx_verdicts(chain_lab: ChainLab) -> None:
    # the validator says secure for the signed NODATA; an unsigned zone without MX is
    # insecure through either server (nothing signed to validate). Both names have an A,
    # so each is its own (implicit) MX host, judged as one (tests/checks/test_implicit_mx_lab.py)
    secure = dnssec(audit(chain_lab, "mx.secure.test")).names[0]
    assert (secure.name, secure.verdict) == ("mx.secure.test", DnssecVerdict.SECURE)
    for nsd in (False, True):
        result = dnssec(audit(chain_lab, "mx.insecure.test", nsd=nsd))
        assert [(n.role, n.verdict) for n in result.names] == [
            ("domain", DnssecVerdict.INSECURE),
            ("mx", DnssecVerdict.INSECURE),
        ]
        assert not result.names[0].signed and result.resolver_validates is None


def dane(report: DomainReport) -> DaneResult:
    result = report.checks[CheckId.DANE].result
    assert isinstance(result, DaneResult), report.checks[CheckId.DANE]
    return result


def test_tlsa_matching_the_presented_certificate_authenticates(chain_lab: ChainLab) -> None:
    report = audit(chain_lab, "secure.test")
    host = dane(report).hosts[0]
    assert host.verdict is DnssecVerdict.SECURE and host.records == (chain_lab.leaf_tlsa,)
    assert [a.authenticated_by for a in host.addresses] == [(chain_lab.leaf_tlsa,)]
    assert set(codes(report, CheckId.DANE)) == {"dane.authenticated", "dane.single_record"}
    assert report.checks[CheckId.DANE].status is CheckStatus.PASS


def test_tlsa_matching_nothing_is_critical_with_the_record_to_publish(chain_lab: ChainLab) -> None:
    report = audit(chain_lab, "nomatch.secure.test")
    assert "dane.no_match" in codes(report, CheckId.DANE)
    finding = next(f for f in report.checks[CheckId.DANE].findings if f.code == "dane.no_match")
    assert finding.severity.value == "critical"
    line = f"_25._tcp.mx-bad.secure.test. IN TLSA {chain_lab.leaf_tlsa}"
    assert line in finding.remediation
    assert report.checks[CheckId.DANE].status is CheckStatus.FAIL


def test_pkix_usage_is_unusable_but_a_dane_ee_beside_it_matches(chain_lab: ChainLab) -> None:
    report = audit(chain_lab, "pkix.secure.test")
    assert set(codes(report, CheckId.DANE)) == {"dane.pkix_usage", "dane.authenticated"}


def test_tampered_tlsa_is_bogus(chain_lab: ChainLab) -> None:
    report = audit(chain_lab, "bogustlsa.secure.test")
    host = dane(report).hosts[0]
    assert host.verdict is DnssecVerdict.BOGUS
    assert "dane.tlsa_bogus" in codes(report, CheckId.DANE)
    assert report.checks[CheckId.DANE].status is CheckStatus.FAIL


def test_tlsa_in_an_insecure_zone_is_ignored_by_senders(chain_lab: ChainLab) -> None:
    report = audit(chain_lab, "insecure.test")
    assert "dane.tlsa_insecure" in codes(report, CheckId.DANE)
    assert dane(report).hosts[0].addresses == ()  # nobody uses them: nothing probed


def test_no_tlsa_behind_a_bogus_chain_is_a_bogus_denial(chain_lab: ChainLab) -> None:
    # mx.expired.test has no TLSA, but the proof of that cannot be validated either
    report = audit(chain_lab, "mixed.secure.test")
    hosts = {h.host: h for h in dane(report).hosts}
    assert hosts["mx.expired.test"].verdict is DnssecVerdict.BOGUS
    assert not hosts["mx.expired.test"].has_tlsa
    assert "dane.tlsa_bogus" in codes(report, CheckId.DANE)


def test_bogus_domain_fails_mx_but_dnssec_and_dane_say_why(chain_lab: ChainLab) -> None:
    report = audit(chain_lab, "expired.test")
    assert report.checks[CheckId.MX].status is CheckStatus.ERROR  # SERVFAIL from the validator
    assert "dnssec.bogus" in codes(report, CheckId.DNSSEC)
    assert "dane.tlsa_bogus" in codes(report, CheckId.DANE)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_json_has_both_checks_validates_and_keeps_the_csv_columns(chain_lab: ChainLab) -> None:
    host, port = chain_lab.validator
    got = cli("check", "-f", "json", "-n", f"{host}:{port}", "--timeout", "3", "mixed.secure.test")
    doc = json.loads(got.stdout)
    jsonschema.validate(doc, committed_schema())
    checks = doc["domains"][0]["checks"]
    names = checks["dnssec"]["result"]["names"]
    assert [(n["name"], n["verdict"]) for n in names] == [
        ("mixed.secure.test", "secure"),
        ("mx.secure.test", "secure"),
        ("mx.expired.test", "bogus"),
        ("mx.insecure.test", "insecure"),
    ]
    assert names[2]["bogus"]["kind"] == "expired_signature"
    items = {i["id"]: i for i in doc["domains"][0]["checklist"]["items"]}
    assert items["dnssec"]["state"] == "not_met"
    csv_text = cli("check", "-f", "csv", "-n", f"{host}:{port}", "--timeout", "3", "secure.test")
    row = next(csv.DictReader(io.StringIO(csv_text.stdout)))
    assert (row["dnssec_status"], row["dnssec_verdict"], row["dnssec_mx_verdicts"]) == (
        "pass",
        "secure",
        "secure",
    )
    assert row["dane_status"] == "warn"  # the lab MX is on loopback: not probed by default
    assert row["dane"] == "not_checked"


def test_cli_dnssec_resolver_and_the_non_validating_error(chain_lab: ChainLab) -> None:
    nsd = "{}:{}".format(*chain_lab.authoritative)
    unbound = "{}:{}".format(*chain_lab.validator)
    plain = cli("check", "-n", nsd, "--timeout", "3", "secure.test")
    assert "resolver does not validate DNSSEC" in plain.stdout
    assert plain.returncode == 3  # a check could not be completed
    separate = cli(
        "check", "-n", nsd, "--dnssec-resolver", unbound, "--timeout", "3", "secure.test"
    )
    assert "DNSSEC" in separate.stdout and "secure; MX hosts: 1 secure" in separate.stdout
    bad = cli("check", "--dnssec-resolver", "not-an-ip", "secure.test")
    assert bad.returncode == 2 and "not-an-ip" in bad.stderr
