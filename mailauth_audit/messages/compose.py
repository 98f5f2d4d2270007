"""Compose the test message: RFC 5322 headers, a MIME text part, optional one-click unsubscribe.

Pure given a clock and a unique token: the same inputs give the same bytes, so tests can
compare messages and signatures exactly. Uses the standard library's `email` package with
the SMTP policy (CRLF line ends, lines folded at 78), which is what goes over the wire.

Standards: RFC 5322 §3.6 (exactly one From, one Date, Message-ID), RFC 2045/2046 (MIME),
RFC 2369 (List-Unsubscribe), RFC 8058 (List-Unsubscribe-Post one-click: needs an HTTPS URI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from urllib.parse import urlsplit

import idna

from ..errors import MailauthAuditError

ONE_CLICK_VALUE = "List-Unsubscribe=One-Click"  # RFC 8058 §3.1: the exact value
DEFAULT_SUBJECT = "mailauth-audit test message"
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_TOKEN = re.compile(r"[A-Za-z0-9._-]{8,64}")


class ComposeError(MailauthAuditError, ValueError):
    """An address, URI or header value we will not put in a message."""


@dataclass(frozen=True)
class MessageSpec:
    """What the user asks for. Addresses are plain addr-specs (`local@domain`)."""

    from_address: str
    to_addresses: tuple[str, ...]
    subject: str = DEFAULT_SUBJECT
    body: str | None = None  # None: a short text saying what the message is for
    from_name: str | None = None  # display name of From
    list_unsubscribe: tuple[str, ...] = ()  # https:// and mailto: URIs, in order
    one_click: bool = True  # add List-Unsubscribe-Post when an https URI is given


@dataclass(frozen=True)
class ComposedMessage:
    """The wire form of the message and the facts the sender and the transcript need."""

    message_id: str  # with angle brackets, as in the header
    from_address: str
    from_domain: str
    recipients: tuple[str, ...]
    date: str  # the Date header value
    headers: tuple[str, ...]  # header names in order, as written
    size: int  # bytes of `data`
    data: str  # the message, CRLF line ends, ASCII (non-ASCII is MIME-encoded)


def split_address(address: str) -> tuple[str, str]:
    """(local part, ASCII domain) of an addr-spec; ComposeError when it is not one.

    Deliberately strict: a test message with a doubtful address would test nothing. A
    non-ASCII domain is converted to its A-label; a non-ASCII local part would need
    SMTPUTF8, which a first test of authentication should not depend on.
    """
    text = address.strip()
    if any(c in text for c in "\r\n\0") or text.count("@") != 1:
        raise ComposeError(f"{address!r} is not an e-mail address (local@domain)")
    local, domain = text.split("@")
    if not local or not _LOCAL_PART.fullmatch(local) or ".." in local:
        raise ComposeError(f"{address!r}: unsupported local part {local!r}")
    if local.startswith(".") or local.endswith("."):
        raise ComposeError(f"{address!r}: local part may not start or end with a dot")
    try:
        ascii_domain = idna.encode(domain.rstrip("."), uts46=True).decode("ascii").lower()
    except idna.IDNAError:
        raise ComposeError(f"{address!r}: {domain!r} is not a valid domain name") from None
    if "." not in ascii_domain:
        raise ComposeError(f"{address!r}: the domain must be fully qualified")
    return local, ascii_domain


def normalize_address(address: str) -> str:
    local, domain = split_address(address)
    return f"{local}@{domain}"


def _unsubscribe_uri(uri: str) -> str:
    text = uri.strip()
    if any(c in text for c in "\r\n\0<> \t,"):
        raise ComposeError(f"unsubscribe URI {uri!r} contains a forbidden character")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "mailto":
        normalize_address(parts.path)
        return text
    if scheme == "https" and parts.netloc:
        return text
    if scheme == "http":
        raise ComposeError(
            f"unsubscribe URI {uri!r} uses http: one-click unsubscribe needs https (RFC 8058 §3.1)"
        )
    raise ComposeError(f"unsubscribe URI {uri!r} must be an https: URL or a mailto: address")


def default_body(spec: MessageSpec, message_id: str) -> str:
    return (
        "This is a test message sent by mailauth-audit to check how this message is\n"
        "authenticated (DKIM, SPF, DMARC) on its way to you.\n"
        "\n"
        f"From: {spec.from_address}\n"
        f"Message-ID: {message_id}\n"
        "\n"
        "It needs no reply. If you did not expect it, you can delete it.\n"
    )


def compose_message(spec: MessageSpec, *, now: datetime, token: str) -> ComposedMessage:
    """Build the message. `now` must be timezone-aware; `token` (8-64 of [A-Za-z0-9._-])
    makes the Message-ID unique: the caller passes a random one, tests a fixed one."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (RFC 5322 dates carry a zone)")
    if not _TOKEN.fullmatch(token):
        raise ValueError("token must be 8-64 characters of [A-Za-z0-9._-]")
    if not spec.to_addresses:
        raise ComposeError("at least one recipient is needed")
    if any(c in spec.subject for c in "\r\n\0"):
        raise ComposeError("the subject may not contain line breaks")
    from_local, from_domain = split_address(spec.from_address)
    recipients = tuple(normalize_address(a) for a in spec.to_addresses)
    uris = tuple(_unsubscribe_uri(u) for u in spec.list_unsubscribe)
    message_id = f"<mailauth-audit.{token}@{from_domain}>"
    date = format_datetime(now)

    msg = EmailMessage(policy=SMTP)
    display = (spec.from_name or "").strip()
    if any(c in display for c in "\r\n\0"):
        raise ComposeError("the sender name may not contain line breaks")
    msg["From"] = Address(display_name=display, username=from_local, domain=from_domain)
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = spec.subject
    msg["Date"] = date
    msg["Message-ID"] = message_id
    if uris:
        msg["List-Unsubscribe"] = ", ".join(f"<{u}>" for u in uris)
        if spec.one_click and any(u.lower().startswith("https:") for u in uris):
            msg["List-Unsubscribe-Post"] = ONE_CLICK_VALUE
    body = spec.body if spec.body is not None else default_body(spec, message_id)
    msg.set_content(body, charset="utf-8")  # adds MIME-Version, Content-Type, -Transfer-Encoding
    data = msg.as_bytes().decode("ascii")
    return ComposedMessage(
        message_id=message_id,
        from_address=f"{from_local}@{from_domain}",
        from_domain=from_domain,
        recipients=recipients,
        date=date,
        headers=tuple(msg.keys()),
        size=len(data.encode("ascii")),
        data=data,
    )
