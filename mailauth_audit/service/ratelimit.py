"""Per-token rate limits: a token bucket per API token, in this process's memory.

Why in memory: a limit checked per request must not cost a database round trip, and the
bucket is a few floats per token. The price: each `serve` process keeps its own buckets, so
N processes behind one balancer let a token make N times `rate_per_second`; size the limit
per process. A bucket exists per token that made a request (tokens are few: they are
issued by the operator), so the table cannot be grown by callers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["TokenBuckets"]


class TokenBuckets:
    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # token id -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: int) -> float:
        """0 when the request may go ahead (one token taken), else the seconds until it may."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
