"""One cache for the whole run: what 10,000 domains share (a provider's SPF include, its MX
hosts) is asked once.

- Answers, including NXDOMAIN and NODATA, are kept for their TTL (capped by `max_ttl`).
- Identical questions in flight are coalesced: one upstream query, every waiter gets its
  answer or the very same exception. A waiter that is cancelled does not cancel the others;
  if the task that sent the query is cancelled while others wait, the query goes on for them.
- Errors are never cached: the next identical question is asked again.
- At most `max_entries` answers are kept, least recently used evicted first, so a long run's
  memory stays flat.
- Each upstream question is counted into the current `count_queries()` block (see stats.py).
- A question with the DO or CD bit is a different question (its answer carries RRSIGs, or
  was not validated): it has its own entry, and the bits are passed on to the inner resolver.
  An answer is handed out as the inner resolver returned it: its flags, extended errors and
  answering server are those of the query that filled the entry.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from .base import Answer, Resolver, RRType, normalize_qname
from .stats import note_upstream_query

__all__ = ["DEFAULT_MAX_ENTRIES", "DEFAULT_MAX_TTL", "CacheStats", "CachingResolver"]

DEFAULT_MAX_ENTRIES = 250_000  # ~15 questions x 100,000 domains, minus what is shared
DEFAULT_MAX_TTL = 86_400

# (name, type) for the usual question; (name, type, dnssec_ok, checking_disabled) otherwise,
# so the usual key, and the inner resolver's usual call, stay as they were
_Key = tuple[str, RRType] | tuple[str, RRType, bool, bool]


@dataclass
class CacheStats:
    upstream_queries: int = 0  # questions passed to the inner resolver
    hits: int = 0  # answered from the cache
    coalesced: int = 0  # joined an identical question already in flight
    errors: int = 0  # upstream questions that ended in an exception
    evictions: int = 0  # entries dropped to respect max_entries


class _Flight:
    """A question in flight. Its future exists only once a second asker waits for it: most
    questions of a bulk run are asked once, and a future nobody awaits is pure cost. No
    __init__: the fields start as the class's own values, so making one (per upstream
    question) runs no Python code."""

    future: asyncio.Future[Answer] | None = None
    waiters = 0

    def join(self) -> asyncio.Future[Answer]:
        if self.future is None:
            self.future = asyncio.get_running_loop().create_future()
        self.waiters += 1
        return self.future


class CachingResolver:
    """Wraps any Resolver. `clock` (seconds, monotonic) is injectable for tests."""

    def __init__(
        self,
        inner: Resolver,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_ttl: int = DEFAULT_MAX_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.inner = inner
        self.max_entries = max_entries
        self.max_ttl = max_ttl
        self.stats = CacheStats()
        self._clock = clock
        self._cache: OrderedDict[_Key, tuple[float, Answer]] = OrderedDict()
        self._inflight: dict[_Key, _Flight] = {}

    def __len__(self) -> int:
        return len(self._cache)

    def clear(self) -> None:
        self._cache.clear()

    async def resolve(
        self,
        name: str,
        rdtype: RRType,
        *,
        dnssec_ok: bool = False,
        checking_disabled: bool = False,
    ) -> Answer:
        key: _Key = (normalize_qname(name), rdtype if type(rdtype) is RRType else RRType(rdtype))
        usual = not (dnssec_ok or checking_disabled)
        if not usual:
            key = (*key, dnssec_ok, checking_disabled)
        entry = self._cache.get(key)
        if entry is not None:
            if entry[0] > self._clock():
                self._cache.move_to_end(key)
                self.stats.hits += 1
                return entry[1]
            del self._cache[key]
        flight = self._inflight.get(key)
        if flight is not None:
            self.stats.coalesced += 1
            # shield: a waiter's cancellation must not cancel the shared future
            return await asyncio.shield(flight.join())
        # inline rather than a helper coroutine: one frame less on each query's way down and up
        flight = _Flight()
        self._inflight[key] = flight
        self.stats.upstream_queries += 1
        note_upstream_query()
        try:
            answer = await (self.inner.resolve(*key) if usual else self._upstream(key))
        except asyncio.CancelledError:
            if flight.waiters:  # others still want it: let the query finish for them
                task = asyncio.get_running_loop().create_task(self._upstream(key))
                task.add_done_callback(lambda t: self._land(key, flight, t))
            else:
                self._inflight.pop(key, None)
                if flight.future is not None:
                    flight.future.cancel()
            raise
        except Exception as exc:
            self._fail(key, flight, exc)
            raise
        self._succeed(key, flight, answer)
        return answer

    def _upstream(self, key: _Key) -> Coroutine[Any, Any, Answer]:
        if len(key) == 2:
            return self.inner.resolve(*key)
        name, rdtype, dnssec_ok, checking_disabled = key
        return self.inner.resolve(
            name, rdtype, dnssec_ok=dnssec_ok, checking_disabled=checking_disabled
        )

    def _land(self, key: _Key, flight: _Flight, task: asyncio.Task[Answer]) -> None:
        if task.cancelled():
            self._inflight.pop(key, None)
            if flight.future is not None:
                flight.future.cancel()
        elif (exc := task.exception()) is not None:
            self._fail(key, flight, exc)
        else:
            self._succeed(key, flight, task.result())

    def _fail(self, key: _Key, flight: _Flight, exc: BaseException) -> None:
        self.stats.errors += 1
        if self._inflight.get(key) is flight:
            del self._inflight[key]
        fut = flight.future
        if fut is not None and not fut.done():
            fut.set_exception(exc)
            fut.exception()  # retrieved: no "never retrieved" noise without waiters

    def _succeed(self, key: _Key, flight: _Flight, answer: Answer) -> None:
        if self._inflight.get(key) is flight:
            del self._inflight[key]
        fut = flight.future
        if fut is not None and not fut.done():
            fut.set_result(answer)
        ttl = min(answer.ttl, self.max_ttl)
        if ttl <= 0:
            return
        self._cache[key] = (self._clock() + ttl, answer)
        self._cache.move_to_end(key)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
            self.stats.evictions += 1

    async def aclose(self) -> None:
        await self.inner.aclose()
