"""The run-wide probe cache and the per-address limit: counted at real servers, and the
cache's own rules (coalescing, errors remembered, cancellation, eviction) with fake probes."""

from __future__ import annotations

import asyncio

import pytest
from probe_servers import (
    LOOPBACK,
    MX_NAME,
    STS_NAME,
    LoopbackCA,
    counting_smtp_server,
    https_server,
)

from mailauth_audit.errors import ProbeTimeout
from mailauth_audit.options import ProbeLimits
from mailauth_audit.probes import (
    AddressLimiter,
    AsyncSmtpProber,
    CachingHttpsFetcher,
    CachingSmtpProber,
    HttpxHttpsFetcher,
    ProbeCache,
    SmtpProber,
)

LIMITS = ProbeLimits(smtp_banner_timeout=10, smtp_command_timeout=10, smtp_total_timeout=30)
N = 25


def test_concurrent_probes_of_one_mx_make_one_connection(probe_ca: LoopbackCA) -> None:
    with counting_smtp_server(probe_ca.server_context(MX_NAME)) as (port, counter):

        async def go() -> list[object]:
            prober = CachingSmtpProber(AsyncSmtpProber(LIMITS, ca_file=probe_ca.ca_file))
            assert isinstance(prober, SmtpProber)
            results = await asyncio.gather(
                *(prober.probe(MX_NAME, LOOPBACK, port) for _ in range(N))
            )
            again = await prober.probe(MX_NAME.upper() + ".", LOOPBACK, port)  # same key
            assert prober.stats.probes == 1 and prober.stats.coalesced == N - 1
            assert prober.stats.hits == 1
            return [*results, again]

        results = asyncio.run(go())
        assert counter.opened == 1
    assert all(r is results[0] for r in results)  # one frozen result shared by every asker


def test_same_address_other_names_wait_their_turn(probe_ca: LoopbackCA) -> None:
    # Given three MX names on one address, and the default of one connection per address
    with counting_smtp_server(probe_ca.server_context(MX_NAME)) as (port, counter):

        async def go() -> None:
            inner = AsyncSmtpProber(LIMITS, ca_file=probe_ca.ca_file)
            prober = CachingSmtpProber(inner)
            names = [f"mx{i}.example.test" for i in range(3)] * 4
            results = await asyncio.gather(*(prober.probe(n, LOOPBACK, port) for n in names))
            assert {r.host for r in results} == set(names)
            assert prober.stats.probes == 3
            # never two at once on the address (counted by the client: the server learns
            # of a closed connection a moment after the next one may have opened)
            assert inner.peak_open_connections == 1

        asyncio.run(go())
        assert counter.opened == 3  # one per (host, port, address)


def test_concurrent_fetches_of_one_url_make_one_request(probe_ca: LoopbackCA) -> None:
    with https_server(probe_ca.server_context(STS_NAME)) as server:

        async def go() -> None:
            fetcher = CachingHttpsFetcher(HttpxHttpsFetcher(ca_file=probe_ca.ca_file))
            try:
                path = "/.well-known/mta-sts.txt"
                results = await asyncio.gather(
                    *(fetcher.fetch(STS_NAME, LOOPBACK, path, server.port) for _ in range(N))
                )
                other = await fetcher.fetch(STS_NAME, LOOPBACK, "/html", server.port)
            finally:
                await fetcher.aclose()
            assert all(r is results[0] for r in results) and other.path == "/html"
            assert fetcher.stats.probes == 2 and fetcher.stats.coalesced == N - 1

        asyncio.run(go())
        assert server.counter.opened == 2 and len(server.requests) == 2


# --- the cache's rules, with fake probes ---------------------------------------------------


def _timeout() -> ProbeTimeout:
    return ProbeTimeout("mx", "192.0.2.1", 25, stage="banner", detail="test")


def test_probe_errors_are_remembered_for_the_run() -> None:
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise _timeout()

    async def go() -> None:
        cache: ProbeCache[str, str] = ProbeCache(10)
        for _ in range(3):
            with pytest.raises(ProbeTimeout):
                await cache.get("k", failing)
        assert calls == 1 and cache.stats.errors == 1 and cache.stats.hits == 2

    asyncio.run(go())


def test_bugs_and_cancellations_are_not_remembered() -> None:
    calls = 0

    async def buggy() -> str:
        nonlocal calls
        calls += 1
        raise KeyError("bug")

    async def go() -> None:
        cache: ProbeCache[str, str] = ProbeCache(10)
        for _ in range(2):
            with pytest.raises(KeyError):
                await cache.get("k", buggy)
        assert calls == 2 and len(cache) == 0

    asyncio.run(go())


def test_a_cancelled_waiter_does_not_cancel_the_others() -> None:
    release = asyncio.Event

    async def go() -> None:
        gate = release()

        async def slow() -> str:
            await gate.wait()
            return "result"

        cache: ProbeCache[str, str] = ProbeCache(10)
        first = asyncio.create_task(cache.get("k", slow))
        second = asyncio.create_task(cache.get("k", slow))
        await asyncio.sleep(0)
        first.cancel()
        await asyncio.sleep(0)
        gate.set()
        assert await second == "result"
        assert first.cancelled()
        assert cache.stats.probes == 1

    asyncio.run(go())


def test_the_probe_stops_when_nobody_waits() -> None:
    async def go() -> None:
        started = asyncio.Event()
        stopped = asyncio.Event()

        async def endless() -> str:
            started.set()
            try:
                await asyncio.sleep(3600)
            finally:
                stopped.set()
            return "never"

        cache: ProbeCache[str, str] = ProbeCache(10)
        task = asyncio.create_task(cache.get("k", endless))
        await started.wait()
        task.cancel()
        await asyncio.wait_for(stopped.wait(), 5)
        # the next asker starts afresh instead of inheriting a cancelled probe

        async def quick() -> str:
            return "fresh"

        assert await cache.get("k", quick) == "fresh"

    asyncio.run(go())


def test_least_recently_used_outcomes_are_evicted() -> None:
    async def go() -> None:
        cache: ProbeCache[int, int] = ProbeCache(2)
        for key in (1, 2, 1, 3):  # 1 used again before 3 arrives: 2 is the one to go

            async def value(k: int = key) -> int:
                return k

            await cache.get(key, value)
        assert len(cache) == 2 and cache.stats.evictions == 1
        assert cache.stats.hits == 1

    asyncio.run(go())


def test_address_limiter_forgets_idle_addresses() -> None:
    async def go() -> None:
        limiter = AddressLimiter(2)
        active = peak = 0

        async def use(address: str) -> None:
            nonlocal active, peak
            async with limiter.slot(address):
                active += 1
                peak = max(peak, active)
                await asyncio.sleep(0.01)
                active -= 1

        await asyncio.gather(*(use("192.0.2.1") for _ in range(6)))
        assert peak == 2 and len(limiter) == 0

    asyncio.run(go())
