"""Hostile SMTP servers on loopback, for the `send` regression tests.

Each server is a plain socket listener on 127.0.0.1 with one thread per connection, playing
one attack (the `mode`):

- "endless_multiline": a greeting of "220-" continuation lines that never ends.
- "drip_greeting": a greeting written one byte at a time, `drip` seconds apart, never ending.
- "long_line": a greeting that is one 1 MB line.
- "escape_reply": a normal session until RCPT, refused with a 550 full of terminal escapes
  (clear screen, window title, bell, a right-to-left override).
- "drip_tls": implicit TLS whose handshake reaches the client one byte at a time, `drip`
  seconds apart: every read finishes well within the timeout, the handshake never does.
- "echo_auth": offers AUTH PLAIN and LOGIN, answers every AUTH exchange with a 535 (or, for
  LOGIN, 334s) that quote back what the client sent, and echoes it again in a later reply.

`HostileServer.sent` counts the bytes the server wrote, so a test can show how much of the
attack the client read before it gave up. The server stops writing once the client closes.

Also runnable on its own, for measuring by hand:
`python tests/hostile/smtp_servers.py endless_multiline` prints the port and serves.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field

LOOPBACK = "127.0.0.1"
ESCAPES = "\x1b[2J\x1b[H\x1b]0;pwned\x07\x07\u202egnp.exe"
MODES = (
    "endless_multiline",
    "drip_greeting",
    "drip_tls",
    "long_line",
    "escape_reply",
    "echo_auth",
)


@dataclass
class HostileServer:
    mode: str
    drip: float = 0.2  # seconds between bytes in "drip_greeting"
    host: str = LOOPBACK
    port: int = 0
    sent: int = 0  # bytes written to clients, all connections
    connections: int = 0
    received: list[bytes] = field(default_factory=list)  # command lines, in order
    _stop: threading.Event = field(default_factory=threading.Event)
    _listener: socket.socket | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> HostileServer:
        assert self.mode in MODES, self.mode
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, 0))
        listener.listen(16)
        listener.settimeout(0.2)
        self._listener = listener
        self.port = int(listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _write(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        with self._lock:
            self.sent += len(data)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            with conn:
                getattr(self, "_" + self.mode)(conn, conn.makefile("rb"))
        except OSError:
            pass  # the client gave up: that is the point

    def _line(self, reader: object) -> bytes:
        line: bytes = reader.readline(100_000)  # type: ignore[attr-defined]
        if not line:
            raise ConnectionResetError("client closed")
        with self._lock:
            self.received.append(line.rstrip(b"\r\n"))
        return line

    # --- the attacks ------------------------------------------------------------------------

    def _endless_multiline(self, conn: socket.socket, reader: object) -> None:
        chunk = b"".join(b"220-hostile.example line %d of a reply that never ends\r\n" % i
                         for i in range(200))  # fmt: skip
        while not self._stop.is_set():
            self._write(conn, chunk)

    def _drip_greeting(self, conn: socket.socket, reader: object) -> None:
        for byte in b"220-hostile.example " + b"x" * 10_000_000:
            if self._stop.is_set():
                return
            self._write(conn, bytes([byte]))
            time.sleep(self.drip)

    def _drip_tls(self, conn: socket.socket, reader: object) -> None:
        import trustme

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        trustme.CA().issue_cert(LOOPBACK).configure_cert(ctx)
        inner, outer = socket.socketpair()

        def tls_side() -> None:
            with contextlib.suppress(OSError), ctx.wrap_socket(inner, server_side=True) as tls:
                tls.sendall(b"220 hostile.example ESMTP\r\n")
                tls.recv(1024)

        def upstream() -> None:  # client to the TLS side, at full speed
            with contextlib.suppress(OSError):
                while data := conn.recv(4096):
                    outer.sendall(data)

        threading.Thread(target=tls_side, daemon=True).start()
        threading.Thread(target=upstream, daemon=True).start()
        with outer:
            while not self._stop.is_set() and (data := outer.recv(4096)):
                for byte in data:
                    self._write(conn, bytes([byte]))
                    time.sleep(self.drip)

    def _long_line(self, conn: socket.socket, reader: object) -> None:
        self._write(conn, b"220 " + b"x" * 1_000_000 + b"\r\n")
        self._line(reader)

    def _escape_reply(self, conn: socket.socket, reader: object) -> None:
        self._write(conn, b"220 hostile.example ESMTP\r\n")
        while True:
            verb = self._line(reader).split(b" ", 1)[0].upper()
            if verb == b"EHLO":
                self._write(conn, b"250-hostile.example\r\n250 8BITMIME\r\n")
            elif verb == b"RCPT":
                text = f"550 5.1.1 {ESCAPES} no such user\r\n"
                self._write(conn, text.encode())
            elif verb == b"QUIT":
                self._write(conn, b"221 bye\r\n")
                return
            else:
                self._write(conn, b"250 ok\r\n")

    def _echo_auth(self, conn: socket.socket, reader: object) -> None:
        self._write(conn, b"220 hostile.example ESMTP\r\n")
        heard: list[bytes] = []  # everything said during AUTH, echoed back later too
        while True:
            line = self._line(reader).rstrip(b"\r\n")
            verb = line.split(b" ", 1)[0].upper()
            if verb == b"EHLO":
                self._write(conn, b"250-hostile.example\r\n250 AUTH PLAIN LOGIN\r\n")
            elif verb == b"AUTH":
                heard.append(line)
                if line.upper().startswith(b"AUTH LOGIN"):
                    self._write(conn, b"334 you said: " + line + b"\r\n")
                    answer = self._line(reader).rstrip(b"\r\n")
                    heard.append(answer)
                    self._write(conn, b"535-5.7.8 you said: " + answer + b"\r\n")
                    self._write(conn, b"535 5.7.8 and before: " + line + b"\r\n")
                else:
                    self._write(conn, b"535 5.7.8 bad credentials: " + line + b"\r\n")
            elif verb == b"QUIT":
                self._write(conn, b"221 bye " + b" ".join(heard) + b"\r\n")
                return
            else:
                self._write(conn, b"250 ok, earlier you said " + b" ".join(heard) + b"\r\n")


if __name__ == "__main__":
    server = HostileServer(sys.argv[1] if len(sys.argv) > 1 else "endless_multiline").start()
    print(server.port, flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        server.stop()
