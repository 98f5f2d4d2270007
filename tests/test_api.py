"""The public API: sync mirror of the async originals, and the text renderer's colours."""

from __future__ import annotations

import asyncio

from fixture_zone import ZONE

import mailauth_audit
from mailauth_audit import AuditOptions, CheckId, CheckStatus, DomainStatus
from mailauth_audit.asyncapi import audit_domain as async_audit_domain
from mailauth_audit.report.renderers import TextRenderer
from mailauth_audit.resolver.static import StaticResolver


def test_sync_api_mirrors_async_api() -> None:
    sync_report = mailauth_audit.audit_domain("weak.example", resolver=StaticResolver(ZONE))
    async_report = asyncio.run(async_audit_domain("weak.example", resolver=StaticResolver(ZONE)))
    assert sync_report.status is DomainStatus.COMPLETED
    assert [f.code for f in sync_report.findings] == [f.code for f in async_report.findings]
    assert sync_report.checks[CheckId.DMARC].result.effective_policy == "none"


def test_sync_audit_domains_returns_a_run_in_input_order() -> None:
    run = mailauth_audit.audit_domains(
        ["nomail.example", "good.example"],
        AuditOptions(checks=frozenset({CheckId.MX})),
        resolver=StaticResolver(ZONE),
    )
    assert [d.domain for d in run.domains] == ["nomail.example", "good.example"]
    assert run.domains[0].checks[CheckId.MX].result.null_mx is True
    assert run.domains[1].checks[CheckId.SPF].status is CheckStatus.SKIPPED
    assert run.dns_queries > 0 and run.started_at.endswith("Z")


def test_text_renderer_colours_only_when_asked_and_neutralises_control_characters() -> None:
    run = mailauth_audit.audit_domains(["broken.example"], resolver=StaticResolver(ZONE))
    plain = TextRenderer(color=False).render(run)
    coloured = TextRenderer(color=True).render(run)
    assert "\x1b[" not in plain and "\x1b[31m" in coloured  # red for fail / high
    # findings are listed most severe first
    severities = [
        line.split()[0]
        for line in plain.splitlines()
        if line.startswith("  ")
        and line.split()
        and line.split()[0] in ("critical", "high", "medium", "low", "info")
    ]
    order = ["critical", "high", "medium", "low", "info"]
    assert severities == sorted(severities, key=order.index)
    hostile = StaticResolver('x.example. 300 IN TXT "v=spf1 \\027[2J\\027]0;pwned\\007 -all"')
    text = TextRenderer(color=False).render(
        mailauth_audit.audit_domains(["x.example"], resolver=hostile)
    )
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J" in text  # shown literally, escaped
