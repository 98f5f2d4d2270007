"""Which domain caused which DNS queries, when every domain shares one cache.

The engine wraps each domain's checks in `count_queries()`; `CachingResolver` calls
`note_upstream_query()` each time it has to ask upstream (a cache miss that is not coalesced
with a query already in flight). Tasks started inside the block copy the context, so they
all count into the same counter::

    with count_queries() as counter:
        await run_checks(domain)          # TaskGroups inside are fine
    report.dns_queries = counter.queries  # upstream questions this domain caused

Answers served from the cache, or coalesced with another domain's identical question, cost
this domain nothing and are not counted. Blocks may nest; an outer counter also counts what
its inner blocks count. Outside any block, `note_upstream_query()` does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["QueryCounter", "count_queries", "current_counter", "note_upstream_query"]


@dataclass(eq=False)
class QueryCounter:
    """Mutable on purpose: shared by every task of one domain through the context."""

    queries: int = 0
    parent: QueryCounter | None = None


_CURRENT: ContextVar[QueryCounter | None] = ContextVar("mailauth_query_counter", default=None)


@contextmanager
def count_queries() -> Iterator[QueryCounter]:
    """Count the upstream queries made in this block (and in tasks it starts)."""
    counter = QueryCounter(parent=_CURRENT.get())
    token = _CURRENT.set(counter)
    try:
        yield counter
    finally:
        _CURRENT.reset(token)


def current_counter() -> QueryCounter | None:
    return _CURRENT.get()


def note_upstream_query(n: int = 1) -> None:
    """Called by resolvers for each question sent upstream."""
    counter = _CURRENT.get()
    while counter is not None:
        counter.queries += n
        counter = counter.parent
