"""A threaded DNS server on loopback that answers slowly on purpose and counts every query.

nsd answers at once; an attacker's server answers just under the client's timeout, and the
name it is asked about is chosen by the record's author. This server answers from a small
table (name -> records), after a per-name delay, one thread per query so that slow answers
overlap the way they do on the Internet. It counts every question (UDP and TCP), and the
most questions it was working on at the same moment, so a test can assert both how much
work a hostile record caused and whether it was done concurrently.

Answers larger than the client's UDP size go out truncated (TC) and in full over TCP.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
from dnsservers import bind_udp_tcp_pair

__all__ = ["SlowDnsServer", "txt_rdata"]

Records = Mapping[str, Sequence[tuple[str, str]]]  # name -> [(type, rdata text)]


def txt_rdata(text: str) -> str:
    """TXT rdata in zone syntax: the text cut into quoted strings of at most 255 octets."""
    chunks = [text[i : i + 255] for i in range(0, max(len(text), 1), 255)]
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)


def _key(name: str) -> str:
    return name.lower().rstrip(".")


class SlowDnsServer:
    """Answers `records` after `delay(name)` seconds. A name that is not in `records` and
    not answered by `fallback` is NXDOMAIN (with `origin`'s SOA for the negative TTL); a name
    in `rcodes` gets that rcode (SERVFAIL, REFUSED) and no records.

    `fallback(name, type)` may return records for generated names (thousands of them need
    no table); `delay` is seconds for every name, or a function of the lowercase name."""

    def __init__(
        self,
        records: Records | None = None,
        *,
        delay: float | Callable[[str], float] = 0.0,
        fallback: Callable[[str, str], Iterable[tuple[str, str]] | None] | None = None,
        origin: str = "test",
        host: str = "127.0.0.1",
        rcodes: Mapping[str, int] | None = None,
    ) -> None:
        self.records = {_key(k): list(v) for k, v in (records or {}).items()}
        self._delay = delay
        self.fallback = fallback
        self.origin = _key(origin)
        self.host = host
        # name -> rcode answered instead of records (dns.rcode.SERVFAIL, REFUSED, ...)
        self.rcodes = {_key(k): v for k, v in (rcodes or {}).items()}
        self.queries: Counter[tuple[str, str]] = Counter()  # (name, type) -> times asked
        self.in_flight = 0
        self.max_in_flight = 0  # the most questions being answered at the same moment
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.udp, self.tcp = bind_udp_tcp_pair(host, backlog=64)
        self.port: int = self.udp.getsockname()[1]
        self._threads: list[threading.Thread] = []

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def nameserver(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def total_queries(self) -> int:
        with self._lock:
            return sum(self.queries.values())

    def count(self, predicate: Callable[[str, str], bool]) -> int:
        """Questions asked whose (name, type) satisfy `predicate`."""
        with self._lock:
            return sum(n for (name, rdtype), n in self.queries.items() if predicate(name, rdtype))

    def start(self) -> SlowDnsServer:
        for target in (self._serve_udp, self._serve_tcp):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(5)
        self.udp.close()
        self.tcp.close()

    def __enter__(self) -> SlowDnsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- answering --------------------------------------------------------------------------

    def delay(self, name: str) -> float:
        return self._delay(name) if callable(self._delay) else self._delay

    def _lookup(self, name: str, rdtype: str) -> tuple[bool, list[tuple[str, str]]]:
        """(name exists, its records of `rdtype`)."""
        table = self.records.get(name)
        extra = list(self.fallback(name, rdtype) or ()) if self.fallback else []
        if table is None and not extra:
            return False, []
        return True, [r for r in (table or []) if r[0] == rdtype] + extra

    def respond(self, query: dns.message.Message) -> dns.message.Message:
        question = query.question[0]
        name = _key(question.name.to_text())
        rdtype = dns.rdatatype.to_text(question.rdtype)
        with self._lock:
            self.queries[(name, rdtype)] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            pause = self.delay(name)
            if pause > 0:
                self._stop.wait(pause)
            reply = dns.message.make_response(query)
            if name in self.rcodes:
                reply.set_rcode(self.rcodes[name])
                return reply
            reply.flags |= dns.flags.AA
            exists, found = self._lookup(name, rdtype)
            if not exists:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            for kind, text in found:
                reply.answer.append(dns.rrset.from_text(question.name, 60, "IN", kind, text))
            if not found:
                soa = f"ns.{self.origin}. hostmaster.{self.origin}. 1 3600 600 86400 60"
                reply.authority.append(dns.rrset.from_text(self.origin + ".", 60, "IN", "SOA", soa))
            return reply
        finally:
            with self._lock:
                self.in_flight -= 1

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.udp], [], [], 0.05)
            if not ready:
                continue
            try:
                data, peer = self.udp.recvfrom(65535)
            except OSError:
                return
            t = threading.Thread(target=self._answer_udp, args=(data, peer), daemon=True)
            t.start()

    def _answer_udp(self, data: bytes, peer: tuple[str, int]) -> None:
        try:
            query = dns.message.from_wire(data)
        except Exception:
            return
        reply = self.respond(query)
        limit = query.payload if query.edns >= 0 else 512
        wire = reply.to_wire(max_size=65535)
        if len(wire) > limit:
            reply.answer.clear()
            reply.authority.clear()
            reply.flags |= dns.flags.TC
            wire = reply.to_wire()
        if not self._stop.is_set():
            with contextlib.suppress(OSError):
                self.udp.sendto(wire, peer)

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.tcp], [], [], 0.05)
            if not ready:
                continue
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._answer_tcp, args=(conn,), daemon=True).start()

    def _answer_tcp(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            while not self._stop.is_set():
                try:
                    length = struct.unpack("!H", _recv_exactly(conn, 2))[0]
                    query = dns.message.from_wire(_recv_exactly(conn, length))
                except (OSError, EOFError, struct.error):
                    return
                except Exception:
                    return
                wire = self.respond(query).to_wire(max_size=65535)
                try:
                    conn.sendall(struct.pack("!H", len(wire)) + wire)
                except OSError:
                    return


def _recv_exactly(conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass (for event-order asserts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
