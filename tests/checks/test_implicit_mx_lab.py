"""A domain without MX records but with an address receives mail itself (the implicit MX of
RFC 5321 §5.1): starttls, DNSSEC and DANE all treat it as its own MX host, against the
chain-of-trust lab (tests/dnssec_servers.py: signed zones in nsd behind a validating
unbound, an aiosmtpd with STARTTLS). A null MX (RFC 7505) has no mail host at all.

In the lab: mx.secure.test (signed, an A, TLSA at _25._tcp.mx.secure.test matching the
server), plain.secure.test (signed, an A, no TLSA), mx.insecure.test (unsigned, an A and a
TLSA), nullmx.secure.test (`MX 0 .` beside an A and a TLSA that must not be used)."""

from __future__ import annotations

import asyncio

from dnssec_servers import ChainLab, chain_lab

from mailauth_audit.asyncapi import audit_domain
from mailauth_audit.checks.dane import DaneResult
from mailauth_audit.checks.dnssec import DnssecResult, DnssecVerdict
from mailauth_audit.checks.starttls.result import StarttlsResult
from mailauth_audit.model import CheckId, CheckStatus, DomainReport
from mailauth_audit.options import AuditOptions, Limits, ProbeOptions

__all__ = ["chain_lab"]

CHECKS = frozenset({CheckId.MX, CheckId.STARTTLS, CheckId.DNSSEC, CheckId.DANE})


def audit(lab: ChainLab, domain: str) -> DomainReport:
    host, port = lab.validator
    options = AuditOptions(
        nameservers=(f"{host}:{port}",),
        limits=Limits(dns_timeout=3.0, dns_attempts=2),
        checks=CHECKS,
        probes=ProbeOptions(
            allow_private_targets=True, smtp_port=lab.smtp_port, ca_file=lab.ca_file
        ),
    )
    return asyncio.run(audit_domain(domain, options))


def results(report: DomainReport) -> tuple[StarttlsResult, DnssecResult, DaneResult]:
    tls, dnssec, dane = (
        report.checks[c].result for c in (CheckId.STARTTLS, CheckId.DNSSEC, CheckId.DANE)
    )
    assert isinstance(tls, StarttlsResult), report.checks[CheckId.STARTTLS]
    assert isinstance(dnssec, DnssecResult), report.checks[CheckId.DNSSEC]
    assert isinstance(dane, DaneResult), report.checks[CheckId.DANE]
    return tls, dnssec, dane


def codes(report: DomainReport, cid: CheckId) -> set[str]:
    return {f.code for f in report.checks[cid].findings}


def test_implicit_mx_in_a_signed_zone_with_tlsa_is_authenticated(chain_lab: ChainLab) -> None:
    report = audit(chain_lab, "mx.secure.test")
    tls, dnssec, dane = results(report)
    # starttls probed the domain itself; DNSSEC judged its A as the MX host's; DANE read the
    # TLSA at _25._tcp.<domain> and matched it against the same server
    assert [(h.host, [a.address for a in h.addresses]) for h in tls.hosts] == [
        ("mx.secure.test", ["127.0.0.1"])
    ]
    assert tls.hosts[0].addresses[0].probe is not None
    assert [(n.name, n.role, n.rdtype, n.verdict) for n in dnssec.names] == [
        ("mx.secure.test", "domain", "MX", DnssecVerdict.SECURE),
        ("mx.secure.test", "mx", "A", DnssecVerdict.SECURE),
    ]
    assert [(h.host, h.tlsa_name, h.verdict) for h in dane.hosts] == [
        ("mx.secure.test", "_25._tcp.mx.secure.test", DnssecVerdict.SECURE)
    ]
    assert [a.authenticated_by for a in dane.hosts[0].addresses] == [(chain_lab.leaf_tlsa,)]
    assert "dane.authenticated" in codes(report, CheckId.DANE)
    assert report.checks[CheckId.DANE].status is CheckStatus.PASS


def test_implicit_mx_in_a_signed_zone_without_tlsa_is_not_deployed(chain_lab: ChainLab) -> None:
    report = audit(chain_lab, "plain.secure.test")
    tls, dnssec, dane = results(report)
    assert [h.host for h in tls.hosts] == ["plain.secure.test"]
    assert [(n.name, n.role, n.verdict) for n in dnssec.names] == [
        ("plain.secure.test", "domain", DnssecVerdict.SECURE),
        ("plain.secure.test", "mx", DnssecVerdict.SECURE),
    ]
    assert [(h.host, h.has_tlsa, h.verdict) for h in dane.hosts] == [
        ("plain.secure.test", False, DnssecVerdict.SECURE)
    ]
    assert codes(report, CheckId.DANE) == {"dane.not_deployed"}
    finding = report.checks[CheckId.DANE].findings[0]
    assert "plain.secure.test" in finding.detail  # the host named, not "no MX host"


def test_implicit_mx_in_an_unsigned_zone_is_insecure_and_its_tlsa_ignored(
    chain_lab: ChainLab,
) -> None:
    report = audit(chain_lab, "mx.insecure.test")
    tls, dnssec, dane = results(report)
    assert [h.host for h in tls.hosts] == ["mx.insecure.test"]
    assert [(n.name, n.role, n.verdict, n.signed) for n in dnssec.names] == [
        ("mx.insecure.test", "domain", DnssecVerdict.INSECURE, False),
        ("mx.insecure.test", "mx", DnssecVerdict.INSECURE, False),
    ]
    assert [(h.host, h.has_tlsa, h.verdict) for h in dane.hosts] == [
        ("mx.insecure.test", True, DnssecVerdict.INSECURE)
    ]
    assert "dane.tlsa_insecure" in codes(report, CheckId.DANE)
    assert dane.hosts[0].addresses == ()  # senders ignore it: nothing probed for DANE


def test_null_mx_has_no_mail_host_even_with_an_address_and_tlsa(chain_lab: ChainLab) -> None:
    report = audit(chain_lab, "nullmx.secure.test")
    tls, dnssec, dane = results(report)
    assert tls.hosts == ()
    assert [(n.name, n.role) for n in dnssec.names] == [("nullmx.secure.test", "domain")]
    assert dane.hosts == ()
    assert codes(report, CheckId.DANE) == {"dane.not_deployed"}
