"""The bounds `receive` puts on its SMTP clients, so that one client (or a thousand) cannot
keep the inbox from greeting the next one.

- `SessionCounter`: open sessions in all and per client address; a client over either cap
  is answered 421 at once and closed, which also gives its descriptor back.
- `LimitedSMTP` (aiosmtpd's `SMTP`): a whole-session time limit (the idle timer alone is
  reset by every NOOP), a cap on commands per session, and a line cap enforced as bytes
  arrive: a line longer than the limit drops the connection, where aiosmtpd would keep
  buffering a line without CRLF until the client stops.
- `InboxServer`: our own accept loop. asyncio's, at the descriptor limit, logs every failed
  accept() and multiplies its retries; this one pauses with back-off and logs one line per
  episode.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, cast

from aiosmtpd.smtp import SMTP

from ..options import ReceiveLimits

__all__ = ["InboxServer", "LimitedSMTP", "SessionCounter", "Throttle"]

log = logging.getLogger(__name__)
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_CLIENT_GONE = {errno.ECONNABORTED, errno.EPROTO, errno.EINTR, errno.EAGAIN}
LOG_INTERVAL = 60.0  # seconds between two log lines about the same kind of trouble


class Throttle:
    """At most one log line per `interval` for one kind of event, with the count since."""

    def __init__(self, interval: float = LOG_INTERVAL) -> None:
        self.interval = interval
        self._last = -interval
        self._suppressed = 0

    def warn(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            self._suppressed += 1
            return
        if self._suppressed:
            message += f" ({self._suppressed} more since the last such line)"
        self._last, self._suppressed = now, 0
        log.warning(message, *args)


class SessionCounter:
    """Open sessions, in all and per client address."""

    def __init__(self, max_total: int, max_per_address: int) -> None:
        self.max_total = max_total
        self.max_per_address = max_per_address
        self.total = 0
        self.per_address: Counter[str] = Counter()
        self.refused = 0
        self._throttle = Throttle()

    def open(self, address: str) -> str | None:
        """Count a new session, or say why it is refused (and count nothing)."""
        reason = None
        if self.total >= self.max_total:
            reason = f"too many connections ({self.max_total})"
        elif self.per_address[address] >= self.max_per_address:
            reason = f"too many connections from {address} ({self.max_per_address})"
        if reason is not None:
            self.refused += 1
            self._throttle.warn("refusing SMTP clients: %s", reason)
            return reason
        self.total += 1
        self.per_address[address] += 1
        return None

    def close(self, address: str) -> None:
        self.total -= 1
        self.per_address[address] -= 1
        if self.per_address[address] <= 0:
            del self.per_address[address]


class LimitedSMTP(SMTP):
    """aiosmtpd's SMTP with the session, command and line bounds of `ReceiveLimits`."""

    def __init__(
        self, handler: Any, *, counter: SessionCounter, limits: ReceiveLimits, **kwargs: Any
    ) -> None:
        super().__init__(handler, timeout=limits.idle_seconds, **kwargs)
        self._counter = counter
        self._limits = limits
        self._address: str | None = None  # set while this session is counted
        self._refused = False  # answered 421 before the session started
        self._dropped = False  # closed by a bound: ignore what still arrives
        self._line_bytes = 0  # bytes of the current line seen so far (no LF yet)
        self._commands = 0
        self._life: asyncio.TimerHandle | None = None
        for name, method in list(self._smtp_methods.items()):
            self._smtp_methods[name] = self._counted(method)

    def _counted(self, method: Callable[[Any], Awaitable[None]]) -> Callable[..., Any]:
        @functools.wraps(method)  # keeps aiosmtpd's __smtp_syntax__ for HELP
        async def counted(arg: Any) -> None:
            self._commands += 1
            if self._commands > self._limits.max_commands:
                self._drop(f"421 4.7.0 more than {self._limits.max_commands} commands; closing")
                return
            await method(arg)

        return counted

    def _drop(self, reply: str) -> None:
        if self._dropped:
            return
        self._dropped = True
        # aiosmtpd types it as the BaseTransport it was given; a stream's is a WriteTransport
        transport = cast("asyncio.WriteTransport | None", self.transport)
        if transport is not None and not transport.is_closing():
            transport.write(reply.encode("ascii") + b"\r\n")
            transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._original_transport is not None or self._address is not None:
            super().connection_made(transport)  # the same session, now over TLS
            return
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if peer else "?"
        reason = self._counter.open(address)
        if reason is not None:
            self._refused = True
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(f"421 4.7.0 {reason}; try again later\r\n".encode("ascii"))
            transport.close()
            return
        self._address = address
        super().connection_made(transport)
        self._life = self.loop.call_later(
            self._limits.max_session_seconds,
            self._drop,
            f"421 4.4.2 session longer than {self._limits.max_session_seconds:g} s; closing",
        )

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return
        if self._life is not None:
            self._life.cancel()
        if self._address is not None:
            self._counter.close(self._address)
            self._address = None
        super().connection_lost(error)

    def data_received(self, data: bytes) -> None:
        if self._refused or self._dropped:
            return
        if self._too_long(data):
            self._drop(f"500 5.5.6 line longer than {self._limits.max_line_bytes} bytes; closing")
            return
        super().data_received(data)

    def _too_long(self, data: bytes) -> bool:
        """Whether `data` ends or holds a line (LF counted) over the limit; keeps count of
        the unfinished last line across calls."""
        limit = self._limits.max_line_bytes
        first = data.find(b"\n")
        if first == -1:
            self._line_bytes += len(data)
            return self._line_bytes > limit
        last = data.rfind(b"\n")
        too_long = self._line_bytes + first + 1 > limit
        if not too_long and last != first:
            too_long = any(len(line) >= limit for line in data[first + 1 : last].split(b"\n"))
        self._line_bytes = len(data) - last - 1
        return too_long or self._line_bytes > limit

    def eof_received(self) -> bool | None:
        if self._refused or self._dropped:
            return False
        return super().eof_received()


