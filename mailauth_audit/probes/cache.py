"""Shared probing for a whole run: a hosted provider's MX, named by thousands of domains, is
connected to once, and no address gets more than a few connections at a time.

- `AddressLimiter`: a semaphore per IP address, created on first use and dropped when idle,
  so a run over a million addresses keeps only the busy ones.
- `ProbeCache`: results keyed by (host, port, address) (plus the path for HTTPS). Identical
  probes in flight are coalesced: one connection, every asker gets its result or the very
  same error. A `ProbeError` is remembered like a result: a server that timed out or answered
  421 is not asked again by the next 9,999 domains (that would only be slower and, against a
  rate limit, worse). Other exceptions (bugs) and cancellations are not remembered.
  A waiter that is cancelled does not cancel the others; the probe is cancelled only when
  nobody waits for it any more. At most `max_entries` outcomes are kept, least recently used
  evicted first.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..errors import ProbeError

__all__ = ["AddressLimiter", "ProbeCache", "ProbeCacheStats"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class AddressLimiter:
    """At most `per_address` concurrent connections to one address."""

    def __init__(self, per_address: int) -> None:
        if per_address < 1:
            raise ValueError("per_address must be at least 1")
        self.per_address = per_address
        self._slots: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}
        self._holding: dict[str, int] = {}  # connections open now, per address
        # the most connections ever open to one address at once: what politeness promises,
        # seen from our side (a server's own count lags behind our closes)
        self.peak_per_address = 0

    def __len__(self) -> int:
        return len(self._slots)

    @asynccontextmanager
    async def slot(self, address: str) -> AsyncIterator[None]:
        entry = self._slots.get(address)
        if entry is None:
            entry = self._slots[address] = (asyncio.Semaphore(self.per_address), [0])
        semaphore, users = entry
        users[0] += 1
        try:
            async with semaphore:
                held = self._holding[address] = self._holding.get(address, 0) + 1
                self.peak_per_address = max(self.peak_per_address, held)
                try:
                    yield
                finally:
                    self._holding[address] -= 1
                    if not self._holding[address]:
                        del self._holding[address]
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._slots[address]


@dataclass
class ProbeCacheStats:
    probes: int = 0  # probes started (connections attempted)
    hits: int = 0  # answered from a finished probe
    coalesced: int = 0  # joined a probe already in flight
    errors: int = 0  # probes that ended in a ProbeError (remembered)
    evictions: int = 0


@dataclass(frozen=True)
class _Outcome(Generic[V]):
    value: V | None
    error: ProbeError | None


class ProbeCache(Generic[K, V]):
    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.stats = ProbeCacheStats()
        self._done: OrderedDict[K, _Outcome[V]] = OrderedDict()
        self._inflight: dict[K, tuple[asyncio.Task[V], list[int]]] = {}

    def __len__(self) -> int:
        return len(self._done)

    async def get(self, key: K, probe: Callable[[], Awaitable[V]]) -> V:
        outcome = self._done.get(key)
        if outcome is not None:
            self._done.move_to_end(key)
            self.stats.hits += 1
            return self._unwrap(outcome)
        flight = self._inflight.get(key)
        if flight is None:
            task = asyncio.get_running_loop().create_task(_call(probe))
            flight = self._inflight[key] = (task, [0])
            task.add_done_callback(lambda t: self._land(key, t))
            self.stats.probes += 1
        else:
            self.stats.coalesced += 1
        task, waiters = flight
        waiters[0] += 1
        try:
            # shield: one waiter's cancellation must not cancel the probe the others wait for
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if waiters[0] == 1 and not task.done():
                # nobody else waits: stop the probe, and let the next asker start afresh
                if self._inflight.get(key) is flight:
                    del self._inflight[key]
                task.cancel()
            raise
        finally:
            waiters[0] -= 1

    @staticmethod
    def _unwrap(outcome: _Outcome[V]) -> V:
        if outcome.error is not None:
            # the same instance for every asker; its traceback restarts here instead of
            # growing with each re-raise over a long run
            raise outcome.error.with_traceback(None)
        return outcome.value  # type: ignore[return-value]

    def _land(self, key: K, task: asyncio.Task[V]) -> None:
        if self._inflight.get(key, (None,))[0] is task:
            del self._inflight[key]
        if task.cancelled():
            return
        exc = task.exception()  # retrieved: no "never retrieved" noise without waiters
        if exc is None:
            outcome: _Outcome[V] = _Outcome(task.result(), None)
        elif isinstance(exc, ProbeError):
            self.stats.errors += 1
            outcome = _Outcome(None, exc)
        else:
            return
        self._done[key] = outcome
        self._done.move_to_end(key)
        while len(self._done) > self.max_entries:
            self._done.popitem(last=False)
            self.stats.evictions += 1


async def _call(probe: Callable[[], Awaitable[V]]) -> V:
    return await probe()
