"""A test inbox: an SMTP server (aiosmtpd) that accepts messages, verifies each one with the
real SMTP facts of its session, and writes one JSON and one HTML report per message.

It never relays: recipients are accepted only so that the message can be read, and nothing
is ever forwarded or stored apart from the reports. The size limit is enforced by aiosmtpd
(SIZE in EHLO, 552 on DATA over it); STARTTLS is offered when a certificate is given. A
malformed message gets a report like any other: `verify_message` never raises for bad bytes,
and anything unexpected while writing a report answers 451 for that message only; a message
refused by the header limits is answered 554 (its report says why).

It may face the public Internet, so what clients can hold is bounded (`ReceiveLimits`, see
`smtp_limits`): sessions in all and per address, a session's life and commands, line
length, and messages verified at once; the session cap is kept below the descriptor limit.
"""

from __future__ import annotations

import asyncio
import logging
import re
import resource
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Session
from aiosmtpd.smtp import Envelope as SmtpEnvelope

from ..atomic_write import write_atomically
from ..options import MessageLimits, ReceiveLimits
from ..report.message import render_html, render_json
from ..resolver.base import Resolver
from .model import Envelope, EnvelopeSource, MessageReport
from .smtp_limits import InboxServer, LimitedSMTP, SessionCounter
from .verify import DEFAULT_MAX_SIZE, VerifyOptions, verify_message

__all__ = ["InboxHandler", "ReceiveOptions", "ReceivedReport", "serve", "start_server"]

log = logging.getLogger(__name__)
SHUTDOWN_GRACE = 5.0  # seconds open sessions get to finish after Ctrl-C / SIGTERM
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ReceiveOptions:
    reports_dir: Path
    max_size: int = DEFAULT_MAX_SIZE
    hostname: str = "mailauth-audit.invalid"  # our name in the greeting and authserv-id
    tls_cert: Path | None = None
    tls_key: Path | None = None
    limits: ReceiveLimits = field(default_factory=ReceiveLimits)  # what clients may hold
    message_limits: MessageLimits = field(default_factory=MessageLimits)  # per message


@dataclass(frozen=True)
class ReceivedReport:
    json_path: Path
    html_path: Path
    report: MessageReport


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


def report_stem(report: MessageReport, counter: int, now: datetime) -> str:
    """A file name no message can steer: time, a counter, and a sanitised Message-ID slice."""
    hint = _UNSAFE.sub("-", (report.message_id or "no-message-id").strip("<>"))[:40].strip("-")
    return f"{now.strftime('%Y%m%dT%H%M%S')}-{counter:05d}-{hint or 'message'}"


class InboxHandler:
    """aiosmtpd handler: accept, verify, write reports. `on_report` lets tests and the CLI
    see each report as it is written."""

    def __init__(
        self,
        resolver: Resolver,
        options: ReceiveOptions,
        on_report: Callable[[ReceivedReport], None] | None = None,
    ) -> None:
        self.resolver = resolver
        self.options = options
        self.on_report = on_report
        # the most recent reports, for callers embedding the inbox; the files are the record,
        # so a server that runs for weeks does not grow without bound
        self.reports: deque[ReceivedReport] = deque(maxlen=1000)
        self._counter = 0
        self._verifying = asyncio.Semaphore(options.limits.max_concurrent_verifications)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: SmtpEnvelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        envelope.rcpt_tos.append(address)  # accepted to be read, never relayed
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: SmtpEnvelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        tls_info: dict[str, Any] | None = session.ssl
        ssl_object = tls_info.get("ssl_object") if tls_info else None
        cipher = ssl_object.cipher() if ssl_object is not None else None
        smtp_envelope = Envelope(
            client_ip=str(session.peer[0]) if session.peer else None,
            helo=session.host_name,
            mail_from=envelope.mail_from if envelope.mail_from is not None else None,
            source=EnvelopeSource.SMTP_SESSION,
            tls=tls_info is not None,
            tls_version=ssl_object.version() if ssl_object is not None else None,
            tls_cipher=cipher[0] if cipher else None,
        )
        verify_options = VerifyOptions(
            max_size=self.options.max_size,
            authserv_id=self.options.hostname,
            limits=self.options.message_limits,
        )
        try:
            async with self._verifying:
                report = await verify_message(raw, self.resolver, smtp_envelope, verify_options)
            self._counter += 1
            stem = report_stem(report, self._counter, datetime.now(UTC))
            folder = self.options.reports_dir
            folder.mkdir(parents=True, exist_ok=True)
            json_path, html_path = folder / f"{stem}.json", folder / f"{stem}.html"
            write_atomically(json_path, render_json(report))
            write_atomically(html_path, render_html(report))
        except Exception:
            log.exception("could not verify or store a message")
            return "451 4.3.0 could not verify the message; try again"
        received = ReceivedReport(json_path, html_path, report)
        self.reports.append(received)
        if self.on_report is not None:
            self.on_report(received)
        refusal = next((f for f in report.findings if f.code == "message.header_limit"), None)
        if refusal is not None:
            return f"554 5.6.0 {refusal.detail.split('.')[0]}; report {json_path.name}"
        return f"250 2.0.0 verified: {report.status.value}; report {json_path.name}"


def session_cap(limits: ReceiveLimits) -> int:
    """`max_sessions`, lowered to leave `fd_reserve` descriptors free under RLIMIT_NOFILE:
    a full session table then refuses clients instead of exhausting descriptors."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return limits.max_sessions
    fitted = max(1, soft - limits.fd_reserve)
    if fitted < limits.max_sessions:
        log.warning(
            "at most %d SMTP sessions: the descriptor limit is %d (max sessions %d)",
            fitted,
            soft,
            limits.max_sessions,
        )
    return min(limits.max_sessions, fitted)


async def start_server(
    host: str, port: int, handler: InboxHandler, options: ReceiveOptions
) -> InboxServer:
    """Listen on host:port; returns the running server (port 0 picks a free port)."""
    context = None
    if options.tls_cert is not None and options.tls_key is not None:
        context = tls_context(options.tls_cert, options.tls_key)
    loop = asyncio.get_running_loop()
    limits = options.limits
    counter = SessionCounter(session_cap(limits), limits.max_sessions_per_ip)

    def factory() -> LimitedSMTP:
        return LimitedSMTP(
            handler,
            counter=counter,
            limits=limits,
            data_size_limit=options.max_size,
            hostname=options.hostname,
            tls_context=context,
            require_starttls=False,
            loop=loop,
        )

    return await InboxServer.listen(host, port, factory, limits)


async def serve(
    host: str,
    port: int,
    resolver: Resolver,
    options: ReceiveOptions,
    stop: asyncio.Event,
    on_listening: Callable[[tuple[str, int]], None] | None = None,
    on_report: Callable[[ReceivedReport], None] | None = None,
) -> None:
    """Run until `stop` is set, then close the listener and wait for open sessions' replies."""
    handler = InboxHandler(resolver, options, on_report)
    server = await start_server(host, port, handler, options)
    try:
        if on_listening is not None:
            sock = server.sockets[0].getsockname()
            on_listening((str(sock[0]), int(sock[1])))
        await stop.wait()
    finally:
        server.close()
        server.close_clients()
        try:  # do not hang on a client
            await asyncio.wait_for(server.wait_closed(), SHUTDOWN_GRACE)
        except TimeoutError:
            log.warning("sessions still open after %.0f s; exiting anyway", SHUTDOWN_GRACE)
