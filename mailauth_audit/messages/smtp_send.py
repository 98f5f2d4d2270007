"""Submit a message over SMTP and keep a transcript that is safe to share.

RFC 5321 (SMTP, reply codes §4.2), RFC 3207 (STARTTLS), RFC 8314 (implicit TLS on 465,
and: no credentials over cleartext), RFC 4954 (AUTH), RFC 3463 (enhanced status codes).

Policy, and why:
- Certificates are verified against the host name given, unless the user says --insecure:
  a test of a mail path that silently accepts any certificate would hide the first thing
  an attacker needs.
- AUTH is only sent inside TLS unless explicitly allowed: the password would otherwise
  cross the network in base64, i.e. in clear.
- 421/450/451/452 (and a dropped connection or a timeout before the message was accepted)
  are retried with exponential backoff up to a limit; 5xx stops at once, because repeating
  a refused message never changes the answer and can get the sender blocked.
- A connection lost *after* the whole message was sent is not retried: the server may
  already have queued it, and sending again would deliver twice.

Everything said on the connection goes into the transcript except the AUTH exchange, which
is replaced by "[redacted]" (the base64 in it *is* the password). The password is only an
argument, never stored in a dataclass.

Uses smtplib (blocking) on purpose: one submission is one short conversation, and a
subclass can observe every command and reply, which the transcript needs.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from ..errors import MailauthAuditError

REDACTED = "[redacted]"
TRANSIENT_CODES = (421, 450, 451, 452)


class SmtpSecurity(StrEnum):
    PLAIN = "plain"  # no TLS at all (port 25 to a server without STARTTLS)
    STARTTLS = "starttls"  # plain connect, then STARTTLS before anything else (587, 25)
    TLS = "tls"  # TLS from the first byte (465, RFC 8314 "implicit TLS")


def default_security(port: int) -> SmtpSecurity:
    return SmtpSecurity.TLS if port == 465 else SmtpSecurity.STARTTLS


class TranscriptKind(StrEnum):
    CONNECT = "connect"  # TCP connection opened (or TLS on connect)
    TLS = "tls"  # TLS established: version and cipher in text
    COMMAND = "command"  # what we sent (AUTH redacted)
    REPLY = "reply"  # what the server answered, with its code
    MESSAGE = "message"  # the message body went out (size only)
    WAIT = "wait"  # backoff before the next attempt
    ERROR = "error"  # what broke the attempt


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    TRANSIENT = "transient"  # 4xx reply: retried while attempts remain
    PERMANENT = "permanent"  # 5xx reply
    NETWORK = "network"  # connection refused, dropped, or timed out
    TLS = "tls"  # TLS unavailable, handshake failed or certificate refused
    POLICY = "policy"  # we refused to go on (e.g. AUTH not offered inside TLS)


class SendStatus(StrEnum):
    SENT = "sent"
    REJECTED = "rejected"  # a permanent (5xx) reply
    FAILED = "failed"  # could not send: retries exhausted, network or TLS trouble


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Delays grow as initial_delay * backoff**n, capped at max_delay."""

    max_attempts: int = 3
    initial_delay: float = 5.0  # seconds before the second attempt
    backoff: float = 2.0
    max_delay: float = 120.0

    def delay(self, retry_number: int) -> float:
        """Seconds to wait before retry `retry_number` (1 = the second attempt)."""
        return min(self.max_delay, self.initial_delay * self.backoff ** (retry_number - 1))


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to submit. The password is not here: it is passed to `submit` alone,
    so no serialised settings object can ever carry it."""

    host: str
    port: int
    security: SmtpSecurity
    ehlo_name: str  # what we say in EHLO; never looked up (getfqdn would ask DNS)
    username: str | None = None  # set: authenticate with AUTH
    allow_plaintext_auth: bool = False
    verify_certificate: bool = True
    ca_file: str | None = None  # PEM bundle of trusted CAs, instead of the system store
    timeout: float = 30.0  # seconds for connect and for each read
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class SmtpReply:
    code: int
    text: str  # the reply lines joined with "\n", without the code
    enhanced_status: str | None  # "5.7.1" when the reply starts with one (RFC 3463)


@dataclass(frozen=True)
class TranscriptEntry:
    elapsed: float  # seconds since the session started
    kind: TranscriptKind
    text: str
    code: int | None = None  # set for replies


@dataclass(frozen=True)
class TlsInfo:
    version: str  # "TLSv1.3"
    cipher: str  # "TLS_AES_256_GCM_SHA384"
    cipher_bits: int | None
    server_name: str  # the name the certificate was checked against
    certificate_verified: bool  # False with --insecure


@dataclass(frozen=True)
class SmtpAttempt:
    number: int  # 1-based
    started_at: str  # ISO 8601, UTC
    entries: tuple[TranscriptEntry, ...]
    ehlo_capabilities: tuple[str, ...]  # from the last EHLO ("SIZE 10240000", "STARTTLS"...)
    tls: TlsInfo | None  # set once TLS is up
    outcome: AttemptOutcome
    reply: SmtpReply | None  # the reply that ended the attempt (250 on success)
    error: str | None  # set when the attempt failed


@dataclass(frozen=True)
class SmtpTranscript:
    """The whole submission, for `--transcript`: secrets are already redacted."""

    host: str
    port: int
    security: SmtpSecurity
    username: str | None
    verify_certificate: bool
    mail_from: str
    recipients: tuple[str, ...]
    message_size: int
    started_at: str
    finished_at: str
    status: SendStatus
    attempts: tuple[SmtpAttempt, ...]
    final_reply: SmtpReply | None  # the server's answer to the message, or the refusal
    error: str | None  # set unless sent: what went wrong, in one line
    explanation: str | None  # set when a reply code has a usual meaning worth telling


class SmtpSendError(MailauthAuditError):
    """The message was not (known to be) accepted. `transcript` holds what happened."""

    status = SendStatus.FAILED

    def __init__(self, message: str, transcript: SmtpTranscript) -> None:
        super().__init__(message)
        self.transcript = transcript


class SmtpRejected(SmtpSendError):
    """A permanent (5xx) reply: retrying would not help."""

    status = SendStatus.REJECTED


class SmtpTemporaryFailure(SmtpSendError):
    """Transient (4xx) replies until the attempts ran out."""


class SmtpConnectionError(SmtpSendError):
    """Connection refused, dropped or timed out (after the retries)."""


class SmtpTlsError(SmtpSendError):
    """STARTTLS not offered, handshake failed, or the certificate was refused."""


class SmtpPolicyError(SmtpSendError):
    """We refused to continue: AUTH would go out unencrypted, or the server offers no AUTH."""


class SmtpDeliveryUnknown(SmtpConnectionError):
    """The connection broke after the whole message was sent: it may have been queued."""


class PlaintextAuthRefused(MailauthAuditError, ValueError):
    """Settings that would send a password without TLS (raised before connecting)."""


_EXPLANATIONS: dict[int, str] = {
    421: "the server is closing the connection for now (overloaded, rate limiting, or "
    "greylisting); try again later",
    450: "the mailbox is temporarily unavailable (often greylisting: a retry some minutes "
    "later is usually accepted)",
    451: "the server had a local error or a temporary lookup failure (often greylisting or "
    "a DNS problem on its side, e.g. checking SPF/DKIM)",
    452: "the server is short of storage or got too many recipients in one transaction",
    454: "TLS or authentication is temporarily unavailable on the server",
    500: "the server did not recognise a command (a proxy or firewall may be rewriting SMTP)",
    501: "the server refused a command's arguments (often a malformed address)",
    502: "the command is not implemented by this server",
    503: "bad sequence of commands: usually authentication is required before MAIL FROM",
    504: "a parameter is not implemented (e.g. an AUTH mechanism or a non-FQDN EHLO name)",
    521: "this host does not accept mail at all (RFC 7504)",
    530: "authentication is required: give --user (and TLS)",
    534: "the authentication mechanism is too weak for this server",
    535: "authentication failed: wrong user name or password, or the account may not send",
    538: "this server requires encryption before authentication",
    550: "the mailbox is unavailable or the server will not relay for you: unknown "
    "recipient, relaying denied (authenticate, or send to a domain this server handles), "
    "or a policy block",
    551: "the recipient is not local to this server (no relaying)",
    552: "the message exceeds the server's size limit or the mailbox is full",
    553: "the sender or recipient address is not allowed (often: you may not send as this "
    "From/MAIL FROM address with this account)",
    554: "transaction failed: usually a policy rejection (spam filtering, a blocklisted IP, "
    "or a failed SPF/DKIM/DMARC check) or no SMTP service here",
    556: "the recipient's domain does not accept mail (null MX, RFC 7505)",
}
_ENHANCED: dict[str, str] = {
    "5.7.1": "delivery not authorised (relaying denied or sender not permitted)",
    "5.7.23": "SPF validation failed",
    "5.7.25": "the sending IP has no valid reverse DNS",
    "5.7.26": "the message failed authentication (DMARC/SPF/DKIM)",
    "5.7.27": "the sender's domain does not accept mail (null MX)",
    "5.7.8": "authentication credentials invalid",
    "5.7.0": "a security policy refused the message",
    "5.7.9": "the authentication mechanism is too weak",
    "5.7.11": "encryption is required for the requested authentication",
}


def explain_reply(code: int, enhanced: str | None = None) -> str | None:
    """What a reply code usually means, for a human deciding what to fix."""
    parts = [p for p in (_EXPLANATIONS.get(code), _ENHANCED.get(enhanced or "")) if p]
    return "; ".join(parts) or None


def _reply(code: int, raw: bytes | str) -> SmtpReply:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    first = text.split(None, 1)[0] if text.strip() else ""
    parts = first.split(".")
    enhanced = (
        first
        if len(parts) == 3 and parts[0] in ("2", "4", "5") and all(p.isdigit() for p in parts)
        else None
    )
    return SmtpReply(code=code, text=text, enhanced_status=enhanced)


class _Recorder:
    """Collects one attempt's entries; redacts while `in_auth` is set."""

    def __init__(self, clock: Callable[[], float], start: float) -> None:
        self._clock = clock
        self._start = start
        self.entries: list[TranscriptEntry] = []
        self.in_auth = False
        self._auth_commands = 0
        self.message_sent = False  # the whole message went out: do not send it twice

    def add(self, kind: TranscriptKind, text: str, code: int | None = None) -> None:
        elapsed = round(self._clock() - self._start, 4)
        self.entries.append(TranscriptEntry(elapsed, kind, text, code))

    def command(self, cmd: str, args: str) -> None:
        verb = cmd.split(" ", 1)[0]
        line = f"{verb.upper()}{cmd[len(verb):]} {args}".strip()
        if self.in_auth:
            if self._auth_commands == 0 and cmd.upper() == "AUTH":
                mechanism = args.split(" ", 1)[0] if args else ""
                line = f"AUTH {mechanism} {REDACTED}".replace("  ", " ").strip()
            else:
                line = REDACTED
            self._auth_commands += 1
        self.add(TranscriptKind.COMMAND, line)

    def reply(self, code: int, text: bytes) -> None:
        shown = text.decode("utf-8", "replace")
        if self.in_auth and code == 334:
            shown = REDACTED  # server challenges; LOGIN echoes nothing secret, CRAM does
        self.add(TranscriptKind.REPLY, shown, code)

    def start_auth(self) -> None:
        self.in_auth = True
        self._auth_commands = 0

    def end_auth(self) -> None:
        self.in_auth = False


