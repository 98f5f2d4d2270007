"""Servers on loopback for the probe tests (also imported by tests/hostile/).

- `LoopbackCA`: a trustme CA with its PEM file, issuing server contexts for given names.
- `counting_smtp_server(...)`: a real aiosmtpd, optionally with STARTTLS, counting the
  connections it accepts and the most it held at once.
- `RawSmtpServer(script)`: a socket server in a thread for what aiosmtpd will not do: a
  421 greeting, a banner dripped a byte at a time, an endless multi-line reply, bytes
  injected after the STARTTLS reply. It counts connections and bytes it wrote.
- `https_server(...)`: Python's http.server behind ssl in a thread, with fixed routes, the
  SNI and Host each request came with, and a connection count.

Every server listens on 127.0.0.1 (or ::1) only, and is stopped by the test that started it.
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

LOOPBACK = "127.0.0.1"
MX_NAME = "mx.example.test"
STS_NAME = "mta-sts.example.test"


def free_port(host: str = LOOPBACK) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class LoopbackCA:
    ca: trustme.CA
    ca_file: str

    @classmethod
    def create(cls, folder: Path) -> LoopbackCA:
        ca = trustme.CA()
        path = folder / "ca.pem"
        ca.cert_pem.write_to_path(str(path))
        return cls(ca, str(path))

    def server_context(self, *names: str) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*names).configure_cert(ctx)
        return ctx


@dataclass
class ConnectionCounter:
    opened: int = 0
    active: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self) -> None:
        with self.lock:
            self.opened += 1
            self.active += 1
            self.peak = max(self.peak, self.active)

    def close(self) -> None:
        with self.lock:
            self.active -= 1

    def reset(self) -> None:
        with self.lock:
            self.opened = self.peak = self.active = 0


class _CountingSMTP(SMTP):
    """Counted when made (one instance per accepted connection: `connection_made` runs
    again after STARTTLS, so it cannot count) and when its connection is lost."""

    def __init__(self, counter: ConnectionCounter, *args: Any, **kwargs: Any) -> None:
        self._counter = counter
        counter.open()
        super().__init__(*args, **kwargs)

    def connection_lost(self, exc: Exception | None) -> None:
        self._counter.close()
        super().connection_lost(exc)


class _CountingController(Controller):
    def __init__(self, counter: ConnectionCounter, *args: Any, **kwargs: Any) -> None:
        self.counter = counter
        super().__init__(*args, **kwargs)

    def factory(self) -> SMTP:
        return _CountingSMTP(self.counter, self.handler, **self.SMTP_kwargs)


class _Sink:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


@contextlib.contextmanager
def counting_smtp_server(
    tls_context: ssl.SSLContext | None = None, host: str = LOOPBACK
) -> Iterator[tuple[int, ConnectionCounter]]:
    """(port, counter) of an aiosmtpd on `host`; STARTTLS offered when given a context."""
    counter = ConnectionCounter()
    port = free_port(host)
    kwargs: dict[str, Any] = {"hostname": host, "port": port, "ident": "probe test server"}
    if tls_context is not None:
        kwargs["tls_context"] = tls_context
    controller = _CountingController(counter, _Sink(), **kwargs)
    controller.start()
    # the controller's own start-up check connects once: count only the tests' connections
    deadline = time.monotonic() + 5
    while (counter.opened < 1 or counter.active) and time.monotonic() < deadline:
        time.sleep(0.01)
    counter.reset()
    try:
        yield port, counter
    finally:
        controller.stop()


Script = Callable[[socket.socket, "RawSmtpServer"], None]


class RawSmtpServer:
    """A thread per connection runs `script(conn, server)`; `server.written` counts bytes
    sent, so a test can bound what a probe let the server make it read."""

    def __init__(self, script: Script, host: str = LOOPBACK) -> None:
        self.script = script
        self.counter = ConnectionCounter()
        self.written = 0
        self.stop_event = threading.Event()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def send(self, conn: socket.socket, data: bytes) -> bool:
        """False once the client is gone or the test is over: scripts stop then."""
        if self.stop_event.is_set():
            return False
        try:
            conn.sendall(data)
        except OSError:
            return False
        self.written += len(data)
        return True

    def _serve(self) -> None:
        while not self.stop_event.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        self.counter.open()
        try:
            with conn:
                conn.settimeout(5)
                self.script(conn, self)
        except OSError:
            pass
        finally:
            self.counter.close()

    def __enter__(self) -> RawSmtpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self._sock.close()
        self._thread.join(timeout=5)


def read_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(1)
        if not chunk:
            break
        data += chunk
    return data


# --- HTTPS -----------------------------------------------------------------------------

POLICY = b"version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 86400\r\n"
BIG_BODY_BYTES = 10 * 1024 * 1024


@dataclass
class HttpsServer:
    port: int
    counter: ConnectionCounter
    requests: list[tuple[str, str | None, str | None]]  # (path, Host header, SNI)
    body_bytes_sent: list[int]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TlsHttpServer

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        sni = getattr(self.connection, "_probe_sni", None)
        self.server.state.requests.append((self.path, self.headers.get("Host"), sni))
        route = self.path.split("?")[0]
        if route == "/.well-known/mta-sts.txt":
            self._send(200, "text/plain; charset=utf-8", POLICY)
        elif route == "/moved":
            self._send(301, "text/html", b"moved", location="https://elsewhere.test/x")
        elif route == "/html":
            self._send(200, "text/html", b"<html>policy</html>")
        elif route == "/big":
            self._send_big()
        elif route == "/drip":
            self._drip()
        else:
            self._send(404, "text/plain", b"not found")

    def _send(self, status: int, ctype: str, body: bytes, location: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(body)

    def _send_big(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(BIG_BODY_BYTES))
        self.end_headers()
        chunk, sent = b"x" * 65536, 0
        try:
            while sent < BIG_BODY_BYTES:
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
        self.server.state.body_bytes_sent.append(sent)
        self.close_connection = True

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _ in range(100000):
                if self.server.stopping.is_set():
                    break
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass
        self.close_connection = True


class _TlsHttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], ctx: ssl.SSLContext, state: HttpsServer) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)
        self.ctx = ctx
        self.state = state
        self.stopping = threading.Event()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        sni: list[str | None] = [None]

        def remember(ssl_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
            sni[0] = name

        self.ctx.sni_callback = remember  # type: ignore[assignment]
        sock.settimeout(5)
        tls = self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        try:
            tls.do_handshake()
        except (OSError, ssl.SSLError):
            tls.close()
            raise
        tls._probe_sni = sni[0]  # type: ignore[attr-defined]
        self.state.counter.open()
        return tls, addr

    def shutdown_request(self, request: Any) -> None:
        self.state.counter.close()
        super().shutdown_request(request)


@contextlib.contextmanager
def https_server(ctx: ssl.SSLContext, host: str = LOOPBACK) -> Iterator[HttpsServer]:
    state = HttpsServer(port=0, counter=ConnectionCounter(), requests=[], body_bytes_sent=[])
    server = _TlsHttpServer((host, 0), ctx, state)
    state.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield state
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
