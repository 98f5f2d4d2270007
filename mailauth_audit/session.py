"""A long-lived auditor for clients that audit again and again: a service, a notebook, a
task-queue worker. One DNS cache and one memo of shared work serve every call, and both are
bounded (`Limits.max_cache_entries`, `Limits.max_memo_entries`), so a session that lives
for weeks holds no more than those bounds however many domains it has seen.

    async with AuditSession(options) as session:
        report = await session.audit("example.com")
        run = await session.audit_domains(["a.example", "b.example"])
        summary = await session.audit_batch(names, observers=[writer])

A session belongs to the event loop it was entered in (its sockets and in-flight questions
do); use one session per loop. Options are validated when the session is made, before any
work (`validate_options`).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from typing import Any

from .checks.dkim.selector_inputs import valid_selector
from .engine.auditor import Auditor
from .engine.observers import AuditObserver, RunSummary
from .errors import ConfigurationError
from .model import AuditRun, CheckId, DomainReport
from .options import AuditOptions
from .probes.session import ProbeSet
from .resolver.base import Resolver
from .resolver.caching import CachingResolver
from .resolver.factory import parse_nameserver, system_nameservers

__all__ = ["AuditSession", "validate_options"]


def validate_options(
    options: AuditOptions | None = None, *, resolver: Resolver | None = None
) -> AuditOptions:
    """`options` when they can be used; else ConfigurationError (or TypeError) saying why,
    before any domain is audited or any socket opened.

    The numeric limits validate themselves when built (options.py); this checks what only
    makes sense together or against the system: at least one check, known check names,
    nameservers that are IP literals, DKIM selectors that are selectors, and, when neither
    nameservers nor a resolver are given, that the system's resolvers can be read."""
    if options is None:
        options = AuditOptions()
    if not isinstance(options, AuditOptions):
        raise TypeError(f"options must be AuditOptions, not {type(options).__name__}")
    if not options.checks:
        raise ConfigurationError("no check selected: name at least one of the checks")
    for check in options.checks:
        if not isinstance(check, CheckId):
            try:
                CheckId(check)
            except ValueError:
                known = ", ".join(c.value for c in CheckId)
                raise ConfigurationError(f"unknown check {check!r} (choose from {known})") from None
    for server in (*options.nameservers, *options.probes.dnssec_resolvers):
        parse_nameserver(server)
    if resolver is None and not options.nameservers:
        system_nameservers()
    for selector in options.selectors:
        if valid_selector(selector) is None:
            raise ConfigurationError(f"invalid DKIM selector {selector!r}")
    return options


class AuditSession:
    """A long-lived auditor with a bounded cache and memo (see the module docstring)."""

    def __init__(
        self,
        options: AuditOptions | None = None,
        *,
        resolver: Resolver | None = None,
        probes: ProbeSet | None = None,
    ) -> None:
        self.options = validate_options(options, resolver=resolver)
        self._resolver = resolver
        self._probes = probes
        self._auditor: Auditor | None = None

    @property
    def auditor(self) -> Auditor:
        if self._auditor is None:
            raise RuntimeError("enter the session first: `async with AuditSession(...) as s:`")
        return self._auditor

    async def __aenter__(self) -> AuditSession:
        if self._auditor is None:
            self._auditor = Auditor(self.options, self._resolver, probes=self._probes)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close what the session opened (its resolver's sockets, its probers); a resolver
        passed in is the caller's to close."""
        auditor, self._auditor = self._auditor, None
        if auditor is not None:
            await auditor.aclose()

    async def audit(self, domain: str) -> DomainReport:
        """One domain; an invalid name gives a report with status `invalid`."""
        return await self.auditor.audit_domain(domain)

    async def audit_domains(self, domains: Iterable[str]) -> AuditRun:
        """Several domains; the reports come back in input order (all kept in memory)."""
        return await self.auditor.audit_domains(domains)

    async def audit_batch(
        self,
        domains: Iterable[str] | AsyncIterable[str],
        observers: Sequence[AuditObserver] = (),
        *,
        should_stop: Callable[[], bool] | None = None,
    ) -> RunSummary:
        """Any number of domains, each report handed to `observers` and not kept."""
        return await self.auditor.audit_batch(domains, observers, should_stop=should_stop)

    def stats(self) -> dict[str, Any]:
        """What the session holds now: cached answers and memoised values, with their caps."""
        auditor = self.auditor
        cache = auditor.resolver
        limits = self.options.limits
        return {
            "cache_entries": len(cache) if isinstance(cache, CachingResolver) else 0,
            "max_cache_entries": limits.max_cache_entries,
            "memo_entries": auditor.memo.size,
            "max_memo_entries": limits.max_memo_entries,
        }
