"""A loopback DNS server that fails chosen names and forwards every other question to nsd.

Real outages are rarely total: one zone's servers answer while `_dmarc` lookups SERVFAIL or
are REFUSED. This server relays each UDP query to the upstream (nsd serving the fixture zone)
and its reply back, except that a query whose name contains `needle` gets `rcode` at once.
"""

from __future__ import annotations

import select
import socket
import threading

import dns.flags
import dns.message
import dns.rcode


class PartialFailureServer:
    """UDP only: the fixture zone's answers are small enough never to be truncated."""

    def __init__(self, upstream: tuple[str, int], needle: str, rcode: int) -> None:
        self.upstream = upstream
        self.needle = needle.lower()
        self.rcode = rcode
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.failed = 0  # queries answered with `rcode`
        self.forwarded = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def nameserver(self) -> str:
        host, port = self.udp.getsockname()
        return f"{host}:{port}"

    def start(self) -> PartialFailureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.udp.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.udp], [], [], 0.05)
            if not ready:
                continue
            data, peer = self.udp.recvfrom(65535)
            reply = self._reply(data)
            if reply is not None:
                self.udp.sendto(reply, peer)

    def _reply(self, data: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(data)
        except Exception:  # not our concern here: a resolver under test never sends garbage
            return None
        name = query.question[0].name.to_text().lower() if query.question else ""
        if self.needle in name:
            self.failed += 1
            reply = dns.message.make_response(query)
            reply.set_rcode(self.rcode)
            reply.flags |= dns.flags.AA
            return reply.to_wire()  # type: ignore[no-any-return]
        self.forwarded += 1
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
            up.settimeout(5)
            up.sendto(data, self.upstream)
            try:
                return up.recvfrom(65535)[0]
            except TimeoutError:
                return None


SERVFAIL = dns.rcode.SERVFAIL
REFUSED = dns.rcode.REFUSED
