"""Concurrent reads of the same key share one store read that began after each of them.

A status endpoint polled by hundreds of clients asks the store the same two questions
(this token? this job?) hundreds of times at once; answering each with its own read makes
the store and the thread pool the bottleneck, and latency grows with the clients. A plain
cache would answer from a read made before the request came (a revoked token accepted, a
finished job shown running). Here a request waits for the next read of its key, which
starts only after it arrived, once the read in progress (if any) is over: every answer is
as fresh as a read of its own, and the store sees at most two reads of a key at a time
(one running, one gathering its waiters), whatever the number of clients.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["CoalescedReads"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _retrieve(future: asyncio.Future[Any]) -> None:
    """A read whose every waiter went away: its exception is nobody's to log."""
    if not future.cancelled():
        future.exception()


class CoalescedReads(Generic[K, V]):
    def __init__(self, read: Callable[[K], Awaitable[V]]) -> None:
        self._read = read
        self._waiting: dict[K, asyncio.Future[V]] = {}  # the next read's waiters, by key
        self._running: dict[K, asyncio.Task[None]] = {}  # the read in progress, by key

    async def get(self, key: K) -> V:
        future = self._waiting.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            future.add_done_callback(_retrieve)
            self._waiting[key] = future
            running = self._running.get(key)
            if running is None or running.done():  # done: cancelled before it began
                self._start(key)
        # shielded: one caller cancelled (its client gone) does not cancel the others' read
        return await asyncio.shield(future)

    def _start(self, key: K) -> None:
        self._running[key] = asyncio.create_task(self._run(key))

    async def _run(self, key: K) -> None:
        # the waiters are taken when the read begins: whoever asked until now shares it
        future = self._waiting.pop(key)
        try:
            value = await self._read(key)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(value)
        finally:
            del self._running[key]
            if key in self._waiting:
                self._start(key)
