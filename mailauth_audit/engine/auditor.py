"""Runs the checks for one domain or many, with bounded concurrency and one shared resolver.

For each domain the checks run in dependency waves (engine/plan.py): the checks of a wave
collect their facts concurrently, then are judged in dependency order (DKIM's verdict depends
on whether MX, SPF and DMARC say the domain sends mail at all); a check whose `collect` needs
another's outcome runs in a later wave, and is not run when that dependency failed.
Many domains flow through a bounded queue into a fixed number of workers, so memory does not
grow with the length of the list.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ..checks.base import Check, CheckContext, EvaluationContext, RunMemo
from ..checks.concurrent import gather, settle
from ..checks.crosscheck import apply_root_causes
from ..checks.dependencies import dependency_order, edges
from ..checks.registry import CHECKS
from ..domain import normalize_domain
from ..errors import InvalidDomainError
from ..model import (
    AuditRun,
    CheckError,
    CheckId,
    CheckOutcome,
    CheckStatus,
    DomainReport,
    DomainStatus,
    sort_findings,
    status_from_findings,
)
from ..options import AuditOptions
from ..probes.session import ProbeSet
from ..resolver.base import Resolver
from ..resolver.caching import CachingResolver
from ..resolver.factory import make_dnssec_resolver, make_resolver
from ..resolver.sources import run_provenance
from ..resolver.stats import count_queries
from ..version import __version__
from .observers import AuditObserver, RunSummary, notify_done, notify_report
from .outcome import DomainDeadlineExceeded, outcome_from_exception, resolver_notes
from .plan import blocked_outcome, dependency_outcomes, plan_checks

_NO_OUTCOMES: dict[CheckId, CheckOutcome] = {}


def evaluation_order(ids: Iterable[CheckId]) -> list[CheckId]:
    """Checks sorted so that each comes after the checks it depends on or looks at."""
    return dependency_order(ids, CHECKS)


class Auditor:
    """One audit run: options, a resolver whose cache every domain shares, and shared memos."""

    def __init__(
        self,
        options: AuditOptions | None = None,
        resolver: Resolver | None = None,
        *,
        probes: ProbeSet | None = None,
    ):
        self.options = options or AuditOptions()
        # probers are built on first use; injected ones (fakes in tests) are not closed here
        self.probes = probes or ProbeSet(self.options.probes)
        self._owns_resolver = resolver is None
        if resolver is None:
            resolver = make_resolver(self.options)
        elif not isinstance(resolver, CachingResolver):
            # every domain of a run shares one cache, and per-domain query counts come from it
            resolver = CachingResolver(resolver, max_entries=self.options.limits.max_cache_entries)
        self.resolver: Resolver = resolver
        # --dnssec-resolver: a validating resolver of its own, closed with the run
        self.dnssec_resolver = make_dnssec_resolver(self.options)
        # bounded: a long-lived auditor (a session, a service) must not grow with its history
        self.memo = RunMemo(max_entries=self.options.limits.max_memo_entries)
        # what does not change from one domain to the next is worked out once per run
        # (checks are stateless; outcomes are frozen, so one "skipped" serves every domain).
        # Requested checks pull in the checks they depend on, which are reported too.
        plan = plan_checks(self.options.checks, CHECKS)
        self._checks: dict[CheckId, Check[Any]] = {
            cid: CHECKS[cid]() for cid in CheckId if cid in plan.checks
        }
        self._order = plan.order
        self._waves = tuple(
            (
                tuple((cid, self._checks[cid], CHECKS[cid].depends_on) for cid in w.collect),
                w.evaluate,
            )
            for w in plan.waves
        )
        self._depends_on = {cid: CHECKS[cid].depends_on for cid in self._checks}
        self._looks_at = {cid: edges(CHECKS, cid) for cid in self._checks}
        self._skipped = {
            cid: CheckOutcome(check=cid, status=CheckStatus.SKIPPED, skip_reason="not requested")
            for cid in CheckId
            if cid not in self._checks
        }
        self._all_ids = tuple(CheckId)
        # one outcome per check in CheckId order, those run standing in until their own
        # outcome replaces them in place (see _run_checks)
        self._slots = {
            cid: CheckOutcome(check=cid, status=CheckStatus.SKIPPED, skip_reason="not requested")
            for cid in CheckId
        }
        self._slots.update(self._skipped)
        self._servers = _server_names(self.resolver, self.options)

    async def aclose(self) -> None:
        await self.probes.aclose()
        if self.dnssec_resolver is not None:
            await self.dnssec_resolver.aclose()
        if self._owns_resolver:
            await self.resolver.aclose()

    async def __aenter__(self) -> Auditor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def audit_domain(self, text: str) -> DomainReport:
        try:
            domain = normalize_domain(text)
        except InvalidDomainError as exc:
            return DomainReport(
                domain=text, status=DomainStatus.INVALID, input=text, error=str(exc)
            )
        with count_queries() as counter:
            checks = await self._run_checks(domain)
        checks = apply_root_causes(checks)
        return DomainReport(
            domain=domain,
            status=DomainStatus.COMPLETED,
            checks=checks,
            input=text if text != domain else None,
            dns_queries=counter.queries,
            resolver_notes=resolver_notes(checks, self._servers),
        )

    async def _run_checks(self, domain: str) -> dict[CheckId, CheckOutcome]:
        ctx = CheckContext(
            domain=domain,
            resolver=self.resolver,
            options=self.options,
            memo=self.memo,
            probes=self.probes,
            dnssec_resolver=self.dnssec_resolver,
        )
        outcomes: dict[CheckId, CheckOutcome] = {}
        facts: dict[CheckId, Any] = {}
        budget = self.options.limits.domain_timeout
        try:
            async with asyncio.timeout(budget):
                for collect, evaluate in self._waves:
                    await self._collect(ctx, collect, facts, outcomes)
                    for cid in evaluate:
                        if cid not in outcomes:
                            outcomes[cid] = self._judge(cid, facts[cid], domain, outcomes)
        except TimeoutError:
            # the checks still running were cancelled and stand as DomainDeadlineExceeded;
            # the finished ones keep their facts. A check that catches the cancellation and
            # finishes later must not change this domain's report: take what is there now
            facts = dict(facts)
            late = DomainDeadlineExceeded(budget)
            for cid in self._order:
                if cid in outcomes:
                    continue
                deps = self._depends_on[cid]
                blocked = blocked_outcome(cid, deps, outcomes) if deps else None
                outcomes[cid] = blocked or self._judge(cid, facts.get(cid, late), domain, outcomes)
        if len(outcomes) == len(self._checks):  # every check run has its outcome: the usual case
            return {**self._slots, **outcomes}
        skipped = self._skipped
        return {cid: outcomes[cid] if cid in outcomes else skipped[cid] for cid in self._all_ids}

    async def _collect(
        self,
        ctx: CheckContext,
        wave: tuple[tuple[CheckId, Check[Any], tuple[CheckId, ...]], ...],
        facts: dict[CheckId, Any],
        outcomes: dict[CheckId, CheckOutcome],
    ) -> None:
        """One wave's facts (or the exception each raised), collected concurrently. A check
        whose dependency did not complete is not run: its outcome says which and why."""

        async def collect(cid: CheckId, inst: Check[Any], c: CheckContext) -> None:
            facts[cid] = await settle(inst.collect(c))

        runs = []
        for cid, inst, deps in wave:
            if not deps:
                runs.append(collect(cid, inst, ctx))
            elif (blocked := blocked_outcome(cid, deps, outcomes)) is not None:
                outcomes[cid] = blocked
            else:
                mine = replace(ctx, outcomes=dependency_outcomes(deps, outcomes))
                runs.append(collect(cid, inst, mine))
        await gather(runs)

    def _judge(
        self, cid: CheckId, value: Any, domain: str, outcomes: dict[CheckId, CheckOutcome]
    ) -> CheckOutcome:
        opts = self.options
        if isinstance(value, Exception):
            return outcome_from_exception(cid, value, debug=opts.debug)
        looks_at = self._looks_at[cid]
        ectx = EvaluationContext(
            domain=domain,
            options=opts,
            outcomes={d: outcomes[d] for d in looks_at if d in outcomes}
            if looks_at
            else _NO_OUTCOMES,
        )
        try:
            check = self._checks[cid]
            unjudged = check.not_judged(value)
            if unjudged is not None:
                return _unjudged_outcome(cid, value, unjudged)
            findings = sort_findings(check.evaluate(value, ectx))
        except Exception as exc:
            return outcome_from_exception(cid, exc, debug=opts.debug)
        return CheckOutcome(
            check=cid, status=status_from_findings(findings), result=value, findings=findings
        )

    async def audit_stream(
        self, domains: Iterable[str] | AsyncIterable[str]
    ) -> AsyncIterator[DomainReport]:
        """Yield each domain's report as soon as it is done (not in input order).

        A bounded queue feeds `max_concurrent_domains` workers: never one task per domain.
        """
        workers = max(1, self.options.limits.max_concurrent_domains)
        todo: asyncio.Queue[str | None] = asyncio.Queue(maxsize=workers * 2)
        done: asyncio.Queue[DomainReport | None] = asyncio.Queue(maxsize=workers * 2)

        async def produce() -> None:
            if isinstance(domains, AsyncIterable):
                async for d in domains:
                    await todo.put(d)
            else:
                for d in domains:
                    await todo.put(d)
            for _ in range(workers):
                await todo.put(None)

        async def work() -> None:
            while (d := await todo.get()) is not None:
                await done.put(await self.audit_domain(d))
            await done.put(None)

        tasks = [asyncio.create_task(produce())]
        tasks += [asyncio.create_task(work()) for _ in range(workers)]
        finished = 0
        try:
            while finished < workers:
                report = await done.get()
                if report is None:
                    finished += 1
                else:
                    yield report
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def audit_batch(
        self,
        domains: Iterable[str] | AsyncIterable[str],
        observers: Sequence[AuditObserver] = (),
        *,
        should_stop: Callable[[], bool] | None = None,
    ) -> RunSummary:
        """Audit `domains`, handing each report to `observers` as it is done; keep none.

        Memory does not grow with the list (`audit_domains` keeps every report to return
        them in order). `should_stop`, asked before each domain is taken, ends the run
        early: the domains in flight finish and are reported, and the summary says
        `interrupted`. See engine/observers.py for what observers may rely on."""
        started = _now()
        queries_before = _upstream_queries(self.resolver)
        stopped = False

        async def feed() -> AsyncIterator[str]:
            nonlocal stopped
            if isinstance(domains, AsyncIterable):
                async for d in domains:
                    if should_stop is not None and should_stop():
                        stopped = True
                        return
                    yield d
            else:
                for d in domains:
                    if should_stop is not None and should_stop():
                        stopped = True
                        return
                    yield d

        def summary(interrupted: bool) -> RunSummary:
            return RunSummary(
                started_at=started,
                finished_at=_now(),
                reported=reported,
                interrupted=interrupted,
                dns_queries=_upstream_queries(self.resolver) - queries_before,
                provenance=run_provenance(self.resolver, started),
            )

        reported = 0
        observer_failed = False
        try:
            async for report in self.audit_stream(feed()):
                try:
                    notify_report(observers, report)
                except BaseException:
                    observer_failed = True
                    raise
                reported += 1
        except BaseException:
            if not observer_failed:  # cancelled or interrupted: buffered writes still land
                notify_done(observers, summary(True))
            raise
        done = summary(stopped)
        notify_done(observers, done)
        return done

    async def audit_domains(self, domains: Iterable[str]) -> AuditRun:
        """Audit a list; reports come back in input order."""
        items = list(domains)
        started = _now()
        queries_before = _upstream_queries(self.resolver)
        by_input: dict[str, DomainReport] = {}
        async for report in self.audit_stream(dict.fromkeys(items)):
            by_input[report.input or report.domain] = report
        return AuditRun(
            started_at=started,
            finished_at=_now(),
            domains=tuple(by_input[d] for d in items),
            dns_queries=_upstream_queries(self.resolver) - queries_before,
            tool_version=__version__,
            provenance=run_provenance(self.resolver, started),
        )


def _unjudged_outcome(cid: CheckId, facts: Any, why: CheckError | str) -> CheckOutcome:
    """Facts that support no verdict (Check.not_judged): error or skipped, facts kept."""
    if isinstance(why, CheckError):
        return CheckOutcome(check=cid, status=CheckStatus.ERROR, result=facts, error=why)
    return CheckOutcome(check=cid, status=CheckStatus.SKIPPED, result=facts, skip_reason=why)


def _server_names(resolver: Resolver, options: AuditOptions) -> tuple[str, ...]:
    """The servers the wire resolver asks, as "HOST:PORT", for notes about them."""
    inner = getattr(resolver, "inner", resolver)
    servers = getattr(inner, "nameservers", None)
    if isinstance(servers, tuple) and servers:
        return tuple(f"[{h}]:{p}" if ":" in str(h) else f"{h}:{p}" for h, p in servers)
    return tuple(options.nameservers)


def _upstream_queries(resolver: Resolver) -> int:
    stats = getattr(resolver, "stats", None)
    return int(getattr(stats, "upstream_queries", 0)) if stats is not None else 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
