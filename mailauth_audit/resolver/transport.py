"""Getting a query to a nameserver and its answer back: UDP channels, TCP, slots in flight.

One connected UDP socket per nameserver (the kernel then drops datagrams from any other
source and reports ICMP port-unreachable back to us); an answer is accepted only when its
id AND its question match (`codec.matches_query`). TCP is one connection per question,
bounded as a whole by the attempt's timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections import deque
from dataclasses import dataclass

from .codec import matches_query

__all__ = [
    "ServerUnreachable",
    "Slots",
    "UdpChannel",
    "WireStats",
    "exchange_tcp",
    "format_server",
]

_U16 = struct.Struct("!H")


@dataclass
class WireStats:
    """Packets, not questions: retries, TCP fallbacks and CNAME re-queries each count."""

    udp_sent: int = 0
    tcp_sent: int = 0
    timeouts: int = 0
    truncated: int = 0
    ignored: int = 0  # datagrams whose id or question matched no query in flight
    cname_requeries: int = 0
    edns_fallbacks: int = 0  # queries asked again without EDNS after FORMERR
    extended_errors_dropped: int = 0  # EDE options past Limits.max_extended_errors, not kept


class Slots:
    """A FIFO limit on queries in flight that hands a freed slot straight to the next waiter.

    Why not asyncio.Semaphore: on Python 3.11 its `locked()` and `_wake_up_next()` scan every
    waiter, so with thousands of queued queries each release costs O(waiters); profiles of a
    bulk run showed it as the single hottest function. Here acquire and release are O(1).
    """

    __slots__ = ("free", "waiters")

    def __init__(self, size: int) -> None:
        self.free = size
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # the slot was handed to us just before we were cancelled
            raise  # a cancelled future stays queued; release() skips it

    def release(self) -> None:
        waiters = self.waiters
        while waiters:
            fut = waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot passes on: `free` is unchanged
                return
        self.free += 1


class ServerUnreachable(Exception):
    """ICMP port/host unreachable, or a send that failed: nothing answers at this address."""


class UdpChannel:
    """One connected, non-blocking UDP socket to one nameserver.

    Not an asyncio DatagramProtocol: asyncio's transport reads one datagram per turn of the
    event loop, and at thousands of answers per second the loop's turn cost more than the
    parsing. This reader drains every datagram waiting on the socket in one callback.

    `pending` maps the id of each query in flight to (the future its answer goes to, the
    question it asked): the sender adds the entry, the reader or `forget` removes it.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, server: tuple[str, int], stats: WireStats):
        host, port = server
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.sock.setblocking(False)
            with contextlib.suppress(OSError):  # capped by net.core.rmem_max; best effort
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
            self.sock.connect((host, port))  # UDP connect: no packet, just the peer filter
        except OSError:
            self.sock.close()
            raise
        self.loop = loop
        self.pending: dict[int, tuple[asyncio.Future[bytes], bytes]] = {}
        self.stats = stats
        self.closed = False
        loop.add_reader(self.sock.fileno(), self._readable)

    def send(self, data: bytes) -> None:
        try:
            self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            pass  # the socket buffer is full: as if the datagram were lost; the timer retries
        except OSError as exc:  # e.g. ECONNREFUSED left by an earlier ICMP error, ENETUNREACH
            raise ServerUnreachable(str(exc)) from None

    def _readable(self) -> None:
        recv = self.sock.recv
        pending = self.pending
        for _ in range(1024):  # bounded, so one busy socket cannot starve the loop
            try:
                data = recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # ICMP port/host unreachable: the kernel cannot say which query it was for,
                # so every query in flight here fails over to its next attempt
                self._fail_all(ServerUnreachable(str(exc)))
                return
            if len(data) < 12:
                self.stats.ignored += 1
                continue
            qid = (data[0] << 8) | data[1]
            entry = pending.get(qid)
            if entry is None or not matches_query(data, entry[1]):
                self.stats.ignored += 1
                continue
            del pending[qid]
            fut = entry[0]
            if not fut.done():
                fut.set_result(data)

    def forget(self, qid: int, fut: asyncio.Future[bytes]) -> None:
        """The query with this id and future is over (timed out or cancelled); the entry of
        an answered one went when its answer came."""
        entry = self.pending.get(qid)
        if entry is not None and entry[0] is fut:
            del self.pending[qid]

    def _fail_all(self, exc: Exception) -> None:
        pending, self.pending = self.pending, {}
        for fut, _question in pending.values():
            if not fut.done():
                fut.set_exception(exc)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if not self.loop.is_closed():
            self.loop.remove_reader(self.sock.fileno())
        self.sock.close()
        self._fail_all(ServerUnreachable("resolver closed"))


def format_server(server: tuple[str, int]) -> str:
    host, port = server
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def exchange_tcp(
    server: tuple[str, int], query: bytes, question: bytes, timeout: float, stats: WireStats
) -> bytes:
    """Send `query` over a new TCP connection; the bytes of the matching answer.

    Raises TimeoutError when no answer came within `timeout` (the whole exchange: connecting,
    sending, and reading however slowly the server drips its bytes), so the caller counts it
    as the timeout it is: on Python 3.11 TimeoutError is an OSError and must be told apart
    from the connection errors. Raises ServerUnreachable when nothing listens or the
    connection breaks."""
    host, port = server
    qid = query[:2]
    stats.tcp_sent += 1
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(_U16.pack(len(query)) + query)
            await writer.drain()
            while True:
                (length,) = _U16.unpack(await reader.readexactly(2))
                data = await reader.readexactly(length)
                if len(data) >= 12 and data[:2] == qid and matches_query(data, question):
                    return data
                stats.ignored += 1
    except TimeoutError:
        raise
    except (ConnectionRefusedError, ConnectionResetError, asyncio.IncompleteReadError) as exc:
        raise ServerUnreachable(f"TCP to {format_server(server)} failed: {exc}") from None
    except OSError as exc:
        raise ServerUnreachable(f"TCP to {format_server(server)}: {exc}") from None
    finally:
        if writer is not None:
            writer.close()
