"""Reading SMTP replies from a server that is not trusted to finish them.

smtplib bounds each read by the socket timeout, not a reply: a server that keeps sending
continuation lines grows the reply without end, and one that drips a byte just inside the
timeout never lets a reply finish. Here a reply has caps (lines and bytes, from
`SmtpSendLimits`) and a deadline: the earliest of the reply's own timeout, the attempt's and
the whole send's. A `Watchdog` shuts the socket at the attempt's deadline, which also bounds
what is not a reply read (the TLS handshake, sending the message to a server that does not
read it).

The line grammar is smtplib's (RFC 5321 §4.2: "NNN-" continues, "NNN " or "NNN" ends).
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..options import SmtpSendLimits

__all__ = [
    "DeadlinePassed",
    "Deadlines",
    "ReplyReader",
    "ReplyTooLarge",
    "TotalDeadlinePassed",
    "Watchdog",
]

_CHUNK = 4096


class ReplyTooLarge(smtplib.SMTPException):
    """The server's reply went past a cap: it is refused, not read to the end."""


class DeadlinePassed(smtplib.SMTPException):
    """A reply or the attempt did not finish in time."""


class TotalDeadlinePassed(DeadlinePassed):
    """The whole send ran out of time: no further attempt is started."""


@dataclass(frozen=True)
class Deadlines:
    """Absolute clock readings by which things must be done, with what to say if not."""

    clock: Callable[[], float]
    limits: SmtpSendLimits
    attempt_end: float
    total_end: float

    @classmethod
    def for_attempt(
        cls, clock: Callable[[], float], limits: SmtpSendLimits, total_end: float
    ) -> Deadlines:
        return cls(clock, limits, clock() + limits.attempt_timeout, total_end)

    def reply(self) -> tuple[float, DeadlinePassed]:
        """When the next reply must be complete, and the error if it is not."""
        lim = self.limits
        return min(
            (self.clock() + lim.reply_timeout, self.reply_error()),
            (self.attempt_end, self.attempt_error()),
            (self.total_end, total_error(lim)),
            key=lambda pair: pair[0],
        )

    def reply_error(self) -> DeadlinePassed:
        t = self.limits.reply_timeout
        return DeadlinePassed(f"no complete reply within {t:g} s (--timeout)")

    def attempt_error(self) -> DeadlinePassed:
        t = self.limits.attempt_timeout
        if self.total_end <= self.attempt_end:
            return total_error(self.limits)
        return DeadlinePassed(f"attempt not finished within {t:g} s (--attempt-timeout)")

    def remaining(self) -> float:
        """Seconds until the attempt (or the whole send) must end."""
        return min(self.attempt_end, self.total_end) - self.clock()


def total_error(limits: SmtpSendLimits) -> TotalDeadlinePassed:
    t = limits.total_timeout
    return TotalDeadlinePassed(f"send not finished within {t:g} s (--total-timeout)")


class ReplyReader:
    """Reads replies off one connection, within the caps and the deadline of each."""

    def __init__(self, deadlines: Deadlines) -> None:
        self.deadlines = deadlines
        self._sock: socket.socket | None = None
        self._buffer = bytearray()

    def read(self, sock: socket.socket) -> tuple[int, bytes]:
        """(code, lines joined with "\\n") as smtplib.getreply returns them; code -1 for a
        line that does not start with three digits."""
        if sock is not self._sock:
            # a new socket (after STARTTLS): nothing read in clear may be taken as its reply
            self._sock, self._buffer = sock, bytearray()
        end, late = self.deadlines.reply()
        limits = self.deadlines.limits
        lines: list[bytes] = []
        size = 0
        previous_timeout = sock.gettimeout()
        try:
            while True:
                if len(lines) == limits.max_reply_lines:
                    raise ReplyTooLarge(f"server reply exceeded {limits.max_reply_lines} lines")
                line = self._line(sock, end, late, limits.max_reply_bytes - size)
                size += len(line)
                lines.append(line[4:].strip(b" \t\r\n"))
                try:
                    code = int(line[:3])
                except ValueError:
                    return -1, b"\n".join(lines)
                if line[3:4] != b"-":
                    return code, b"\n".join(lines)
        finally:
            with contextlib.suppress(OSError):
                sock.settimeout(previous_timeout)

    def _line(self, sock: socket.socket, end: float, late: DeadlinePassed, room: int) -> bytes:
        """One line (with its end) from the buffer, reading more while there is room."""
        clock = self.deadlines.clock
        while True:
            newline = self._buffer.find(b"\n", 0, room)
            if newline >= 0:
                line = bytes(self._buffer[: newline + 1])
                del self._buffer[: newline + 1]
                return line
            if len(self._buffer) >= room:
                cap = self.deadlines.limits.max_reply_bytes
                raise ReplyTooLarge(f"server reply exceeded {cap} bytes")
            remaining = end - clock()
            if remaining <= 0:
                raise late
            try:
                sock.settimeout(remaining)
                chunk = sock.recv(_CHUNK)
            except TimeoutError:
                raise late from None
            except OSError as exc:
                if clock() >= end:
                    raise late from None
                raise smtplib.SMTPServerDisconnected(
                    f"Connection unexpectedly closed: {exc}"
                ) from exc
            if not chunk:
                if clock() >= end:  # the watchdog shut the socket
                    raise late
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            self._buffer += chunk


class Watchdog:
    """Shuts the connection down when the attempt's time is up, whatever it is blocked in.

    It keeps its own duplicate of the TCP socket's descriptor: shutdown acts on the
    connection, not the descriptor, so this reaches the connection even while a TLS wrapper
    has taken the original over (during a handshake), and never a descriptor since reused.
    """

    def __init__(self, seconds: float) -> None:
        self.fired = threading.Event()
        self._lock = threading.Lock()
        self._guard: socket.socket | None = None
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True

    def guard(self, sock: socket.socket) -> None:
        with self._lock:
            if self._guard is not None:
                self._guard.close()
            self._guard = sock.dup()
            if self.fired.is_set():
                self._shutdown()

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            if self._guard is not None:
                self._guard.close()
                self._guard = None

    def _fire(self) -> None:
        with self._lock:
            self.fired.set()
            self._shutdown()

    def _shutdown(self) -> None:
        if self._guard is None:
            return
        with contextlib.suppress(OSError):
            self._guard.shutdown(socket.SHUT_RDWR)
