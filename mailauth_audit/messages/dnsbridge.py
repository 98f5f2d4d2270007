"""Let synchronous verifiers (dkimpy, pyspf) ask DNS through our async resolver.

dkimpy and pyspf are blocking libraries that want a function `name -> records`. Verification
runs them in a worker thread (`asyncio.to_thread`), and this bridge submits each question to
the event loop that owns the resolver (`run_coroutine_threadsafe`). So every lookup goes
through the same resolver the domain audit uses: `--nameserver`, `--zone-file`, the run
cache and the query counter all apply, and nothing ever reads /etc/resolv.conf behind our back.
"""

from __future__ import annotations

import asyncio
import concurrent.futures

from ..errors import DnsTimeout
from ..resolver.base import Answer, Resolver, RRType

__all__ = ["SyncDns"]


class SyncDns:
    """Blocking `resolve` for code running in a worker thread; the loop stays in charge."""

    def __init__(
        self, resolver: Resolver, loop: asyncio.AbstractEventLoop, timeout: float = 30.0
    ) -> None:
        self._resolver = resolver
        self._loop = loop
        self._timeout = timeout  # a bound on one question, on top of the resolver's own
        self.queries = 0

    def resolve(self, name: str, rdtype: RRType) -> Answer:
        """Raises the resolver's ResolverErrors unchanged (DnsTimeout when the bound passes)."""
        self.queries += 1
        future = asyncio.run_coroutine_threadsafe(self._resolver.resolve(name, rdtype), self._loop)
        try:
            return future.result(self._timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise DnsTimeout(name, rdtype.name, "no answer within the verification bound") from None

    def txt(self, name: str) -> list[bytes]:
        """TXT records at `name`, each record's strings joined (RFC 6376 §3.6.2.2)."""
        return [b"".join(r.strings) for r in self.resolve(name, RRType.TXT).txt()]