class _RecordingMixin:
    recorder: _Recorder

    def putcmd(self, cmd: str, args: str = "") -> None:
        self.recorder.command(cmd, args)
        super().putcmd(cmd, args)  # type: ignore[misc]

    def getreply(self) -> tuple[int, bytes]:
        code, text = super().getreply()  # type: ignore[misc]
        self.recorder.reply(code, text)
        return code, text

    def send(self, s: bytes | str) -> None:
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
        sock = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        self.on_tls(sock)  # TLS is up before the greeting: record it in that order
        return sock  # type: ignore[no-any-return]


class _ReplyStop(Exception):
    """An SMTP reply that ends the attempt (4xx or 5xx)."""

    def __init__(self, reply: SmtpReply) -> None:
        super().__init__(f"{reply.code} {reply.text}")
        self.reply = reply


class _Stop(Exception):
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


def check_auth_policy(settings: SmtpSettings) -> None:
    """Raise PlaintextAuthRefused when the settings would send a password in clear."""
    if (
        settings.username is not None
        and settings.security is SmtpSecurity.PLAIN
        and not settings.allow_plaintext_auth
    ):
        raise PlaintextAuthRefused(
            "refusing to authenticate without TLS: the password would cross the network in "
            "clear (use STARTTLS or implicit TLS, or --allow-plaintext-auth for a test server)"
        )


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Session:
    """One attempt: connect, (STARTTLS), EHLO, (AUTH), MAIL, RCPT, DATA, QUIT."""

    def __init__(self, settings: SmtpSettings, recorder: _Recorder) -> None:
        self.settings = settings
        self.rec = recorder
        self.capabilities: tuple[str, ...] = ()
        self.tls: TlsInfo | None = None
        self.client: smtplib.SMTP | None = None

    def _expect(self, code: int, text: bytes | str, ok: range = range(200, 400)) -> None:
        if code not in ok:
            raise _ReplyStop(_reply(code, text))

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
        if s.security is SmtpSecurity.TLS:
            implicit = _SMTPS(local_hostname=s.ehlo_name, timeout=s.timeout, context=ctx)
            implicit.on_tls = self._note_tls
            client: smtplib.SMTP = implicit
        else:
            client = _SMTP(local_hostname=s.ehlo_name, timeout=s.timeout)
        client.recorder = self.rec  # type: ignore[attr-defined]
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
                raise _Stop(
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
                raise _Stop(AttemptOutcome.POLICY, "refusing to send AUTH without TLS")
            if not client.has_extn("auth"):
                raise _Stop(
                    AttemptOutcome.POLICY,
                    "the server offers no AUTH"
                    + (" even after STARTTLS" if s.security is SmtpSecurity.STARTTLS else ""),
                )
            self.rec.start_auth()
            try:
                client.login(s.username, password or "")
            except smtplib.SMTPAuthenticationError as exc:
                raise _ReplyStop(_reply(exc.smtp_code, exc.smtp_error)) from None
            except smtplib.SMTPException as exc:
                if isinstance(exc, smtplib.SMTPServerDisconnected):
                    raise
                raise _Stop(AttemptOutcome.POLICY, f"authentication not possible: {exc}") from None
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
            raise _ReplyStop(_reply(exc.smtp_code, exc.smtp_error)) from None
        self._expect(code, text, range(250, 252))
        return _reply(code, text)

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


def _network_message(exc: BaseException, s: SmtpSettings) -> str:
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, TimeoutError) or isinstance(cause, TimeoutError):
        return f"timed out after {s.timeout:g} s waiting for {s.host}:{s.port}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {s.host}:{s.port}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"the server closed the connection unexpectedly ({exc})"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {s.host}: {exc.strerror}"
    return f"network error talking to {s.host}:{s.port}: {exc}"


