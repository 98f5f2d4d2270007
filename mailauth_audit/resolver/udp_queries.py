"""The UDP half of `WireResolver`: unpredictable query ids, one channel per server, and one
deadline queue and timer for every query in flight. Kept apart from the retry and fallback
logic of `wire.py`, which asks through `_send_udp` and awaits the future it returns."""

from __future__ import annotations

import asyncio
import os
from array import array
from collections import deque

from .codec import opt_record, query_packet
from .transport import ServerUnreachable, Slots, UdpChannel, WireStats, format_server

__all__ = ["QueryBits", "UdpQueries"]

_ID_POOL_SIZE = 4096  # query ids drawn from os.urandom this many at a time

# how a query differs from the default one: (DO bit, CD bit); None for neither, the usual case
QueryBits = tuple[bool, bool] | None


class UdpQueries:
    """Queries on the wire to `nameservers`, each answered or timed out after `timeout`
    seconds; at most `max_in_flight` at once (the semaphore the caller acquires)."""

    def __init__(
        self,
        nameservers: tuple[tuple[str, int], ...],
        *,
        timeout: float,
        max_in_flight: int,
        edns_payload: int,
    ) -> None:
        self.nameservers = nameservers
        self.timeout = timeout
        self.max_in_flight = max_in_flight
        self.edns_payload = edns_payload
        self.stats = WireStats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._channels: dict[int, UdpChannel] = {}
        self._deadlines: deque[tuple[float, asyncio.Future[bytes]]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._semaphore: Slots | None = None
        self._ids: set[int] = set()
        self._id_pool = array("H")
        self._opt = opt_record(edns_payload)
        self._opt_do = opt_record(edns_payload, dnssec_ok=True)

    async def aclose(self) -> None:
        channels, self._channels = self._channels, {}
        for ch in channels.values():
            ch.close()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _new_id(self) -> int:
        """An unpredictable id (RFC 5452) not in flight. The ids come from the OS's CSPRNG
        4,096 at a time: one getrandom() per id was a measurable share of a bulk run."""
        ids = self._ids
        pool = self._id_pool
        while True:
            if not pool:
                pool.frombytes(os.urandom(2 * _ID_POOL_SIZE))
            qid = pool.pop()
            if qid not in ids:
                ids.add(qid)
                return qid

    # --- transports --------------------------------------------------------------------------

    def _bind_loop(self) -> None:
        """Sockets and the semaphore belong to one event loop; start afresh in a new one."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            for ch in self._channels.values():
                ch.close()
            self._loop = loop
            self._channels = {}
            self._ids = set()
            self._deadlines.clear()
            self._timer = None
            self._semaphore = Slots(self.max_in_flight)

    def _open_channel(self, index: int) -> UdpChannel:
        """The channel to this server, opened anew (the first query, or after a close)."""
        server = self.nameservers[index]
        assert self._loop is not None
        try:
            ch = UdpChannel(self._loop, server, self.stats)
        except OSError as exc:
            raise ServerUnreachable(f"cannot reach {format_server(server)}: {exc}") from None
        self._channels[index] = ch
        return ch

    def _send_udp(
        self, index: int, qid: int, question: bytes, edns: bool = True, bits: QueryBits = None
    ) -> tuple[UdpChannel, asyncio.Future[bytes]]:
        """Send one query; the future gets the answer's bytes, or TimeoutError when its
        deadline passes. Not a coroutine: the caller awaits the future itself (one frame
        less per query) and calls `ch.forget(qid, fut)` when it stops waiting without an
        answer (an answer removes the query from the channel itself).

        Every attempt has the same timeout, so deadlines come in send order: one FIFO and
        one loop timer serve all queries, instead of a heap entry per query."""
        ch = self._channels.get(index)
        if ch is None or ch.closed:
            ch = self._open_channel(index)
        loop = self._loop
        assert loop is not None
        fut: asyncio.Future[bytes] = loop.create_future()
        ch.pending[qid] = (fut, question)
        try:
            if bits is None:
                ch.send(query_packet(qid.to_bytes(2, "big"), question, self._opt if edns else b""))
            else:
                opt = (self._opt_do if bits[0] else self._opt) if edns else b""
                ch.send(query_packet(qid.to_bytes(2, "big"), question, opt, bits[1]))
        except BaseException:
            ch.forget(qid, fut)
            raise
        self.stats.udp_sent += 1
        deadline = loop.time() + self.timeout
        self._deadlines.append((deadline, fut))
        if self._timer is None:
            self._timer = loop.call_at(deadline, self._expire_due)
        return ch, fut

    def _expire_due(self) -> None:
        assert self._loop is not None
        self._timer = None
        now = self._loop.time()
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            _, fut = deadlines.popleft()
            if not fut.done():
                fut.set_exception(TimeoutError())
        while deadlines and deadlines[0][1].done():
            deadlines.popleft()
        if deadlines:
            # wake no more often than every 1/20 of the timeout: expiries may be that late
            when = max(deadlines[0][0], now + self.timeout / 20)
            self._timer = self._loop.call_at(when, self._expire_due)
