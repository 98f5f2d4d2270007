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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .engine.auditor import Auditor
from .engine.observers import AuditObserver, RunSummary
from .facade_exports import LAZY, RE_EXPORTS
from .model import AuditRun, DomainReport, Severity
from .options import AuditOptions
from .resolver.base import Resolver as Resolver
from .session import AuditSession, validate_options
from .version import __version__ as __version__

if TYPE_CHECKING:
    # every name re-exported lazily (`_RE_EXPORTS`), typed for mypy, which reads this module
    # with implicit re-export (pyproject.toml): facade_types.py is never imported at run time
    from .facade_types import *  # noqa: F403
    from .facade_types import (
        SMTP_PASSWORD_ENV,
        STORE_ENV,
        WEBHOOK_SECRET_ENV,
        ApiToken,
        AuditDiff,
        ComposedMessage,
        DeliveryOutcome,
        DkimPrivateKey,
        DkimSignature,
        DomainHistory,
        EmailTarget,
        Envelope,
        FixOutcome,
        ImportResult,
        MessageReport,
        MessageSpec,
        RetryNotice,
        RunDiff,
        SchemaTooNew,
        ServiceConfig,
        SmtpSettings,
        SmtpTranscript,
        Store,
        StoredEvent,
        StoreError,
        StoreRecorder,
        StoreUnavailable,
        TokenScope,
        VerifyOptions,
        WorkerConfig,
        ack_events,
        create_token,
        cutoff,
        default_store_path,
        deliver_events,
        diff_domain,
        diff_html,
        diff_runs,
        diff_text,
        domain_history,
        email_target,
        events_text,
        history_html,
        history_text,
        import_results,
        json_document,
        list_events,
        list_tokens,
        open_store,
        openapi_text,
        parse_duration,
        revoke_token,
        run_diff_text,
        run_service,
        run_worker,
        store_url_from,
        stored_run,
    )

__all__ = [
    "SMTP_PASSWORD_ENV",
    "STORE_ENV",
    "WEBHOOK_SECRET_ENV",
    "ApiToken",
    "AuditDiff",
    "AuditObserver",
    "AuditSession",
    "DeliveryOutcome",
    "DomainHistory",
    "EmailTarget",
    "ImportResult",
    "RunDiff",
    "RunSummary",
    "SchemaTooNew",
    "SentMessage",
    "ServiceConfig",
    "Store",
    "StoreError",
    "StoreRecorder",
    "StoreUnavailable",
    "StoredEvent",
    "TokenScope",
    "WorkerConfig",
    "ack_events",
    "audit_batch",
    "audit_domain",
    "audit_domains",
    "create_token",
    "cutoff",
    "default_store_path",
    "deliver_events",
    "diff_domain",
    "diff_html",
    "diff_runs",
    "diff_text",
    "domain_history",
    "email_target",
    "events_text",
    "fix_domain",
    "history_html",
    "history_text",
    "import_results",
    "json_document",
    "list_events",
    "list_tokens",
    "open_store",
    "openapi_text",
    "parse_duration",
    "render",
    "render_fix",
    "revoke_token",
    "run_diff_text",
    "run_service",
    "run_worker",
    "send_test_message",
    "store_url_from",
    "stored_run",
    "validate_options",
    "verify_message",
    "write_corrected_zone",
    "zone_diff",
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


async def fix_domain(
    domain: str,
    options: AuditOptions | None = None,
    *,
    zone_file: str | Path | None = None,
    zone_text: str | None = None,
    origin: str | None = None,
    resolver: Resolver | None = None,
    allow_placeholders: bool = False,
) -> FixOutcome:
    """The combined change set for `domain`, applied and audited again.

    With `zone_file` or `zone_text` the zone is corrected and the corrected text is audited
    (`outcome.corrected_zone`); otherwise live DNS is audited with the changes laid over it.
    Changes holding a value only the owner knows are held back unless `allow_placeholders`.
    Render with `render_fix`, diff with `zone_diff`, write with `write_corrected_zone`."""
    from .fix.runner import fix_domain as run_fix  # imported when used: `check` needs none

    return await run_fix(
        domain,
        options,
        zone_file=zone_file,
        zone_text=zone_text,
        origin=origin,
        resolver=resolver,
        allow_placeholders=allow_placeholders,
    )


def render_fix(outcome: FixOutcome) -> str:
    """`fix`'s text: the change set per name, what needs input, grades before and after."""
    from .fix.render import render_fix as render

    return render(outcome)


def zone_diff(outcome: FixOutcome, name: str = "zone") -> str:
    """A unified diff of the zone file against the corrected zone ("" without one)."""
    from .fix.render import zone_diff as diff

    return diff(outcome, name)


def write_corrected_zone(outcome: FixOutcome, path: str | Path) -> None:
    """Write `outcome.corrected_zone` to `path` atomically (symbolic links refused)."""
    from .fix.runner import write_corrected_zone as write

    write(outcome, path)


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

_RE_EXPORTS = RE_EXPORTS  # module -> the names of it clients import from here (facade_exports)
_LAZY = LAZY


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __package__), name)
    globals()[name] = value
    return value
