"""The facade: the async originals every client uses (the CLI, a notebook, the HTTP service).
`api.py` mirrors them for synchronous callers.

- `AuditSession`: a long-lived auditor with a bounded cache and memo (session.py);
- `audit_domain`, `audit_domains`: one-off audits that keep their reports;
- `audit_batch`: any number of domains, each report handed to observers
  (engine/observers.py) and not kept;
- `verify_message`, `send_test_message`: the message side;
- `render(run_or_report, format)`: every output format, judged once (verdicts/);
- `validate_options`: refuses unusable options before any work starts.

Everything a client needs is importable from here; the names listed in `_LAZY` are
imported on first use, so `import mailauth_audit.asyncapi` does not load the message
stack, the bulk runner or jinja2 until a caller asks for them.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .engine.auditor import Auditor
from .engine.observers import AuditObserver, RunSummary
from .model import AuditRun, DomainReport, Severity
from .options import AuditOptions
from .resolver.base import Resolver
from .session import AuditSession, validate_options

if TYPE_CHECKING:
    from .messages.compose import ComposedMessage, MessageSpec
    from .messages.keys import DkimPrivateKey
    from .messages.model import Envelope, MessageReport
    from .messages.sign import DkimSignature
    from .messages.smtp_model import SmtpSettings, SmtpTranscript
    from .messages.smtp_send import RetryNotice
    from .messages.verify import VerifyOptions

__all__ = [
    "AuditObserver",
    "AuditSession",
    "RunSummary",
    "SentMessage",
    "audit_batch",
    "audit_domain",
    "audit_domains",
    "render",
    "send_test_message",
    "validate_options",
    "verify_message",
]


async def audit_domain(
    domain: str, options: AuditOptions | None = None, *, resolver: Resolver | None = None
) -> DomainReport:
    """Audit one domain. Invalid names give a report with status `invalid`, not an exception.

    Pass `resolver` (e.g. a `StaticResolver` over zone text) to audit without the network.
    """
    async with Auditor(validate_options(options, resolver=resolver), resolver) as auditor:
        return await auditor.audit_domain(domain)


async def audit_domains(
    domains: Iterable[str], options: AuditOptions | None = None, *, resolver: Resolver | None = None
) -> AuditRun:
    """Audit several domains sharing one DNS cache; reports come back in input order."""
    async with Auditor(validate_options(options, resolver=resolver), resolver) as auditor:
        return await auditor.audit_domains(domains)


async def audit_batch(
    domains: Iterable[str] | AsyncIterable[str],
    options: AuditOptions | None = None,
    *,
    observers: Sequence[AuditObserver] = (),
    resolver: Resolver | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RunSummary:
    """Audit any number of domains, handing each report to `observers` as it is done.

    No report is kept, so memory does not grow with the list; the observers write, count
    or store (see engine/observers.py for their protocol). Runs in the caller's event loop:
    it forks nothing and installs no signal handler, so a task-queue worker can call it.
    `should_stop` ends the run early (what is in flight finishes and is reported)."""
    async with AuditSession(options, resolver=resolver) as session:
        return await session.audit_batch(domains, observers, should_stop=should_stop)


async def verify_message(
    raw: bytes,
    options: AuditOptions | None = None,
    *,
    envelope: Envelope | None = None,
    verify_options: VerifyOptions | None = None,
    resolver: Resolver | None = None,
    size: int | None = None,
) -> MessageReport:
    """Verify a received message (DKIM, SPF, DMARC, ARC, hygiene) as its receiver would.

    DNS goes through `resolver` when given, else through a run cache built from `options`
    (nameservers, timeouts). `size` is the real size when `raw` was read truncated."""
    from .messages.verify import verify_message as _verify
    from .resolver.factory import make_resolver

    own = resolver is None
    used = make_resolver(validate_options(options)) if resolver is None else resolver
    try:
        return await _verify(raw, used, envelope, verify_options, size=size)
    finally:
        if own:
            await used.aclose()


@dataclass(frozen=True)
class SentMessage:
    """What `send_test_message` composed, signed and submitted."""

    composed: ComposedMessage  # the message as composed (Message-ID, recipients, size...)
    data: bytes  # the bytes submitted: the message, with its DKIM-Signature when signed
    signature: DkimSignature | None  # None when sent unsigned
    transcript: SmtpTranscript  # the SMTP session (password and AUTH exchange redacted)


async def send_test_message(
    spec: MessageSpec,
    settings: SmtpSettings,
    *,
    dkim_key: DkimPrivateKey | None = None,
    dkim_selector: str | None = None,
    dkim_domain: str | None = None,
    password: str | None = None,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> SentMessage:
    """Compose a test message, DKIM-sign it when a key is given, and submit it over SMTP.

    The SMTP conversation blocks, so it runs in a worker thread; the caller's loop keeps
    running. Raises ComposeError, SigningError or ValueError before anything is sent; an
    SmtpSendError subclass (carrying the transcript) when the server did not accept it."""
    import secrets
    from datetime import UTC, datetime

    from .messages.compose import compose_message
    from .messages.sign import sign_message
    from .messages.smtp_send import submit

    if (dkim_key is None) != (dkim_selector is None):
        raise ValueError("dkim_key and dkim_selector go together")
    composed = compose_message(spec, now=datetime.now(UTC), token=secrets.token_hex(12))
    data = composed.data.encode("ascii")
    signature = None
    if dkim_key is not None and dkim_selector is not None:
        domain = (dkim_domain or composed.from_domain).lower()
        data, signature = sign_message(data, dkim_key, domain=domain, selector=dkim_selector)
    transcript = await asyncio.to_thread(
        submit,
        data,
        mail_from=composed.from_address,
        recipients=composed.recipients,
        settings=settings,
        password=password,
        on_retry=on_retry,
    )
    return SentMessage(composed, data, signature, transcript)


def render(
    subject: AuditRun | DomainReport | MessageReport,
    format: str = "text",
    *,
    color: bool = False,
    fail_on: Severity | None = None,
) -> str:
    """`subject` in an output format: text, json, html, csv or junit for audits (a single
    report is rendered as a run of one); text, json or html for a message report.

    Renderers only present: the grade and the checklist were judged once, on the report."""
    from .report.renderers import render_audit

    return render_audit(subject, format, color=color, fail_on=fail_on)


# ---- what clients import through the facade, loaded on first use -------------------------

_LAZY: dict[str, str] = {}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __package__), name)
    globals()[name] = value
    return value
