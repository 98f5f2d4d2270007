"""What a check is: `collect` asks DNS and returns typed facts; `evaluate` judges them, purely.

Splitting the two lets saved facts be re-judged by a newer `evaluate` without asking DNS again,
and lets policy be tested without any resolver.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import Any, ClassVar, Generic, TypeVar

from ..fastinit import fast_init
from ..findings.base import FindingSpec
from ..model import CheckError, CheckId, CheckOutcome, Finding
from ..options import AuditOptions
from ..probes.session import ProbeSet
from ..resolver.base import Resolver

ResultT = TypeVar("ResultT")
T = TypeVar("T")


class _Abandoned(Exception):
    """Handed to the other askers of a value whose computing task was cancelled."""


class RunMemo:
    """Work shared by every domain of one run (an SPF include used by 5,000 domains is parsed
    once). Lives on the Auditor, never in a module global, so two runs never share state."""

    def __init__(self, max_entries: int | None = None) -> None:
        # max_entries bounds a long bulk run's memory: the least recently used value goes
        # first (shared work is used again and again, so it stays). None: unbounded.
        self.max_entries = max_entries
        self._done: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._pending: dict[tuple[str, str], asyncio.Future[Any] | None] = {}

    @property
    def size(self) -> int:
        """Values kept (not __len__: an empty memo must stay truthy for `memo or RunMemo()`)."""
        return len(self._done)

    async def get_or_compute(
        self, namespace: str, key: str, compute: Callable[[], Awaitable[T]]
    ) -> T:
        k = (namespace, key)
        done = self._done
        while True:
            if k in done:
                if self.max_entries is not None:
                    done.move_to_end(k)
                return done[k]
            if k not in self._pending:
                break
            # a second asker: only now is there someone to hand the value to (most keys of a
            # bulk run are asked once, and a future nobody awaits is pure cost)
            fut = self._pending[k]
            if fut is None:
                fut = self._pending[k] = asyncio.get_running_loop().create_future()
            try:
                return await asyncio.shield(fut)
            except _Abandoned:
                continue  # the asker computing it was cancelled (its domain's deadline): retry
        self._pending[k] = None
        try:
            value = await compute()
        except BaseException as exc:
            fut = self._pending.pop(k)
            if fut is not None:
                # another domain's cancellation is not this waiter's: it computes it itself
                fut.set_exception(_Abandoned() if isinstance(exc, asyncio.CancelledError) else exc)
                fut.exception()  # mark retrieved: waiters re-raise it, nobody logs it twice
            raise
        done[k] = value
        if self.max_entries is not None and len(done) > self.max_entries:
            done.popitem(last=False)
        fut = self._pending.pop(k)
        if fut is not None:
            fut.set_result(value)
        return value

    async def get_many(
        self, requests: Sequence[tuple[str, str, Callable[[], Awaitable[Any]]]]
    ) -> list[Any]:
        """get_or_compute for several (namespace, key, compute) at once, results in order.
        Values already known are returned without a task; only the rest run concurrently."""
        from .concurrent import gather  # here, not at the top: concurrent imports nothing back

        done = self._done
        out: list[Any] = [None] * len(requests)
        missing: list[int] = []
        for i, (namespace, key, _) in enumerate(requests):
            k = (namespace, key)
            if k in done:
                if self.max_entries is not None:
                    done.move_to_end(k)
                out[i] = done[k]
            else:
                missing.append(i)
        if missing:
            values = await gather([self.get_or_compute(*requests[i]) for i in missing])
            for i, value in zip(missing, values, strict=True):
                out[i] = value
        return out


_NO_OUTCOMES: Mapping[CheckId, CheckOutcome] = MappingProxyType({})


@dataclass
class CheckContext:
    """Everything `collect` may use. Passed instead of threading nameservers and timeouts."""

    domain: str
    resolver: Resolver
    options: AuditOptions = field(default_factory=AuditOptions)
    memo: RunMemo = field(default_factory=RunMemo)
    # outcomes of the checks named in the check's `depends_on`; the engine collects a check
    # only when each of them completed (pass, warn or fail), so each has its result
    outcomes: Mapping[CheckId, CheckOutcome] = field(default_factory=lambda: _NO_OUTCOMES)
    # the run's SMTP prober and HTTPS fetcher (cached per run); checks that probe first ask
    # `probes.refusal(address)` and report a refused address as not probed
    probes: ProbeSet = field(default_factory=ProbeSet)
    # --dnssec-resolver: a separate validating resolver for DNSSEC verdicts (AD bit); None:
    # `resolver` is asked (see `validating_resolver`)
    dnssec_resolver: Resolver | None = None

    @property
    def validating_resolver(self) -> Resolver:
        """The resolver whose AD bit DNSSEC verdicts are read from."""
        return self.dnssec_resolver if self.dnssec_resolver is not None else self.resolver

    def outcome(self, check: CheckId) -> CheckOutcome:
        """A dependency's outcome. Asking for a check not declared in `depends_on` is a bug
        in the asking check (its answer would depend on what else happened to run)."""
        try:
            return self.outcomes[check]
        except KeyError:
            raise LookupError(
                f"the outcome of {check.value} was asked for, but it is not in depends_on"
            ) from None

    def result(self, check: CheckId, kind: type[T]) -> T:
        """A dependency's typed result (see `outcome`)."""
        value = self.outcome(check).result
        if not isinstance(value, kind):
            raise TypeError(f"{check.value} result is {type(value).__name__}, not {kind.__name__}")
        return value


