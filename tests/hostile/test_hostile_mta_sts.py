"""Hostile MTA-STS and TLS-RPT publications: every bound the checks add, asserted.

- a policy host with hundreds of addresses: at most Limits.max_mta_sts_policy_addresses
  connections (the rest named as not tried);
- a policy of thousands of mx patterns within 64 KiB: the parser bound stops it, reported
  as not checked (never a silent truncation, never a verdict);
- hundreds of TXT records: evidence quotes a few, each cut short;
- a policy host that never answers: the probe's deadline ends the check as could-not-check.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from mailauth_audit.checks.mta_sts import MtaStsResult, PolicyFetchState
from mailauth_audit.engine.auditor import Auditor
from mailauth_audit.errors import ProbeConnectionRefused, ProbeTimeout
from mailauth_audit.model import CheckId, CheckStatus, DomainReport, ErrorReason
from mailauth_audit.options import AuditOptions, Limits, ProbeOptions
from mailauth_audit.probes.results import HttpsFetchResult
from mailauth_audit.probes.session import ProbeSet
from mailauth_audit.probes.static import StaticHttpsFetcher
from mailauth_audit.resolver.static import StaticResolver

HEAD = """$ORIGIN example.
$TTL 300
@ IN SOA ns.example. host.example. 1 3600 600 86400 300
h IN MX 10 mx.h.example.
mx.h IN A 192.0.2.25
"""
URL = "https://mta-sts.h.example/.well-known/mta-sts.txt"


class CountingFetcher:
    def __init__(self, answer: Any = None, delay: float = 0.0) -> None:
        self.calls: list[str] = []
        self.answer = answer
        self.delay = delay

    async def fetch(self, host: str, address: str, path: str, port: int = 443) -> HttpsFetchResult:
        self.calls.append(address)
        if self.delay:
            await asyncio.sleep(self.delay)
            raise ProbeTimeout(host, address, port, stage="body", detail="deadline")
        if self.answer is None:
            raise ProbeConnectionRefused(host, address, port, stage="connect")
        return await StaticHttpsFetcher({URL: self.answer}).fetch(host, address, path, port)

    async def aclose(self) -> None:
        return None


def run(zone: str, fetcher: Any, limits: Limits | None = None) -> DomainReport:
    options = AuditOptions(
        checks=frozenset({CheckId.MTA_STS, CheckId.TLS_RPT}),
        probes=ProbeOptions(allow_private_targets=True),
        limits=limits or Limits(),
    )

    async def go() -> DomainReport:
        probes = ProbeSet(options.probes, https=fetcher)
        async with Auditor(options, StaticResolver(zone), probes=probes) as auditor:
            return await auditor.audit_domain("h.example")

    return asyncio.run(go())


def test_hundreds_of_policy_host_addresses_cost_a_bounded_few_connections() -> None:
    # Given a policy host with 300 addresses, each refusing the connection
    rows = "".join(f"mta-sts.h IN A 198.18.{i // 250}.{i % 250 + 1}\n" for i in range(300))
    zone = HEAD + '_mta-sts.h IN TXT "v=STSv1; id=1"\n' + rows
    fetcher = CountingFetcher()
    started = time.monotonic()
    report = run(zone, fetcher)
    # Then only the first max_mta_sts_policy_addresses are tried; the rest are named
    cap = Limits().max_mta_sts_policy_addresses
    assert len(fetcher.calls) == cap
    result = report.checks[CheckId.MTA_STS].result
    assert isinstance(result, MtaStsResult) and result.policy is not None
    assert result.policy.state is PolicyFetchState.UNREACHABLE
    outcomes = [a.outcome for a in result.policy.attempts]
    assert outcomes.count("connection_refused") == cap
    assert outcomes.count("not_tried") == 300 - cap
    assert time.monotonic() - started < 10


def test_thousands_of_mx_patterns_are_refused_by_the_parser_bound_and_said() -> None:
    # Given a 64 KiB policy of 3,000 mx lines (under the body cap, over the pattern bound)
    body = "version: STSv1\nmode: enforce\nmax_age: 604800\n" + "".join(
        f"mx: m{i}.h.example\n" for i in range(3000)
    )
    body = body[: 64 * 1024 - 1]
    body = body[: body.rfind("\n") + 1]
    zone = HEAD + '_mta-sts.h IN TXT "v=STSv1; id=1"\nmta-sts.h IN A 192.0.2.80\n'
    report = run(zone, CountingFetcher({"status": 200, "content_type": "text/plain", "body": body}))
    outcome = report.checks[CheckId.MTA_STS]
    assert isinstance(outcome.result, MtaStsResult) and outcome.result.policy is not None
    assert outcome.result.policy.parser_limit == "max_mta_sts_mx_patterns"
    assert [f.code for f in outcome.findings] == ["mta_sts.policy_not_checked"]
    assert outcome.status is CheckStatus.PASS  # not shown to be wrong: no verdict on it


def test_hundreds_of_txt_records_are_quoted_a_few_and_short() -> None:
    long_id = "v=STSv1; id=1; " + "x=" + "y" * 200
    rows = "".join(f'_mta-sts.h IN TXT "{long_id}{i}" "{"z" * 250}"\n' for i in range(200))
    rpt = "".join(
        f'_smtp._tls.h IN TXT "v=TLSRPTv1; rua=mailto:r{i}@h.example"\n' for i in range(200)
    )
    fetcher = CountingFetcher()
    report = run(HEAD + rows + rpt, fetcher)
    for cid, code in (
        (CheckId.MTA_STS, "mta_sts.multiple_records"),
        (CheckId.TLS_RPT, "tls_rpt.multiple_records"),
    ):
        finding = report.checks[cid].findings[0]
        assert finding.code == code and "200 records" in finding.detail
        assert len(finding.evidence) == 10
        assert all(len(e) < 1100 for e in finding.evidence)
    assert fetcher.calls == [] or len(fetcher.calls) <= Limits().max_mta_sts_policy_addresses


def test_a_policy_host_that_never_answers_ends_in_could_not_check() -> None:
    zone = HEAD + '_mta-sts.h IN TXT "v=STSv1; id=1"\nmta-sts.h IN A 192.0.2.80\n'
    report = run(zone, CountingFetcher(delay=0.05))
    outcome = report.checks[CheckId.MTA_STS]
    assert outcome.status is CheckStatus.ERROR and outcome.findings == ()
    assert outcome.error is not None and outcome.error.reason is ErrorReason.PROBE_TIMEOUT
