"""What one SMTP submission is made of: settings, replies, the transcript, the errors, and
what reply codes usually mean. Pure data; the conversation itself is in `smtp_send`.

RFC 5321 (reply codes §4.2), RFC 3463 (enhanced status codes), RFC 7504 (521), RFC 7505.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ..errors import MailauthAuditError
from ..options import SmtpSendLimits

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
    PROTOCOL = "protocol"  # the server broke a bound: a reply too long or too many lines


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
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    limits: SmtpSendLimits = field(default_factory=SmtpSendLimits)  # deadlines, reply caps


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


class SmtpProtocolError(SmtpSendError):
    """The server broke a bound on its replies (too many lines or bytes): not retried, since
    a server that does it once does it again."""


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


def parse_reply(code: int, raw: bytes | str) -> SmtpReply:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    first = text.split(None, 1)[0] if text.strip() else ""
    parts = first.split(".")
    enhanced = (
        first
        if len(parts) == 3 and parts[0] in ("2", "4", "5") and all(p.isdigit() for p in parts)
        else None
    )
    return SmtpReply(code=code, text=text, enhanced_status=enhanced)