@fast_init
@dataclass(frozen=True)
class EvaluationContext:
    """Everything `evaluate` may use: no I/O, only values."""

    domain: str
    options: AuditOptions = field(default_factory=AuditOptions)
    # outcomes of the checks named in the check's `evaluate_after` (when they ran) and
    # `depends_on` (always there)
    outcomes: Mapping[CheckId, CheckOutcome] = field(default_factory=dict)


def record_summary(record: str | None, records_found: tuple[str, ...]) -> str:
    """The one-line summary of a one-record mechanism (SPF, DMARC): the record itself."""
    if isinstance(record, str):
        return record if len(record) <= 90 else record[:87] + "..."
    return f"{len(records_found)} records published, one allowed" if records_found else "no record"


def catalogue_of(module: ModuleType) -> tuple[FindingSpec, ...]:
    """Every FindingSpec a catalogue module defines, in definition order."""
    return tuple(v for v in vars(module).values() if isinstance(v, FindingSpec))


class Check(ABC, Generic[ResultT]):
    """One mechanism, and everything presentation needs to know about it: renderers read
    these attributes from the registry and hold no per-check branches."""

    id: ClassVar[CheckId]
    title: ClassVar[str]  # heading in reports: "SPF (who may send as the domain)"
    result_type: ClassVar[type]  # the frozen dataclass `collect` returns (for the JSON schema)
    catalogue: ClassVar[tuple[FindingSpec, ...]]  # every finding `evaluate` may emit
    evaluate_after: ClassVar[tuple[CheckId, ...]] = ()  # outcomes `evaluate` wants to see
    # checks whose outcomes `collect` reads (ctx.outcome): run first, pulled in when not
    # requested, and a failed one ends this check in error (see checks/dependencies.py)
    depends_on: ClassVar[tuple[CheckId, ...]] = ()
    standard: ClassVar[str] = ""  # e.g. "RFC 7208"
    # True when `evaluate` reads the facts, ctx.domain and the outcomes of the checks it
    # waits for, and of ctx.options at most the text limits it clips with (a clipped finding
    # is written whole): a results line then leaves the findings' contents out and its
    # reader judges the facts again (report/line5.py; a test holds checks to it)
    judges_facts_only: ClassVar[bool] = False

    @abstractmethod
    async def collect(self, ctx: CheckContext) -> ResultT:
        """Ask DNS; return typed facts. Let ResolverErrors propagate: the engine maps them."""

    @abstractmethod
    def evaluate(self, facts: ResultT, ctx: EvaluationContext) -> list[Finding]:
        """Judge the facts. Pure: same facts in, same findings out."""

    def not_judged(self, facts: ResultT) -> CheckError | str | None:
        """When collected facts support no verdict: a `CheckError` (nothing could be tested,
        e.g. every MX address refused the probe: the outcome is `error`) or a reason (nothing
        was there to test, e.g. every MX address is private: `skipped`). The facts stay on
        the outcome either way, for the checks and renderers that read them. None: judged."""
        return None

    @classmethod
    def skipped_by_rule(
        cls, domain: str, outcomes: Mapping[CheckId, CheckOutcome]
    ) -> tuple[Any, str] | None:
        """The facts and skip reason of this check when, under the default options, the
        outcomes of the checks it depends on leave it nothing to do (every MX address
        refused by the probe target rule); None when they do not say. A results line
        leaves out a skipped outcome that is this one (report/line5.py)."""
        return None

    @classmethod
    @abstractmethod
    def summary(cls, result: ResultT | None) -> str:
        """One line for the report's row of this check: the record itself where there is
        one, else what was found. `result` is None only for outcomes built by hand."""

    @classmethod
    def record_ttl(cls, result: ResultT | None) -> int | None:
        """The TTL the record `summary` shows was answered with; None when it shows none."""
        return None

    @classmethod
    def whole_record(cls, result: ResultT | None) -> str | None:
        """The record `summary` shows, uncut (a page's table cell wraps it where the one-line
        summary cuts it for a terminal); None when the summary shows no single record."""
        return None
