"""What a check is: `collect` asks DNS and returns typed facts; `evaluate` judges them, purely.

Splitting the two lets saved facts be re-judged by a newer `evaluate` without asking DNS again,
and lets policy be tested without any resolver.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from ..model import CheckId, CheckOutcome, Finding
from ..options import AuditOptions
from ..resolver.base import Resolver

ResultT = TypeVar("ResultT")
T = TypeVar("T")


class RunMemo:
    """Work shared by every domain of one run (an SPF include used by 5,000 domains is parsed
    once). Lives on the Auditor, never in a module global, so two runs never share state."""

    def __init__(self, max_entries: int | None = None) -> None:
        # max_entries bounds a long bulk run's memory: the least recently used value goes
        # first (shared work is used again and again, so it stays). None: unbounded.
        self.max_entries = max_entries
        self._done: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._pending: dict[tuple[str, str], asyncio.Future[Any]] = {}

    @property
    def size(self) -> int:
        """Values kept (not __len__: an empty memo must stay truthy for `memo or RunMemo()`)."""
        return len(self._done)

    async def get_or_compute(
        self, namespace: str, key: str, compute: Callable[[], Awaitable[T]]
    ) -> T:
        k = (namespace, key)
        if k in self._done:
            if self.max_entries is not None:
                self._done.move_to_end(k)
            return self._done[k]
        pending = self._pending.get(k)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[k] = fut
        try:
            value = await compute()
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # mark retrieved: waiters re-raise it, nobody logs it twice
            raise
        else:
            self._done[k] = value
            if self.max_entries is not None and len(self._done) > self.max_entries:
                self._done.popitem(last=False)
            fut.set_result(value)
            return value
        finally:
            del self._pending[k]


@dataclass
class CheckContext:
    """Everything `collect` may use. Passed instead of threading nameservers and timeouts."""

    domain: str
    resolver: Resolver
    options: AuditOptions = field(default_factory=AuditOptions)
    memo: RunMemo = field(default_factory=RunMemo)


@dataclass(frozen=True)
class EvaluationContext:
    """Everything `evaluate` may use: no I/O, only values."""

    domain: str
    options: AuditOptions = field(default_factory=AuditOptions)
    # outcomes of the checks named in the check's `evaluate_after`, when they ran
    outcomes: Mapping[CheckId, CheckOutcome] = field(default_factory=dict)


class Check(ABC, Generic[ResultT]):
    id: ClassVar[CheckId]
    result_type: ClassVar[type]  # the frozen dataclass `collect` returns (for the JSON schema)
    evaluate_after: ClassVar[tuple[CheckId, ...]] = ()  # outcomes `evaluate` wants to see
    standard: ClassVar[str] = ""  # e.g. "RFC 7208"

    @abstractmethod
    async def collect(self, ctx: CheckContext) -> ResultT:
        """Ask DNS; return typed facts. Let ResolverErrors propagate: the engine maps them."""

    @abstractmethod
    def evaluate(self, facts: ResultT, ctx: EvaluationContext) -> list[Finding]:
        """Judge the facts. Pure: same facts in, same findings out."""
