"""Progress on stderr: done/total, rate, ETA and errors, redrawn in place on a terminal.

On a terminal the line is redrawn at most every `interval` seconds; when stderr is a file or
a pipe (cron, CI logs) a plain line is printed every `log_interval` seconds instead, so logs
stay readable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "format_duration"]


def format_duration(seconds: float) -> str:
    s = max(0, int(seconds + 0.5))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    def __init__(
        self,
        total: int,
        *,
        already_done: int = 0,
        stream: TextIO | None = None,
        enabled: bool = True,
        interval: float = 0.25,
        log_interval: float = 10.0,
    ) -> None:
        self.total = total
        self.already_done = already_done  # reported by an earlier, resumed run
        self.done = 0
        self.errors = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = enabled and self.stream.isatty()
        self.interval = interval if self.tty else log_interval
        self.started = time.monotonic()
        self._last = self.started  # the first line after one interval: a rate needs time

    def update(self, done: int, errors: int) -> None:
        self.done, self.errors = done, errors
        now = time.monotonic()
        if self.enabled and now - self._last >= self.interval:
            self._last = now
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        finished = self.already_done + self.done
        left = max(self.total - finished, 0)
        eta = format_duration(left / rate) if rate > 0 else "?"
        pct = 100.0 * finished / self.total if self.total else 100.0
        return (
            f"{finished}/{self.total} ({pct:.1f}%)  {rate:,.0f} domains/s  "
            f"ETA {eta}  errors {self.errors}  elapsed {format_duration(elapsed)}"
        )

    def _draw(self, now: float) -> None:
        text = self.line(now)
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if not self.enabled:
            return
        text = self.line()
        self.stream.write(("\r\x1b[K" + text + "\n") if self.tty else text + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """A line of its own, not overwritten by the next redraw."""
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        self.stream.flush()
