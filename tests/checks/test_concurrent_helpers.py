"""checks/concurrent.py and RunMemo.get_many: same results as asyncio.gather, fewer tasks."""

from __future__ import annotations

import asyncio

import pytest

from mailauth_audit.checks.base import RunMemo
from mailauth_audit.checks.concurrent import gather, settle


async def _value(v: int, delay: float = 0.0) -> int:
    await asyncio.sleep(delay)
    return v


async def _boom(delay: float = 0.0) -> int:
    await asyncio.sleep(delay)
    raise ValueError("boom")


@pytest.mark.parametrize("delays", [[], [0.0], [0.02, 0.0], [0.0, 0.02, 0.01], [0.01] * 5])
def test_gather_returns_results_in_the_order_given(delays: list[float]) -> None:
    async def main() -> list[int]:
        return await gather([_value(i, d) for i, d in enumerate(delays)])

    assert asyncio.run(main()) == list(range(len(delays)))


def test_gather_runs_concurrently() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await gather([_value(i, 0.1) for i in range(5)])
        return loop.time() - start

    assert asyncio.run(main()) < 0.3  # five 0.1 s waits, not 0.5 s


def test_gather_cancels_the_others_on_the_first_exception() -> None:
    finished: list[int] = []

    async def slow(i: int) -> int:
        await asyncio.sleep(0.2)
        finished.append(i)
        return i

    async def main() -> None:
        with pytest.raises(ValueError, match="boom"):
            await gather([slow(0), slow(1), _boom(0.01)])
        await asyncio.sleep(0.3)

    asyncio.run(main())
    assert finished == []


def test_settle_turns_exceptions_into_values_but_not_cancellation() -> None:
    async def main() -> list[int | Exception]:
        return await gather([settle(_value(1)), settle(_boom()), settle(_value(3, 0.01))])

    got = asyncio.run(main())
    assert got[0] == 1 and got[2] == 3
    assert isinstance(got[1], ValueError)

    async def cancelled() -> None:
        task = asyncio.ensure_future(settle(_value(1, 1.0)))
        await asyncio.sleep(0)
        task.cancel()
        await task

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(cancelled())


def test_get_many_computes_each_key_once_and_keeps_the_order() -> None:
    calls: list[str] = []

    def compute(key: str, delay: float) -> object:
        async def run() -> str:
            calls.append(key)
            await asyncio.sleep(delay)
            return key.upper()

        return run

    async def main() -> tuple[list[str], list[str]]:
        memo = RunMemo()
        first = await memo.get_many([("ns", k, compute(k, 0.01)) for k in ("a", "b")])
        # "a" is known now; "c" is new and asked twice in one batch and once on the side
        second, side = await asyncio.gather(
            memo.get_many([("ns", k, compute(k, 0.02)) for k in ("c", "a", "c")]),
            memo.get_or_compute("ns", "c", compute("c", 0.0)),  # type: ignore[arg-type]
        )
        assert side == "C"
        return first, second

    first, second = asyncio.run(main())
    assert first == ["A", "B"]
    assert second == ["C", "A", "C"]
    assert sorted(calls) == ["a", "b", "c"]


def test_get_many_propagates_a_failure_and_caches_nothing_for_it() -> None:
    async def main() -> int:
        memo = RunMemo()
        with pytest.raises(ValueError):
            await memo.get_many([("ns", "x", _boom), ("ns", "y", lambda: _value(2))])
        return memo.size

    assert asyncio.run(main()) <= 1  # "y" may or may not have finished; "x" never cached
