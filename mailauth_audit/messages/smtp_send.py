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
- The server is not trusted to keep its replies short or ever finish them: each reply has
  caps and a deadline, each attempt and the whole send a deadline (`smtp_reply`). A reply
  over a cap is a protocol error and is not retried.

The transcript keeps everything said on the connection except secrets (`smtp_transcript`).
The password is only an argument, never stored in a dataclass.

Uses smtplib (blocking) on purpose: one submission is one short conversation, and a
subclass can observe every command and reply, which the transcript needs; replies are read
by our own bounded reader instead of smtplib's.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .smtp_model import (
    AttemptOutcome,
    PlaintextAuthRefused,
    RetryPolicy,
    SendStatus,
    SmtpAttempt,
    SmtpConnectionError,
    SmtpDeliveryUnknown,
    SmtpPolicyError,
    SmtpProtocolError,
    SmtpRejected,
    SmtpReply,
    SmtpSecurity,
    SmtpSendError,
    SmtpSettings,
    SmtpTemporaryFailure,
    SmtpTlsError,
    SmtpTranscript,
    TlsInfo,
    TranscriptEntry,
    TranscriptKind,
    default_security,
    explain_reply,
)
from .smtp_reply import (
    DeadlinePassed,
    Deadlines,
    ReplyTooLarge,
    TotalDeadlinePassed,
    Watchdog,
    total_error,
)
from .smtp_session import AttemptStop, ReplyStop, Session, tls_context
from .smtp_transcript import REDACTED, Recorder

__all__ = [
    "REDACTED",
    "TRANSIENT_CODES",
    "AttemptOutcome",
    "PlaintextAuthRefused",
    "RetryNotice",
    "RetryPolicy",
    "SendStatus",
    "SmtpAttempt",
    "SmtpConnectionError",
    "SmtpDeliveryUnknown",
    "SmtpPolicyError",
    "SmtpProtocolError",
    "SmtpRejected",
    "SmtpReply",
    "SmtpSecurity",
    "SmtpSendError",
    "SmtpSettings",
    "SmtpTemporaryFailure",
    "SmtpTlsError",
    "SmtpTranscript",
    "TlsInfo",
    "TranscriptEntry",
    "TranscriptKind",
    "check_auth_policy",
    "default_security",
    "explain_reply",
    "submit",
    "tls_context",
]

TRANSIENT_CODES = (421, 450, 451, 452)


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


def _attempts(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _network_message(exc: BaseException, s: SmtpSettings) -> str:
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, TimeoutError) or isinstance(cause, TimeoutError):
        return f"timed out after {s.limits.reply_timeout:g} s waiting for {s.host}:{s.port}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {s.host}:{s.port}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"the server closed the connection unexpectedly ({exc})"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {s.host}: {exc.strerror}"
    return f"network error talking to {s.host}:{s.port}: {exc}"


def _attempt(
    number: int,
    s: SmtpSettings,
    rec: Recorder,
    deadlines: Deadlines,
    send: Callable[[Session], SmtpReply],
) -> tuple[SmtpAttempt, type[SmtpSendError] | None]:
    """Run one attempt; return it and, when no further attempt may follow, the error class
    to raise."""
    started = _now_iso()
    where = f"{s.host}:{s.port}"
    reply: SmtpReply | None = None
    error: str | None = None
    stop: type[SmtpSendError] | None = None
    with Watchdog(deadlines.remaining()) as watchdog:
        session = Session(s, rec, deadlines, watchdog)
        outcome = AttemptOutcome.NETWORK
        try:
            reply = send(session)
            outcome = AttemptOutcome.DELIVERED
        except ReplyStop as exc:
            reply = exc.reply
            transient = reply.code in TRANSIENT_CODES or 400 <= reply.code < 500
            outcome = AttemptOutcome.TRANSIENT if transient else AttemptOutcome.PERMANENT
            first_line = reply.text.splitlines()[0] if reply.text else ""
            error = f"server replied {reply.code} {first_line}".strip()
            stop = None if transient else SmtpRejected
        except AttemptStop as exc:
            outcome, error = exc.outcome, str(exc)
            stop = SmtpTlsError if exc.outcome is AttemptOutcome.TLS else SmtpPolicyError
        except ReplyTooLarge as exc:
            outcome, error, stop = AttemptOutcome.PROTOCOL, f"{where}: {exc}", SmtpProtocolError
        except DeadlinePassed as exc:
            error = f"{where}: {exc}"
            stop = SmtpConnectionError if isinstance(exc, TotalDeadlinePassed) else None
        except ssl.SSLCertVerificationError as exc:
            outcome = AttemptOutcome.TLS
            error = f"TLS certificate of {s.host} refused: {exc.verify_message or exc.reason}"
            error += " (use --ca-file for a private CA, or --insecure to skip verification)"
            stop = SmtpTlsError
        except ssl.SSLError as exc:
            outcome = AttemptOutcome.TLS
            error = f"TLS handshake with {where} failed: {exc.reason or exc}"
            stop = SmtpTlsError
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            error = _network_message(exc, s)
        except smtplib.SMTPException as exc:
            error = f"SMTP protocol error: {exc}"
            stop = SmtpConnectionError
        out_of_time = watchdog.fired.is_set() or deadlines.remaining() <= 0
        if out_of_time and outcome in (AttemptOutcome.NETWORK, AttemptOutcome.TLS):
            # whatever broke, it broke because the attempt's time was up
            late = deadlines.attempt_error()
            outcome, error = AttemptOutcome.NETWORK, f"{where}: {late}"
            stop = SmtpConnectionError if isinstance(late, TotalDeadlinePassed) else None
        unfinished = outcome in (AttemptOutcome.NETWORK, AttemptOutcome.PROTOCOL)
        if unfinished and rec.message_sent:
            error = f"{error}; the whole message had been sent, so it may have been accepted"
            stop = SmtpDeliveryUnknown
        if unfinished:
            session.close()
        else:
            session.quit()
    if error is not None:
        error = rec.scrub(error)
        rec.add(TranscriptKind.ERROR, error)
    attempt = SmtpAttempt(
        number=number,
        started_at=started,
        entries=tuple(rec.entries),
        ehlo_capabilities=session.capabilities,
        tls=session.tls,
        outcome=outcome,
        reply=reply,
        error=error,
    )
    return attempt, stop


