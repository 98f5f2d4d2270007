"""DANE and starttls share the run's SMTP prober: against the chain-of-trust lab
(tests/dnssec_servers.py: signed zones in nsd behind a validating unbound), an aiosmtpd
counting the connections it accepts shows that DANE adds none, and `--no-probes` leaves DANE
saying the chain was not checked (never a pass)."""

from __future__ import annotations

import asyncio

from dnssec_servers import ChainLab, chain_lab
from probe_servers import counting_smtp_server

from mailauth_audit.checks.dane.result import DaneResult
from mailauth_audit.engine.auditor import Auditor
from mailauth_audit.model import CheckId, CheckStatus, DomainReport
from mailauth_audit.options import AuditOptions, Limits, ProbeOptions
from mailauth_audit.report.mx_rows import mx_tls_rows

__all__ = ["chain_lab"]

FAST = Limits(dns_timeout=3.0, dns_attempts=2)


def audit(
    lab: ChainLab, port: int, checks: frozenset[CheckId], *, probes: bool = True
) -> DomainReport:
    host, dns_port = lab.validator
    options = AuditOptions(
        nameservers=(f"{host}:{dns_port}",),
        limits=FAST,
        checks=checks,
        probes=ProbeOptions(
            enabled=probes, allow_private_targets=True, smtp_port=port, ca_file=lab.ca_file
        ),
    )

    async def run() -> DomainReport:
        async with Auditor(options) as auditor:
            return await auditor.audit_domain("secure.test")

    return asyncio.run(run())


WITH_DANE = frozenset({CheckId.MX, CheckId.STARTTLS, CheckId.DNSSEC, CheckId.DANE})


def test_dane_and_starttls_open_one_shared_connection_per_mx_address(chain_lab: ChainLab) -> None:
    assert chain_lab.server_tls is not None
    counts = {}
    for name, checks in (
        ("starttls alone", WITH_DANE - {CheckId.DANE}),
        ("dane alone", WITH_DANE - {CheckId.STARTTLS}),
        ("starttls and dane", WITH_DANE),
    ):
        with counting_smtp_server(chain_lab.server_tls) as (port, counter):
            report = audit(chain_lab, port, checks)
        counts[name] = counter.opened
        if CheckId.DANE in checks:
            dane = report.checks[CheckId.DANE]
            assert isinstance(dane.result, DaneResult)
            assert [a.authenticated_by for a in dane.result.hosts[0].addresses] == [
                (chain_lab.leaf_tlsa,)
            ]
            assert dane.status is CheckStatus.PASS
    print("connections opened to the one MX address:", counts)
    # DANE alone: the one probe. starttls: that probe plus its handshake capped at TLS 1.1.
    # Together: the probe is shared (the run's cached prober), DANE adds no connection.
    assert counts == {"starttls alone": 2, "dane alone": 1, "starttls and dane": 2}


def test_the_mx_table_shows_the_dane_match(chain_lab: ChainLab) -> None:
    assert chain_lab.server_tls is not None
    with counting_smtp_server(chain_lab.server_tls) as (port, _):
        report = audit(chain_lab, port, WITH_DANE)
    rows = mx_tls_rows(report)
    assert [(r.host, r.address, r.dane) for r in rows] == [
        ("mx.secure.test", "127.0.0.1", f"match ({chain_lab.leaf_tlsa})")
    ]


def test_no_probes_leaves_dane_chain_not_checked_never_a_pass(chain_lab: ChainLab) -> None:
    with counting_smtp_server(chain_lab.server_tls) as (port, counter):
        report = audit(chain_lab, port, WITH_DANE, probes=False)
    assert counter.opened == 0
    dane = report.checks[CheckId.DANE]
    codes = [f.code for f in dane.findings]
    assert "dane.chain_not_checked" in codes and "dane.authenticated" not in codes
    assert dane.status is CheckStatus.WARN
    finding = next(f for f in dane.findings if f.code == "dane.chain_not_checked")
    assert "--no-probes" in finding.detail
