"""SMTP servers on loopback for the message tests: real aiosmtpd with real TLS from a test CA.

Fixtures (generic on purpose, for send, receive and the round trip):

- `smtp_ca` (session): a trustme CA; `.ca_file` is its PEM path, `.server_context(*names)`
  an SSLContext presenting a certificate for those names (default 127.0.0.1 and localhost).
- `smtp_server(...)`: factory starting an aiosmtpd Controller on a free loopback port, with
  a `ScriptedHandler` that records every message and can be told what to answer:
  `smtp_server(starttls=True)`, `smtp_server(implicit_tls=True)`,
  `smtp_server(starttls=True, auth={"user": "pw"})`, `smtp_server(cert_names=("wrong.example",))`,
  `smtp_server(script={"DATA": ["421 4.3.2 try later"]})`. Stopped at teardown.
- `raw_smtp_server(behaviour)`: factory for misbehaving servers aiosmtpd cannot play:
  "stall" (accepts, never greets), "drop_after_ehlo", "drop_after_data" (reads the whole
  message, then closes without a reply).
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


@dataclass
class LoopbackCA:
    ca: trustme.CA
    ca_file: str

    def server_context(self, *names: str) -> ssl.SSLContext:
        cert = self.ca.issue_cert(*(names or (LOOPBACK, "localhost")))
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        return ctx


@pytest.fixture(scope="session")
def smtp_ca(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCA:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("smtp-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return LoopbackCA(ca=ca, ca_file=str(path))


@dataclass
class ReceivedMessage:
    peer: str
    helo: str | None
    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # exactly as received (CRLF line ends)
    tls: bool  # the session was encrypted when the message came
    auth_login: str | None  # who authenticated, if anyone


@dataclass
class ScriptedHandler:
    """An aiosmtpd handler that records messages and answers from a script.

    `script` maps a stage ("MAIL", "RCPT", "DATA") to replies given, one per command, before
    the stage starts succeeding (e.g. {"DATA": ["421 4.3.2 busy"]}: first DATA refused, the
    next accepted). `always` maps a stage to a reply given every time.
    """

    script: dict[str, list[str]] = field(default_factory=dict)
    always: dict[str, str] = field(default_factory=dict)
    messages: list[ReceivedMessage] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # stages seen, in order

    def _scripted(self, stage: str) -> str | None:
        self.calls.append(stage)
        if stage in self.always:
            return self.always[stage]
        queue = self.script.get(stage)
        if queue:
            return queue.pop(0)
        return None

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self._scripted("MAIL")
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self._scripted("RCPT")
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self._scripted("DATA")
        if reply is not None:
            return reply
        login = session.auth_data
        self.messages.append(
            ReceivedMessage(
                peer=str(session.peer[0]),
                helo=session.host_name,
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                data=envelope.original_content or envelope.content,
                # session.ssl is only set by STARTTLS; implicit TLS shows on the transport
                tls=server.transport.get_extra_info("ssl_object") is not None,
                auth_login=login.decode() if isinstance(login, bytes) else login,
            )
        )
        return "250 2.0.0 Ok: queued as TEST1"


@dataclass
class RunningSmtpServer:
    host: str
    port: int
    handler: ScriptedHandler
    ca_file: str
    controller: Controller


def _authenticator(users: dict[str, str]) -> Callable[..., AuthResult]:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        ok = users.get(login) == password
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)

    return check


@pytest.fixture
def smtp_server(smtp_ca: LoopbackCA) -> Iterator[Callable[..., RunningSmtpServer]]:
    started: list[Controller] = []

    def start(
        *,
        starttls: bool = False,
        implicit_tls: bool = False,
        auth: dict[str, str] | None = None,
        auth_require_tls: bool = True,
        auth_exclude: tuple[str, ...] = (),
        cert_names: tuple[str, ...] = (),
        script: dict[str, list[str]] | None = None,
        always: dict[str, str] | None = None,
        data_size_limit: int = 33554432,
    ) -> RunningSmtpServer:
        handler = ScriptedHandler(script=dict(script or {}), always=dict(always or {}))
        port = free_port()
        kwargs: dict[str, Any] = {
            "hostname": LOOPBACK,
            "port": port,
            "data_size_limit": data_size_limit,
            "ident": "mailauth-audit test server",
        }
        ctx = smtp_ca.server_context(*cert_names) if (starttls or implicit_tls) else None
        if starttls:
            kwargs["tls_context"] = ctx
            kwargs["require_starttls"] = True
        if implicit_tls:
            kwargs["ssl_context"] = ctx
        if auth is not None:
            kwargs["authenticator"] = _authenticator(auth)
            kwargs["auth_required"] = True
            # aiosmtpd only counts STARTTLS as TLS for this rule; implicit TLS is TLS too
            kwargs["auth_require_tls"] = auth_require_tls and not implicit_tls
            kwargs["auth_exclude_mechanism"] = list(auth_exclude)
        controller = Controller(handler, **kwargs)
        controller.start()
        started.append(controller)
        return RunningSmtpServer(LOOPBACK, port, handler, smtp_ca.ca_file, controller)

    yield start
    for controller in started:
        controller.stop()


@dataclass
class RawServer:
    host: str
    port: int
    connections: int = 0
    received: list[bytes] = field(default_factory=list)


def _serve_raw(
    listener: socket.socket, behaviour: str, state: RawServer, stop: threading.Event
) -> None:
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            break
        state.connections += 1
        if behaviour == "stall":
            held.append(conn)  # keep it open, say nothing
            continue
        with conn:
            conn.settimeout(5)
            reader = conn.makefile("rb")
            conn.sendall(b"220 raw.test ESMTP\r\n")
            line = reader.readline()
            state.received.append(line)
            conn.sendall(b"250-raw.test\r\n250 8BITMIME\r\n")
            if behaviour == "drop_after_ehlo":
                reader.close()
                continue
            # drop_after_data: accept the envelope and the message, then hang up silently
            for reply in (b"250 OK\r\n", b"250 OK\r\n", b"354 go ahead\r\n"):
                state.received.append(reader.readline())
                conn.sendall(reply)
            while True:
                line = reader.readline()
                if not line or line == b".\r\n":
                    break
            reader.close()
    for conn in held:
        conn.close()


@pytest.fixture
def raw_smtp_server() -> Iterator[Callable[[str], RawServer]]:
    running: list[tuple[socket.socket, threading.Event, threading.Thread]] = []

    def start(behaviour: str) -> RawServer:
        assert behaviour in ("stall", "drop_after_ehlo", "drop_after_data"), behaviour
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((LOOPBACK, 0))
        listener.listen(8)
        state = RawServer(LOOPBACK, int(listener.getsockname()[1]))
        stop = threading.Event()
        thread = threading.Thread(
            target=_serve_raw, args=(listener, behaviour, state, stop), daemon=True
        )
        thread.start()
        running.append((listener, stop, thread))
        return state

    yield start
    for listener, stop, thread in running:
        stop.set()
        thread.join(timeout=5)
        listener.close()


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    path = tmp_path / "keys"
    path.mkdir()
    return path


def secret_fragments(password: str | None = None, key_pem: bytes | None = None) -> list[str]:
    """Strings whose presence in any output means a secret leaked: the password, its base64
    forms as AUTH PLAIN/LOGIN send them, and the private half of a PEM key (its later
    lines: the earlier ones of an RSA key hold the public modulus, which may be printed)."""
    import base64

    out: list[str] = []
    if password:
        out.append(password)
        out.append(base64.b64encode(password.encode()).decode())
        for user in ("audit", ""):
            plain = f"\0{user}\0{password}".encode()
            out.append(base64.b64encode(plain).decode())
    if key_pem:
        body = [ln for ln in key_pem.decode().splitlines() if ln and not ln.startswith("-----")]
        out.extend(body[len(body) // 2 :])
        out.append("PRIVATE KEY")
    return out


@pytest.fixture
def assert_no_secrets() -> Callable[..., None]:
    """assert_no_secrets(texts, password=..., key_pem=...): fail if any secret shows."""

    def check(
        texts: list[str] | tuple[str, ...],
        password: str | None = None,
        key_pem: bytes | None = None,
    ) -> None:
        for fragment in secret_fragments(password, key_pem):
            for i, text in enumerate(texts):
                assert fragment not in text, f"secret fragment found in output #{i}"

    return check