class InboxServer:
    """Listening sockets with our own accept loops (see the module docstring); the part of
    `asyncio.Server` that `serve` uses."""

    def __init__(
        self,
        factory: Callable[[], LimitedSMTP],
        sockets: list[socket.socket],
        limits: ReceiveLimits,
    ) -> None:
        self._factory = factory
        self.sockets = sockets
        self._limits = limits
        self._sessions: set[LimitedSMTP] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._throttle = Throttle()

    @classmethod
    async def listen(
        cls, host: str, port: int, factory: Callable[[], LimitedSMTP], limits: ReceiveLimits
    ) -> InboxServer:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        sockets: list[socket.socket] = []
        try:
            for family, kind, proto, _name, address in dict.fromkeys(infos):
                sock = socket.socket(family, kind, proto)
                sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
                if port == 0:  # one free port for every address
                    port = sock.getsockname()[1]
                    address = (address[0], port, *address[2:])
                sock.listen(128)
                sock.setblocking(False)
        except OSError:
            for sock in sockets:
                sock.close()
            raise
        server = cls(factory, sockets, limits)
        server._tasks = [loop.create_task(server._accept(sock)) for sock in sockets]
        return server

    async def _accept(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        pause = 0.05
        while True:
            try:
                conn, _peer = await loop.sock_accept(sock)
            except OSError as exc:
                if exc.errno in _CLIENT_GONE:
                    continue  # the client gave up before we took it
                reason = "out of descriptors" if exc.errno in _OUT_OF_RESOURCES else "failed"
                self._throttle.warn(
                    "accept() %s (%s); pausing up to %.1f s between attempts",
                    reason,
                    exc.strerror or exc,
                    self._limits.accept_backoff_max,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, self._limits.accept_backoff_max)
                continue
            pause = 0.05
            try:
                _transport, protocol = await loop.connect_accepted_socket(self._factory, conn)
            except OSError:
                conn.close()
                continue
            self._track(protocol)

    def _track(self, protocol: LimitedSMTP) -> None:
        if protocol.transport is None or protocol.transport.is_closing():
            return
        self._sessions.add(protocol)
        closed = getattr(protocol, "_closed", None)  # StreamReaderProtocol's future
        if isinstance(closed, asyncio.Future):
            closed.add_done_callback(lambda _f: self._sessions.discard(protocol))

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for sock in self.sockets:
            sock.close()

    def close_clients(self) -> None:
        for protocol in list(self._sessions):
            if protocol.transport is not None:
                protocol.transport.close()

    async def wait_closed(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)
        while any(p.transport is not None for p in self._sessions):
            await asyncio.sleep(0.05)
