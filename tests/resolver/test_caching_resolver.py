"""CachingResolver over a fake inner resolver: TTLs, negative answers, coalescing, errors,
the LRU bound, and per-domain query counting. Pure: no network."""

from __future__ import annotations

import asyncio

import pytest

from mailauth_audit.errors import DnsServfail, DnsTimeout
from mailauth_audit.resolver.base import Answer, Rcode, RRType
from mailauth_audit.resolver.caching import CachingResolver
from mailauth_audit.resolver.stats import count_queries, current_counter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeResolver:
    """Answers every name with NOERROR/`ttl`, or NXDOMAIN for names starting "nx", or raises
    what `errors` says; waits on `gate` (when set) so tests can hold queries in flight."""

    def __init__(self, ttl: int = 60, errors: dict[str, Exception] | None = None) -> None:
        self.ttl = ttl
        self.errors = errors or {}
        self.calls: list[tuple[str, RRType]] = []
        self.gate: asyncio.Event | None = None
        self.closed = False

    async def resolve(self, name: str, rdtype: RRType) -> Answer:
        self.calls.append((name, rdtype))
        if self.gate is not None:
            await self.gate.wait()
        if name in self.errors:
            raise self.errors[name]
        if name.startswith("nx"):
            return Answer(name, rdtype, Rcode.NXDOMAIN, (), (), self.ttl)
        return Answer(name, rdtype, Rcode.NOERROR, ("192.0.2.1",), (), self.ttl)

    async def aclose(self) -> None:
        self.closed = True


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_answer_is_kept_for_its_ttl() -> None:
    inner, clock = FakeResolver(ttl=60), FakeClock()
    cache = CachingResolver(inner, clock=clock)

    async def go() -> None:
        first = await cache.resolve("a.test", RRType.A)
        assert await cache.resolve("A.Test.", RRType.A) is first  # same question, normalised
        clock.now += 59.9
        await cache.resolve("a.test", RRType.A)
        assert len(inner.calls) == 1
        clock.now += 0.2  # 60.1 s after: expired
        await cache.resolve("a.test", RRType.A)
        assert len(inner.calls) == 2

    run(go())
    assert (cache.stats.upstream_queries, cache.stats.hits) == (2, 2)


def test_types_are_cached_separately() -> None:
    inner = FakeResolver()
    cache = CachingResolver(inner)

    async def go() -> None:
        await cache.resolve("a.test", RRType.A)
        await cache.resolve("a.test", RRType.AAAA)

    run(go())
    assert inner.calls == [("a.test", RRType.A), ("a.test", RRType.AAAA)]


def test_negative_answers_are_cached_and_zero_ttl_is_not() -> None:
    async def go(ttl: int) -> int:
        inner = FakeResolver(ttl=ttl)
        cache = CachingResolver(inner, clock=FakeClock())
        for _ in range(3):
            answer = await cache.resolve("nx.test", RRType.TXT)
            assert answer.nxdomain
        return len(inner.calls)

    assert run(go(30)) == 1
    assert run(go(0)) == 3


def test_ttl_is_capped_by_max_ttl() -> None:
    inner, clock = FakeResolver(ttl=10**6), FakeClock()
    cache = CachingResolver(inner, clock=clock, max_ttl=100)

    async def go() -> None:
        await cache.resolve("a.test", RRType.A)
        clock.now += 101
        await cache.resolve("a.test", RRType.A)

    run(go())
    assert len(inner.calls) == 2


def test_fifty_identical_questions_in_flight_make_one_upstream_query() -> None:
    inner = FakeResolver()
    cache = CachingResolver(inner)

    async def go() -> list[Answer]:
        inner.gate = asyncio.Event()
        tasks = [asyncio.create_task(cache.resolve("a.test", RRType.A)) for _ in range(50)]
        await asyncio.sleep(0)
        inner.gate.set()
        return await asyncio.gather(*tasks)

    answers = run(go())
    assert len(inner.calls) == 1
    assert all(a is answers[0] for a in answers)
    assert (cache.stats.upstream_queries, cache.stats.coalesced) == (1, 49)


