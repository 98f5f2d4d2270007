"""A hostile name against the DNSSEC check's look for the zone of an empty MX answer: a
domain 60 labels deep with no MX costs at most one SOA query per label (through the cache),
then ends in a verdict, never a loop (mailauth_audit/checks/dnssec/collect.py)."""

from __future__ import annotations

import asyncio
import time

from mailauth_audit.checks.dnssec import DnssecResult, DnssecVerdict
from mailauth_audit.engine.auditor import Auditor
from mailauth_audit.model import CheckId, CheckStatus
from mailauth_audit.options import AuditOptions
from mailauth_audit.resolver.static import StaticResolver

DEEP = ".".join(f"l{i}" for i in range(60)) + ".example.test"
ZONE = f"""\
$ORIGIN example.test.
@ 300 IN SOA ns.example.test. host.example.test. 1 3600 600 86400 300
@ 300 IN MX 10 mx
mx 300 IN A 192.0.2.1
{DEEP}. 300 IN A 192.0.2.2
"""


def test_deep_name_without_mx_costs_one_soa_query_per_label_at_most() -> None:
    options = AuditOptions(checks=frozenset({CheckId.DNSSEC}))

    async def run():  # type: ignore[no-untyped-def]
        async with Auditor(options, StaticResolver(ZONE)) as auditor:
            return await auditor.audit_domain(DEEP)

    started = time.monotonic()
    report = asyncio.run(run())
    elapsed = time.monotonic() - started
    outcome = report.checks[CheckId.DNSSEC]
    assert outcome.status is not CheckStatus.ERROR, outcome.error
    assert isinstance(outcome.result, DnssecResult)
    # the domain (no MX) and, as it has an address, the domain as its own mail host
    # (RFC 5321 §5.1), in the same unsigned zone
    assert [(n.role, n.verdict) for n in outcome.result.names] == [
        ("domain", DnssecVerdict.INSECURE),
        ("mx", DnssecVerdict.INSECURE),
    ]
    labels = DEEP.count(".") + 1
    # the MX and A questions, then SOA from the name up to the apex (example.test): 61 of
    # them, asked once for both names (the cache)
    assert labels - 2 <= report.dns_queries <= 2 + labels  # the walk ran, and no further
    assert elapsed < 10
