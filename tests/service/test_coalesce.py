"""CoalescedReads: concurrent readers of a key share reads, and never get a stale answer."""

from __future__ import annotations

import asyncio

import pytest

from mailauth_audit.service.coalesce import CoalescedReads


class _Store:
    """A value readers ask for; each read takes until `release` is set, and is counted."""

    def __init__(self) -> None:
        self.value = 0
        self.reads = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def read(self, key: str) -> tuple[str, int]:
        self.reads += 1
        seen = self.value  # what the store holds when the read begins
        self.started.set()
        await self.release.wait()
        return key, seen


def test_hundreds_of_readers_share_two_reads_and_see_writes_made_before_they_asked() -> None:
    async def scenario() -> None:
        store = _Store()
        reads = CoalescedReads(store.read)
        # Given a read of "job" in progress (begun when the value was 0)
        first = asyncio.create_task(reads.get("job"))
        await store.started.wait()
        # When the value changes and 200 more readers ask while that read runs
        store.value = 1
        later = [asyncio.create_task(reads.get("job")) for _ in range(200)]
        await asyncio.sleep(0)
        store.release.set()
        # Then the first gets the old value, every later reader the new one (a read that
        # began after it asked), and the store saw two reads, not 201
        assert await first == ("job", 0)
        assert {await t for t in later} == {("job", 1)}
        assert store.reads == 2

    asyncio.run(scenario())


def test_an_error_reaches_every_waiter_and_the_next_read_is_fresh() -> None:
    async def scenario() -> None:
        calls = 0

        async def read(key: int) -> int:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.01)
            if calls == 1:
                raise OSError("store away")
            return key * 10

        reads: CoalescedReads[int, int] = CoalescedReads(read)
        results = await asyncio.gather(*(reads.get(4) for _ in range(5)), return_exceptions=True)
        assert all(isinstance(r, OSError) for r in results)
        assert await reads.get(4) == 40
        assert calls == 2

    asyncio.run(scenario())


def test_a_cancelled_reader_does_not_cancel_the_others() -> None:
    async def scenario() -> None:
        store = _Store()
        reads = CoalescedReads(store.read)
        gone = asyncio.create_task(reads.get("k"))
        stays = asyncio.create_task(reads.get("k"))
        await store.started.wait()
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        store.release.set()
        assert await stays == ("k", 0)
        assert store.reads == 1

    asyncio.run(scenario())
