"""Shared by the starttls tests against real servers: a zone pointing MX hosts at loopback,
and an audit through the real probers (ProbeSet built from ProbeOptions) with the target
rule lifted for 127.0.0.0/8 and ::1 only by --allow-private-targets."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
for folder in (TESTS, TESTS / "probes"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from mailauth_audit.engine.auditor import Auditor  # noqa: E402
from mailauth_audit.model import AuditRun, DomainReport  # noqa: E402
from mailauth_audit.options import AuditOptions, ProbeLimits, ProbeOptions  # noqa: E402
from mailauth_audit.resolver.static import StaticResolver  # noqa: E402

FAST = ProbeLimits(
    connect_timeout=5,
    smtp_banner_timeout=5,
    smtp_command_timeout=5,
    tls_handshake_timeout=5,
    smtp_total_timeout=20,
)
MX = "mx.example.test"


def loopback_zone(domains: Iterable[str] = ("example.test",), address: str = "127.0.0.1") -> str:
    rtype = "AAAA" if ":" in address else "A"
    lines = [f"{d}. IN MX 10 {MX}." for d in domains]
    lines.append(f"{MX}. IN {rtype} {address}")
    return "\n".join(lines) + "\n"


def probe_options(port: int, ca_file: str | None, limits: ProbeLimits = FAST) -> ProbeOptions:
    return ProbeOptions(allow_private_targets=True, smtp_port=port, ca_file=ca_file, limits=limits)


def audit_run(
    domains: list[str],
    port: int,
    ca_file: str | None,
    *,
    zone: str | None = None,
    limits: ProbeLimits = FAST,
) -> tuple[AuditRun, Auditor]:
    opts = AuditOptions(probes=probe_options(port, ca_file, limits))

    async def run() -> tuple[AuditRun, Auditor]:
        async with Auditor(opts, StaticResolver(zone or loopback_zone(domains))) as auditor:
            return await auditor.audit_domains(domains), auditor

    return asyncio.run(run())


def audit_one(port: int, ca_file: str | None, **kwargs: object) -> DomainReport:
    run, _ = audit_run(["example.test"], port, ca_file, **kwargs)  # type: ignore[arg-type]
    return run.domains[0]
