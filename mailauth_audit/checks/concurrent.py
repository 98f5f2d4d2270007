"""Running a few awaitables at once for one domain, with as few asyncio tasks as possible.

Why not plain asyncio.gather: it wraps every coroutine in a task (created, scheduled, stepped,
its done-callback scheduled again). A bulk run audits thousands of domains, each with a
handful of small fan-outs (A and AAAA of an MX host, one level of an SPF include tree), and
profiles showed that bookkeeping as a large share of the CPU. Here the last awaitable runs in
the caller's own task, a single one needs no task at all, and memo hits need none either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["gather", "settle"]


def _consume(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: an abandoned sibling's error is not logged as lost


async def gather(aws: Sequence[Coroutine[Any, Any, T] | Awaitable[T]]) -> list[T]:
    """Results in the order given, like asyncio.gather. On the first exception the other
    awaitables are cancelled (not left running, unlike asyncio.gather) and it propagates."""
    n = len(aws)
    if n == 0:
        return []
    if n == 1:
        return [await aws[0]]
    tasks = [asyncio.ensure_future(a) for a in aws[:-1]]
    try:
        last = await aws[-1]
        results = [await t for t in tasks]
    except BaseException:
        for t in tasks:
            if not t.done():
                t.cancel()
            t.add_done_callback(_consume)
        raise
    results.append(last)
    return results


async def settle(aw: Awaitable[T]) -> T | Exception:
    """The value, or the Exception it raised, as gather(..., return_exceptions=True) gives
    (cancellation and other BaseExceptions still propagate)."""
    try:
        return await aw
    except Exception as exc:
        return exc