@dataclass(frozen=True)
class RetryNotice:
    """What `submit` is about to do after a failed attempt: wait `delay` s, then retry."""

    attempt: int  # the attempt about to be made (2 = the first retry)
    max_attempts: int
    delay: float  # seconds of waiting before it
    last_error: str  # why the previous attempt failed (escaped later, for a terminal)

    def __str__(self) -> str:
        return (
            f"{self.last_error}; retrying in {self.delay:g} s "
            f"(attempt {self.attempt} of {self.max_attempts})"
        )


def submit(
    data: bytes | str,
    *,
    mail_from: str,
    recipients: tuple[str, ...],
    settings: SmtpSettings,
    password: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> SmtpTranscript:
    """Submit one message. Returns the transcript when the server accepted it; raises an
    SmtpSendError subclass (carrying the transcript) otherwise. `on_retry` hears of each
    wait before another attempt, so that a person is not left waiting in silence."""
    check_auth_policy(settings)
    payload = data.encode("ascii") if isinstance(data, str) else data
    started = _now_iso()
    start = clock()
    s = settings
    total_end = start + s.limits.total_timeout
    attempts: list[SmtpAttempt] = []

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

    def send(session: Session) -> SmtpReply:
        return session.run(payload, mail_from, recipients, password)

    last_error = ""
    last_reply: SmtpReply | None = None
    for number in range(1, max(1, s.retry.max_attempts) + 1):
        rec = Recorder(clock, start, password)
        if number > 1:
            delay = s.retry.delay(number - 1)
            if clock() + delay >= total_end:
                summary = (
                    f"gave up after {_attempts(len(attempts))}: {total_error(s.limits)}, "
                    f"no time left for attempt {number}; last: {last_error}"
                )
                raise SmtpConnectionError(
                    summary, transcript(SendStatus.FAILED, last_reply, summary)
                )
            rec.add(TranscriptKind.WAIT, f"waiting {delay:g} s before attempt {number}")
            if on_retry is not None:
                on_retry(RetryNotice(number, max(1, s.retry.max_attempts), delay, last_error))
            sleep(delay)
        deadlines = Deadlines.for_attempt(clock, s.limits, total_end)
        attempt, stop = _attempt(number, s, rec, deadlines, send)
        attempts.append(attempt)
        if attempt.outcome is AttemptOutcome.DELIVERED:
            return transcript(SendStatus.SENT, attempt.reply, None)
        if stop is not None:
            status = SendStatus.REJECTED if stop is SmtpRejected else SendStatus.FAILED
            raise stop(attempt.error or "", transcript(status, attempt.reply, attempt.error))
        last_error, last_reply = attempt.error or "", attempt.reply
    summary = f"gave up after {_attempts(len(attempts))}: {last_error}"
    kind = SmtpTemporaryFailure if last_reply is not None else SmtpConnectionError
    raise kind(summary, transcript(SendStatus.FAILED, last_reply, summary))