def submit(
    data: bytes | str,
    *,
    mail_from: str,
    recipients: tuple[str, ...],
    settings: SmtpSettings,
    password: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SmtpTranscript:
    """Submit one message. Returns the transcript when the server accepted it; raises an
    SmtpSendError subclass (carrying the transcript) otherwise."""
    check_auth_policy(settings)
    payload = data.encode("ascii") if isinstance(data, str) else data
    started = _now_iso()
    start = clock()
    attempts: list[SmtpAttempt] = []
    s = settings

    def transcript(
        status: SendStatus, reply: SmtpReply | None, error: str | None
    ) -> SmtpTranscript:
        explanation = explain_reply(reply.code, reply.enhanced_status) if reply else None
        return SmtpTranscript(
            host=s.host,
            port=s.port,
            security=s.security,
            username=s.username,
            verify_certificate=s.verify_certificate,
            mail_from=mail_from,
            recipients=recipients,
            message_size=len(payload),
            started_at=started,
            finished_at=_now_iso(),
            status=status,
            attempts=tuple(attempts),
            final_reply=reply,
            error=error,
            explanation=explanation,
        )

    last_error = ""
    last_reply: SmtpReply | None = None
    last_kind: type[SmtpSendError] = SmtpConnectionError
    for number in range(1, max(1, s.retry.max_attempts) + 1):
        rec = _Recorder(clock, start)
        if number > 1:
            delay = s.retry.delay(number - 1)
            rec.add(TranscriptKind.WAIT, f"waiting {delay:g} s before attempt {number}")
            sleep(delay)
        attempt_started = _now_iso()
        session = _Session(s, rec)
        outcome: AttemptOutcome
        reply: SmtpReply | None = None
        error: str | None = None
        stop: type[SmtpSendError] | None = None
        try:
            reply = session.run(payload, mail_from, recipients, password)
            outcome = AttemptOutcome.DELIVERED
        except _ReplyStop as exc:
            reply = exc.reply
            transient = reply.code in TRANSIENT_CODES or 400 <= reply.code < 500
            outcome = AttemptOutcome.TRANSIENT if transient else AttemptOutcome.PERMANENT
            first_line = reply.text.splitlines()[0] if reply.text else ""
            error = f"server replied {reply.code} {first_line}".strip()
            stop = None if transient else SmtpRejected
            last_kind = SmtpTemporaryFailure
        except _Stop as exc:
            outcome, error = exc.outcome, str(exc)
            stop = SmtpTlsError if exc.outcome is AttemptOutcome.TLS else SmtpPolicyError
        except ssl.SSLCertVerificationError as exc:
            outcome = AttemptOutcome.TLS
            error = f"TLS certificate of {s.host} refused: {exc.verify_message or exc.reason}"
            error += " (use --ca-file for a private CA, or --insecure to skip verification)"
            stop = SmtpTlsError
        except ssl.SSLError as exc:
            outcome = AttemptOutcome.TLS
            error = f"TLS handshake with {s.host}:{s.port} failed: {exc.reason or exc}"
            stop = SmtpTlsError
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            outcome = AttemptOutcome.NETWORK
            error = _network_message(exc, s)
            if rec.message_sent:
                error += "; the whole message had been sent, so it may have been accepted"
                stop = SmtpDeliveryUnknown
        except smtplib.SMTPException as exc:
            outcome = AttemptOutcome.NETWORK
            error = f"SMTP protocol error: {exc}"
            stop = SmtpConnectionError
        if outcome is not AttemptOutcome.NETWORK:
            session.quit()
        elif session.client is not None:
            session.client.close()
        if error is not None:
            rec.add(TranscriptKind.ERROR, error)
        attempts.append(
            SmtpAttempt(
                number=number,
                started_at=attempt_started,
                entries=tuple(rec.entries),
                ehlo_capabilities=session.capabilities,
                tls=session.tls,
                outcome=outcome,
                reply=reply,
                error=error,
            )
        )
        if outcome is AttemptOutcome.DELIVERED:
            return transcript(SendStatus.SENT, reply, None)
        if stop is not None:
            status = SendStatus.REJECTED if stop is SmtpRejected else SendStatus.FAILED
            raise stop(error or "", transcript(status, reply, error))
        last_error, last_reply = error or "", reply
        if reply is None:
            last_kind = SmtpConnectionError
    summary = f"gave up after {len(attempts)} attempts: {last_error}"
    raise last_kind(summary, transcript(SendStatus.FAILED, last_reply, summary))