def test_error_reaches_every_waiter_and_is_not_cached() -> None:
    error = DnsTimeout("a.test", "A", "no answer")
    inner = FakeResolver(errors={"a.test": error})
    cache = CachingResolver(inner)

    async def go() -> list[BaseException]:
        inner.gate = asyncio.Event()
        tasks = [asyncio.create_task(cache.resolve("a.test", RRType.A)) for _ in range(50)]
        await asyncio.sleep(0)
        inner.gate.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        # not cached: the next question goes upstream again
        inner.errors = {"a.test": DnsServfail("a.test", "A")}
        with pytest.raises(DnsServfail):
            await cache.resolve("a.test", RRType.A)
        return results  # type: ignore[return-value]

    results = run(go())
    assert all(r is error for r in results)
    assert len(inner.calls) == 2
    assert cache.stats.errors == 2
    assert len(cache) == 0


def test_cancelled_waiter_does_not_cancel_the_others() -> None:
    inner = FakeResolver()
    cache = CachingResolver(inner)

    async def go() -> Answer:
        inner.gate = asyncio.Event()
        leader = asyncio.create_task(cache.resolve("a.test", RRType.A))
        quitter = asyncio.create_task(cache.resolve("a.test", RRType.A))
        stayer = asyncio.create_task(cache.resolve("a.test", RRType.A))
        await asyncio.sleep(0)
        quitter.cancel()
        await asyncio.sleep(0)
        inner.gate.set()
        await leader
        return await stayer

    assert run(go()).records == ("192.0.2.1",)
    assert len(inner.calls) == 1


def test_cancelled_leader_hands_the_query_to_its_waiters() -> None:
    inner = FakeResolver()
    cache = CachingResolver(inner)

    async def go() -> Answer:
        inner.gate = asyncio.Event()
        leader = asyncio.create_task(cache.resolve("a.test", RRType.A))
        waiter = asyncio.create_task(cache.resolve("a.test", RRType.A))
        await asyncio.sleep(0)
        leader.cancel()
        await asyncio.sleep(0)
        inner.gate.set()
        with pytest.raises(asyncio.CancelledError):
            await leader
        return await waiter

    assert run(go()).records == ("192.0.2.1",)
    assert len(cache) == 1  # the handed-over answer was cached


def test_least_recently_used_entry_is_evicted() -> None:
    inner = FakeResolver()
    cache = CachingResolver(inner, max_entries=3)

    async def go() -> None:
        for name in ("a.test", "b.test", "c.test", "a.test", "d.test"):  # a refreshed; b out
            await cache.resolve(name, RRType.A)
        assert len(cache) == 3
        inner.calls.clear()
        await cache.resolve("a.test", RRType.A)
        await cache.resolve("b.test", RRType.A)

    run(go())
    assert inner.calls == [("b.test", RRType.A)]
    assert cache.stats.evictions == 2  # b, then c to make room for b again


def test_memory_stays_bounded_over_a_long_run() -> None:
    cache = CachingResolver(FakeResolver(), max_entries=1000)

    async def go() -> None:
        for i in range(20_000):
            await cache.resolve(f"d{i}.test", RRType.TXT)

    run(go())
    assert len(cache) == 1000


def test_upstream_queries_are_counted_per_domain_context() -> None:
    inner = FakeResolver()
    cache = CachingResolver(inner)

    async def domain(names: list[str]) -> int:
        with count_queries() as counter:
            async with asyncio.TaskGroup() as tg:  # checks run as tasks: they count too
                for name in names:
                    tg.create_task(cache.resolve(name, RRType.A))
        return counter.queries

    async def go() -> tuple[int, int, int]:
        first = await domain(["shared.test", "one.test", "one.test"])
        second = await domain(["shared.test", "two.test", "nx.two.test"])
        with count_queries() as outer:
            with count_queries() as inner_counter:
                await cache.resolve("three.test", RRType.A)
            await cache.resolve("four.test", RRType.A)
        assert inner_counter.queries == 1
        return first, second, outer.queries

    # one.test twice in flight: coalesced, counted once; shared.test cached for the second
    assert run(go()) == (2, 2, 2)
    assert current_counter() is None


def test_aclose_closes_the_inner_resolver() -> None:
    inner = FakeResolver()
    run(CachingResolver(inner).aclose())
    assert inner.closed
