"""Run the `receive` inbox in a background thread for synchronous tests."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from mailauth_audit.messages.receive import ReceivedReport, ReceiveOptions, serve
from mailauth_audit.resolver.base import Resolver


class InboxThread:
    """Starts `serve` on its own loop in a thread; `stop()` sets the stop event and joins."""

    def __init__(self, resolver: Resolver, options: ReceiveOptions) -> None:
        self.resolver = resolver
        self.options = options
        self.address: tuple[str, int] | None = None
        self.reports: list[ReceivedReport] = []
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()

            def listening(address: tuple[str, int]) -> None:
                self.address = address
                self._ready.set()

            await serve(
                "127.0.0.1",
                0,
                self.resolver,
                self.options,
                self._stop,
                listening,
                self.reports.append,
            )

        try:
            asyncio.run(main())
        except BaseException as exc:  # surfaced by start()/stop()
            self._error = exc
            self._ready.set()

    def start(self) -> InboxThread:
        self._thread.start()
        assert self._ready.wait(10), "inbox did not start"
        if self._error:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)
        assert not self._thread.is_alive(), "inbox did not stop"
        if self._error:
            raise self._error

    @property
    def port(self) -> int:
        assert self.address is not None
        return self.address[1]


def report_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
