"""A cap on questions per second, to be gentle with a shared recursive resolver.

Placed under the run cache (`CachingResolver(RateLimitedResolver(WireResolver(...)))`) so
only questions that actually go upstream are paced; answers from the cache are free.
"""

from __future__ import annotations

import asyncio

from .base import Answer, Resolver, RRType

__all__ = ["RateLimitedResolver"]


class RateLimitedResolver:
    """Starts at most `queries_per_second` upstream questions per second, evenly spaced
    (each gets the next free slot on a schedule, so there are no bursts to absorb)."""

    def __init__(self, inner: Resolver, queries_per_second: float) -> None:
        if queries_per_second <= 0:
            raise ValueError("queries_per_second must be positive")
        self.inner = inner
        self.queries_per_second = queries_per_second
        self._interval = 1.0 / queries_per_second
        self._next = 0.0

    async def resolve(
        self,
        name: str,
        rdtype: RRType,
        *,
        dnssec_ok: bool = False,
        checking_disabled: bool = False,
    ) -> Answer:
        now = asyncio.get_running_loop().time()
        slot = max(self._next, now)
        self._next = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)
        if dnssec_ok or checking_disabled:
            return await self.inner.resolve(
                name, rdtype, dnssec_ok=dnssec_ok, checking_disabled=checking_disabled
            )
        return await self.inner.resolve(name, rdtype)

    async def aclose(self) -> None:
        await self.inner.aclose()
