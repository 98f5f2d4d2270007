"""Delivering drift events: a signed webhook POST per event, and/or one email per delivery.

Why each choice:
- Once each: a delivery row (event, channel) records the outcome; an event delivered on a
  channel is never sent there again, and the event key travels with it (header and body) so
  a receiver can drop a repeat of its own.
- Signed: the body's HMAC-SHA256 with a secret from the environment, in a header, so the
  receiver knows the POST is ours. Secrets never enter the store.
- Bounded: each POST has a timeout, each event a number of attempts with exponential
  backoff (StoreLimits); a dead endpoint costs at most attempts x (timeout + backoff) per
  event, and is recorded as failed, to be tried again by the next delivery.
- Email goes through the project's own SMTP sender (messages.smtp_send.submit): STARTTLS,
  AUTH only inside TLS, bounded replies, as `send` does it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import httpx
from sqlalchemy import select

from ..messages.smtp_model import SmtpSecurity, SmtpSendError, SmtpSettings, default_security
from ..messages.smtp_send import submit
from ..options import StoreLimits
from ..version import __version__
from .record import dialect_insert, utc_text
from .schema import deliveries, events
from .store import Store
from .views import StoredEvent

__all__ = [
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "SMTP_PASSWORD_ENV",
    "WEBHOOK_SECRET_ENV",
    "DeliveryOutcome",
    "EmailTarget",
    "deliver_events",
    "email_target",
    "sign",
]

WEBHOOK_SECRET_ENV = "MAILAUTH_AUDIT_WEBHOOK_SECRET"
SMTP_PASSWORD_ENV = "MAILAUTH_AUDIT_SMTP_PASSWORD"
SIGNATURE_HEADER = "X-Mailauth-Audit-Signature"  # "sha256=<hex of HMAC-SHA256(secret, body)>"
EVENT_HEADER = "X-Mailauth-Audit-Event"  # the event key: the same event, the same key


@dataclass(frozen=True)
class EmailTarget:
    settings: SmtpSettings
    mail_from: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class DeliveryOutcome:
    event_id: int
    channel: str
    status: str  # "delivered" or "failed"
    attempts: int
    error: str | None


def email_target(
    host: str,
    port: int,
    security: str | None,
    username: str | None,
    mail_from: str,
    recipients: tuple[str, ...],
    ca_file: str | None = None,
) -> EmailTarget:
    """Where alert mail goes, as `send` would submit it (TLS on 465, STARTTLS otherwise)."""
    settings = SmtpSettings(
        host=host,
        port=port,
        security=SmtpSecurity(security) if security else default_security(port),
        ehlo_name="mailauth-audit.invalid",  # never looked up; a name of our own, not the host's
        username=username,
        ca_file=ca_file,
    )
    return EmailTarget(settings, mail_from, recipients)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _payload(event: StoredEvent, key: str) -> bytes:
    doc = {
        "tool": {"name": "mailauth-audit", "version": __version__},
        "event_key": key,
        "event": asdict(event),
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()


def _pending(store: Store, channel: str, found: list[StoredEvent]) -> list[tuple[StoredEvent, str]]:
    """The events not yet delivered on `channel`, with their keys."""
    ids = [e.id for e in found]
    with store.transaction(write=False) as conn:
        done = set(
            conn.execute(
                select(deliveries.c.event_id).where(
                    deliveries.c.channel == channel,
                    deliveries.c.status == "delivered",
                    deliveries.c.event_id.in_(ids),
                )
            ).scalars()
        )
        keys = dict(
            conn.execute(select(events.c.id, events.c.event_key).where(events.c.id.in_(ids))).all()
        )
    return [(e, str(keys[e.id])) for e in found if e.id not in done]


def _save(store: Store, outcomes: list[DeliveryOutcome]) -> None:
    if not outcomes:
        return
    now = utc_text()
    with store.transaction() as conn:
        for o in outcomes:
            stmt = dialect_insert(conn, deliveries).values(
                event_id=o.event_id,
                channel=o.channel,
                status=o.status,
                attempts=o.attempts,
                last_error=o.error,
                updated_at=now,
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["event_id", "channel"],
                    set_={
                        "status": o.status,
                        "attempts": deliveries.c.attempts + o.attempts,
                        "last_error": o.error,
                        "updated_at": now,
                    },
                )
            )


def _post(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: dict[str, str],
    limits: StoreLimits,
    sleep: Callable[[float], None],
) -> tuple[bool, int, str | None]:
    error = None
    for attempt in range(1, limits.webhook_attempts + 1):
        if attempt > 1:
            sleep(limits.webhook_backoff * 2 ** (attempt - 2))
        try:
            reply = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
            continue
        if 200 <= reply.status_code < 300:
            return True, attempt, None
        error = f"HTTP {reply.status_code}"
    return False, limits.webhook_attempts, error


def deliver_events(
    store: Store,
    found: list[StoredEvent],
    *,
    webhook: str | None = None,
    webhook_secret: str | None = None,
    email: EmailTarget | None = None,
    smtp_password: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[DeliveryOutcome]:
    """Deliver the events not yet delivered on each channel; every outcome is stored."""
    limits = store.limits
    found = found[: limits.max_events_per_delivery]
    outcomes: list[DeliveryOutcome] = []
    if webhook is not None:
        channel = f"webhook:{webhook}"
        batch: list[DeliveryOutcome] = []
        with httpx.Client(timeout=limits.webhook_timeout, follow_redirects=False) as client:
            for event, key in _pending(store, channel, found):
                body = _payload(event, key)
                headers = {"Content-Type": "application/json", EVENT_HEADER: key}
                if webhook_secret:
                    headers[SIGNATURE_HEADER] = sign(webhook_secret, body)
                ok, attempts, error = _post(client, webhook, body, headers, limits, sleep)
                batch.append(
                    DeliveryOutcome(
                        event.id, channel, "delivered" if ok else "failed", attempts, error
                    )
                )
        _save(store, batch)
        outcomes += batch
    if email is not None:
        channel = "email:" + ",".join(email.recipients)
        pending = _pending(store, channel, found)
        if pending:
            status, error = "delivered", None
            try:
                submit(
                    _email(email, [e for e, _ in pending]),
                    mail_from=email.mail_from,
                    recipients=email.recipients,
                    settings=email.settings,
                    password=smtp_password,
                    sleep=sleep,
                )
            except SmtpSendError as exc:
                status, error = "failed", str(exc)
            batch = [DeliveryOutcome(e.id, channel, status, 1, error) for e, _ in pending]
            _save(store, batch)
            outcomes += batch
    return outcomes


def _email(target: EmailTarget, found: list[StoredEvent]) -> bytes:
    msg = EmailMessage()
    domains = sorted({e.domain for e in found})
    msg["Subject"] = f"mailauth-audit: {len(found)} drift events ({', '.join(domains[:3])}" + (
        ", …)" if len(domains) > 3 else ")"
    )
    msg["From"] = target.mail_from
    msg["To"] = ", ".join(target.recipients)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=target.mail_from.rpartition("@")[2] or None)
    lines = []
    for e in found:
        change = ""
        if e.before is not None or e.after is not None:
            change = f": {e.before or '(none)'} -> {e.after or '(none)'}"
        lines.append(f"[{e.severity}] {e.domain} {e.code} {e.subject}{change} (#{e.id})")
    msg.set_content("\n".join(lines) + "\n")
    return msg.as_bytes()
