"""One attempt's conversation over smtplib: connect, (STARTTLS), EHLO, (AUTH), MAIL, RCPT,
DATA, QUIT, recorded command by command and read through the bounded reply reader.

RFC 5321, RFC 3207 (STARTTLS), RFC 8314 (implicit TLS), RFC 4954 (AUTH).
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Callable

from .smtp_model import (
    AttemptOutcome,
    SmtpReply,
    SmtpSecurity,
    SmtpSettings,
    TlsInfo,
    TranscriptKind,
)
from .smtp_reply import DeadlinePassed, Deadlines, ReplyReader, ReplyTooLarge, Watchdog
from .smtp_transcript import Recorder

__all__ = ["AttemptStop", "ReplyStop", "Session", "tls_context"]


class _RecordingMixin:
    """Records every command and reply; reads replies with the bounded reader, and hands
    each new TCP socket to the watchdog before anything (TLS included) is done on it."""

    recorder: Recorder
    reader: ReplyReader
    watchdog: Watchdog

    def putcmd(self, cmd: str, args: str = "") -> None:
        self.recorder.command(cmd, args)
        super().putcmd(cmd, args)  # type: ignore[misc]

    def getreply(self) -> tuple[int, bytes]:
        sock = self.sock  # type: ignore[attr-defined]
        if sock is None:
            raise smtplib.SMTPServerDisconnected("please run connect() first")
        try:
            code, text = self.reader.read(sock)
        except (smtplib.SMTPServerDisconnected, ReplyTooLarge, DeadlinePassed):
            self.close()  # type: ignore[attr-defined]
            raise
        self.recorder.reply(code, text)
        return code, text

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        self.watchdog.guard(sock)
        return sock

    def send(self, s: object) -> None:
        super().send(s)  # type: ignore[misc]
        # smtplib.data() sends the body, dot-stuffed and terminated, in one call, not
        # through putcmd; once sendall returned, the server may act on it
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.recorder.message_sent = True
            self.recorder.add(TranscriptKind.MESSAGE, f"{len(s)} bytes after dot-stuffing")


class _SMTP(_RecordingMixin, smtplib.SMTP):
    pass


class _SMTPS(_RecordingMixin, smtplib.SMTP_SSL):
    on_tls: Callable[[object], None]

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        # SMTP_SSL's own, with the watchdog given the plain socket before the handshake
        plain = smtplib.SMTP._get_socket(self, host, port, timeout)  # type: ignore[attr-defined]
        self.watchdog.guard(plain)
        sock = self.context.wrap_socket(plain, server_hostname=self._host)  # type: ignore[attr-defined]
        self.on_tls(sock)  # TLS is up before the greeting: record it in that order
        return sock


class ReplyStop(Exception):
    """An SMTP reply that ends the attempt (4xx or 5xx)."""

    def __init__(self, reply: SmtpReply) -> None:
        super().__init__(f"{reply.code} {reply.text}")
        self.reply = reply


class AttemptStop(Exception):
    """A non-reply reason that ends the attempt."""

    def __init__(self, outcome: AttemptOutcome, message: str, *, unknown: bool = False) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.unknown = unknown  # the message may have been accepted


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=settings.ca_file)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if not settings.verify_certificate:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


# raised while reading a reply: the connection is over, whatever stage it was in
_CONNECTION_ENDED = (smtplib.SMTPServerDisconnected, ReplyTooLarge, DeadlinePassed)


class Session:
    """One attempt: connect, (STARTTLS), EHLO, (AUTH), MAIL, RCPT, DATA, QUIT."""

    def __init__(
        self, settings: SmtpSettings, recorder: Recorder, deadlines: Deadlines, watchdog: Watchdog
    ) -> None:
        self.settings = settings
        self.rec = recorder
        self.deadlines = deadlines
        self.watchdog = watchdog
        self.capabilities: tuple[str, ...] = ()
        self.tls: TlsInfo | None = None
        self.client: smtplib.SMTP | None = None

    def _expect(self, code: int, text: bytes | str, ok: range = range(200, 400)) -> None:
        if code not in ok:
            raise ReplyStop(self.rec.parse(code, text))

    def _note_tls(self, sock: object) -> None:
        if not isinstance(sock, ssl.SSLSocket):
            return
        cipher = sock.cipher()
        self.tls = TlsInfo(
            version=sock.version() or "",
            cipher=cipher[0] if cipher else "",
            cipher_bits=cipher[2] if cipher else None,
            server_name=self.settings.host,
            certificate_verified=self.settings.verify_certificate,
        )
        self.rec.add(TranscriptKind.TLS, f"{self.tls.version} {self.tls.cipher}")

    def _ehlo(self, client: smtplib.SMTP) -> None:
        code, text = client.ehlo()
        if code != 250:
            if self.settings.security is not SmtpSecurity.PLAIN or self.settings.username:
                self._expect(code, text, range(250, 251))
            code, text = client.helo()
            self._expect(code, text)
            self.capabilities = ()
            return
        lines = text.decode("utf-8", "replace").splitlines()
        self.capabilities = tuple(line.strip() for line in lines[1:])

    def run(
        self, data: bytes, mail_from: str, recipients: tuple[str, ...], password: str | None
    ) -> SmtpReply:
        s = self.settings
        ctx = tls_context(s) if s.security is not SmtpSecurity.PLAIN else None
        # connecting, and each send, may take no longer than a reply, nor outlast the attempt
        timeout = max(0.001, min(s.limits.reply_timeout, self.deadlines.remaining()))
        if s.security is SmtpSecurity.TLS:
            implicit = _SMTPS(local_hostname=s.ehlo_name, timeout=timeout, context=ctx)
            implicit.on_tls = self._note_tls
            client: smtplib.SMTP = implicit
        else:
            client = _SMTP(local_hostname=s.ehlo_name, timeout=timeout)
        client.recorder = self.rec  # type: ignore[attr-defined]
        client.reader = ReplyReader(self.deadlines)  # type: ignore[attr-defined]
        client.watchdog = self.watchdog  # type: ignore[attr-defined]
        # the name TLS checks the certificate against (and sends as SNI); smtplib only sets
        # it when the host is given to the constructor, which would connect unrecorded
        client._host = s.host  # type: ignore[attr-defined]
        self.client = client
        self.rec.add(TranscriptKind.CONNECT, f"{s.host}:{s.port} ({s.security.value})")
        code, text = client.connect(s.host, s.port)
        self._expect(code, text, range(220, 221))
        self._ehlo(client)
        if s.security is SmtpSecurity.STARTTLS:
            if not client.has_extn("starttls"):
                raise AttemptStop(
                    AttemptOutcome.TLS,
                    "the server does not offer STARTTLS (use --plain to send without TLS, "
                    "or --tls for implicit TLS on port 465)",
                )
            code, text = client.starttls(context=ctx)
            self._expect(code, text, range(220, 221))
            self._note_tls(client.sock)
            self._ehlo(client)
        if s.username is not None:
            if self.tls is None and not s.allow_plaintext_auth:
                raise AttemptStop(AttemptOutcome.POLICY, "refusing to send AUTH without TLS")
            if not client.has_extn("auth"):
                raise AttemptStop(
                    AttemptOutcome.POLICY,
                    "the server offers no AUTH"
                    + (" even after STARTTLS" if s.security is SmtpSecurity.STARTTLS else ""),
                )
            self.rec.start_auth()
            try:
                client.login(s.username, password or "")
            except smtplib.SMTPAuthenticationError as exc:
                raise ReplyStop(self.rec.parse(exc.smtp_code, exc.smtp_error)) from None
            except smtplib.SMTPException as exc:
                if isinstance(exc, _CONNECTION_ENDED):
                    raise
                raise AttemptStop(
                    AttemptOutcome.POLICY, f"authentication not possible: {exc}"
                ) from None
            finally:
                self.rec.end_auth()
        code, text = client.mail(mail_from)
        self._expect(code, text)
        for rcpt in recipients:
            code, text = client.rcpt(rcpt)
            self._expect(code, text)
        try:
            code, text = client.data(data)
        except smtplib.SMTPDataError as exc:
            raise ReplyStop(self.rec.parse(exc.smtp_code, exc.smtp_error)) from None
        self._expect(code, text, range(250, 252))
        return self.rec.parse(code, text)

    def quit(self) -> None:
        if self.client is None:
            return
        try:
            if self.client.sock is not None:
                self.client.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            self.client.close()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
