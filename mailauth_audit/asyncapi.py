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
from .model import AuditRun, DomainReport, Severity
from .options import AuditOptions
from .resolver.base import Resolver as Resolver
from .session import AuditSession, validate_options
from .version import __version__ as __version__

if TYPE_CHECKING:
    # the names clients import through the facade (see _RE_EXPORTS), typed for mypy
    from .atomic_write import (
        write_atomically as write_atomically,
    )
    from .bulk.folder import (
        COMPRESSED_NAMES as COMPRESSED_NAMES,
    )
    from .bulk.folder import (
        compressed_results as compressed_results,
    )
    from .bulk.inputs import (
        InputStats as InputStats,
    )
    from .bulk.inputs import (
        read_entries as read_entries,
    )
    from .bulk.inputs import (
        strip_comment as strip_comment,
    )
    from .bulk.jsonl import (
        ResultsWriteError as ResultsWriteError,
    )
    from .bulk.manifest import (
        ResumeMismatch as ResumeMismatch,
    )
    from .bulk.runner import (
        RESULTS_NAME as RESULTS_NAME,
    )
    from .bulk.runner import (
        BulkConfig as BulkConfig,
    )
    from .bulk.runner import (
        run_bulk as run_bulk,
    )
    from .bulk.summary import (
        BulkSummary as BulkSummary,
    )
    from .checks.dkim.selector_inputs import (
        read_message_selectors as read_message_selectors,
    )
    from .checks.dkim.selector_inputs import (
        read_selectors_file as read_selectors_file,
    )
    from .checks.dkim.selector_inputs import (
        valid_selector as valid_selector,
    )
    from .demo.sample import (
        DEFAULT_DEMO_FOLDER as DEFAULT_DEMO_FOLDER,
    )
    from .demo.sample import (
        audit_demo as audit_demo,
    )
    from .demo.sample import (
        write_demo as write_demo,
    )
    from .domain import (
        normalize_domain as normalize_domain,
    )
    from .fix.runner import FixOutcome
    from .messages.compose import (
        DEFAULT_SUBJECT as DEFAULT_SUBJECT,
    )
    from .messages.compose import ComposedMessage
    from .messages.compose import (
        ComposeError as ComposeError,
    )
    from .messages.compose import (
        MessageSpec as MessageSpec,
    )
    from .messages.compose import (
        compose_message as compose_message,
    )
    from .messages.keys import (
        DEFAULT_RSA_BITS as DEFAULT_RSA_BITS,
    )
    from .messages.keys import (
        MAX_RSA_BITS as MAX_RSA_BITS,
    )
    from .messages.keys import (
        MIN_RSA_BITS as MIN_RSA_BITS,
    )
    from .messages.keys import (
        RECOMMENDED_RSA_BITS as RECOMMENDED_RSA_BITS,
    )
    from .messages.keys import (
        DkimKeyError as DkimKeyError,
    )
    from .messages.keys import (
        DkimKeyType as DkimKeyType,
    )
    from .messages.keys import DkimPrivateKey
    from .messages.keys import (
        generate_key as generate_key,
    )
    from .messages.keys import (
        key_record as key_record,
    )
    from .messages.keys import (
        read_private_key as read_private_key,
    )
    from .messages.keys import (
        suggested_selector as suggested_selector,
    )
    from .messages.keys import (
        validate_key_parameters as validate_key_parameters,
    )
    from .messages.keys import (
        write_private_key as write_private_key,
    )
    from .messages.model import (
        Envelope as Envelope,
    )
    from .messages.model import (
        EnvelopeSource as EnvelopeSource,
    )
    from .messages.model import (
        MessageReport as MessageReport,
    )
    from .messages.receive import (
        ReceivedReport as ReceivedReport,
    )
    from .messages.receive import (
        ReceiveOptions as ReceiveOptions,
    )
    from .messages.receive import (
        serve as serve,
    )
    from .messages.sign import (
        DkimSignature as DkimSignature,
    )
    from .messages.sign import (
        SigningError as SigningError,
    )
    from .messages.sign import (
        sign_message as sign_message,
    )
    from .messages.smtp_send import (
        PlaintextAuthRefused as PlaintextAuthRefused,
    )
    from .messages.smtp_send import (
        RetryNotice as RetryNotice,
    )
    from .messages.smtp_send import (
        RetryPolicy as RetryPolicy,
    )
    from .messages.smtp_send import (
        SmtpRejected as SmtpRejected,
    )
    from .messages.smtp_send import (
        SmtpSecurity as SmtpSecurity,
    )
    from .messages.smtp_send import (
        SmtpSendError as SmtpSendError,
    )
    from .messages.smtp_send import (
        SmtpSettings as SmtpSettings,
    )
    from .messages.smtp_send import (
        SmtpTranscript as SmtpTranscript,
    )
    from .messages.smtp_send import (
        default_security as default_security,
    )
    from .messages.smtp_send import (
        submit as submit,
    )
    from .messages.verify import (
        DEFAULT_MAX_SIZE as DEFAULT_MAX_SIZE,
    )
    from .messages.verify import (
        VerifyOptions as VerifyOptions,
    )
    from .messages.verify import (
        read_message as read_message,
    )
    from .outputs import (
        STDOUT as STDOUT,
    )
    from .outputs import (
        OutputRefused as OutputRefused,
    )
    from .outputs import (
        write_output as write_output,
    )
    from .report.html import (
        is_folder_target as is_folder_target,
    )
    from .report.html import (
        write_report_folder as write_report_folder,
    )
    from .report.message import (
        MessageFormat as MessageFormat,
    )
    from .report.message import (
        render_message as render_message,
    )
    from .report.renderers import (
        RENDERERS as RENDERERS,
    )
    from .report.renderers import (
        OutputFormat as OutputFormat,
    )
    from .report.renderers import (
        terminal_safe as terminal_safe,
    )
    from .report.schema import (
        committed_schema as committed_schema,
    )
    from .report.schema import (
        schema_text as schema_text,
    )
    from .report.serialize import (
        to_jsonable as to_jsonable,
    )
    from .report.verdict_text import (
        grade_label as grade_label,
    )
    from .resolver.factory import (
        make_resolver as make_resolver,
    )
    from .resolver.factory import (
        parse_nameserver as parse_nameserver,
    )
    from .resolver.factory import (
        system_nameservers as system_nameservers,
    )
    from .resolver.selection import (
        load_zones as load_zones,
    )
    from .resolver.selection import (
        source_resolver as source_resolver,
    )
    from .resolver.selection import (
        zone_file_resolver as zone_file_resolver,
    )
    from .resolver.sources import (
        run_provenance as run_provenance,
    )
    from .resolver.static import (
        StaticResolver as StaticResolver,
    )
    from .resolver.wire import (
        WireResolver as WireResolver,
    )
    from .resolver.zonefiles import (
        ZoneSet as ZoneSet,
    )

# ---- the history store (issue 13) ------------------------------------------------------
# Synchronous: database calls, no event loop. The CLI and the service reach the store only
# through these names. Imported on first use: SQLAlchemy would double the start-up time of
# a `check` that records nothing.
if TYPE_CHECKING:
    from .report.history import diff_text, events_text, history_text, json_document, run_diff_text
    from .report.history_html import history_html
    from .store.connect import SchemaTooNew, StoreError, StoreUnavailable
    from .store.deliver import (
        SMTP_PASSWORD_ENV,
        WEBHOOK_SECRET_ENV,
        DeliveryOutcome,
        EmailTarget,
        deliver_events,
        email_target,
    )
    from .store.diff import AuditDiff
    from .store.durations import cutoff, parse_duration
    from .store.location import STORE_ENV, default_store_path, store_url_from
    from .store.recorder import ImportResult, StoreRecorder, import_results
    from .store.store import Store, open_store
    from .store.views import (
        DomainHistory,
        RunDiff,
        StoredEvent,
        ack_events,
        diff_domain,
        diff_runs,
        domain_history,
        list_events,
    )

# ---- the HTTP service (issue 14): `serve` and its API tokens -------------------------------
if TYPE_CHECKING:
    from .service.server import ServiceConfig, openapi_text, run_service
    from .service.worker import WorkerConfig, run_worker
    from .store.tokens import ApiToken, TokenScope, create_token, list_tokens, revoke_token

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

# module -> the names of it that clients (the CLI, later the HTTP service) import from here
_RE_EXPORTS: dict[str, tuple[str, ...]] = {
    ".atomic_write": ("write_atomically",),
    ".bulk.folder": ("COMPRESSED_NAMES", "compressed_results"),
    ".bulk.inputs": ("InputStats", "read_entries", "strip_comment"),
    ".bulk.jsonl": ("ResultsWriteError",),
    ".bulk.manifest": ("ResumeMismatch",),
    ".bulk.runner": ("RESULTS_NAME", "BulkConfig", "run_bulk"),
    ".bulk.summary": ("BulkSummary",),
    ".checks.dkim.selector_inputs": (
        "read_message_selectors",
        "read_selectors_file",
        "valid_selector",
    ),
    ".demo.sample": ("DEFAULT_DEMO_FOLDER", "audit_demo", "write_demo"),
    ".domain": ("normalize_domain",),
    ".messages.compose": ("DEFAULT_SUBJECT", "ComposeError", "MessageSpec", "compose_message"),
    ".messages.keys": (
        "DEFAULT_RSA_BITS",
        "MAX_RSA_BITS",
        "MIN_RSA_BITS",
        "RECOMMENDED_RSA_BITS",
        "DkimKeyError",
        "DkimKeyType",
        "generate_key",
        "key_record",
        "read_private_key",
        "suggested_selector",
        "validate_key_parameters",
        "write_private_key",
    ),
    ".messages.model": ("Envelope", "EnvelopeSource", "MessageReport"),
    ".messages.receive": ("ReceivedReport", "ReceiveOptions", "serve"),
    ".messages.sign": ("DkimSignature", "SigningError", "sign_message"),
    ".messages.smtp_send": (
        "PlaintextAuthRefused",
        "RetryNotice",
        "RetryPolicy",
        "SmtpRejected",
        "SmtpSecurity",
        "SmtpSendError",
        "SmtpSettings",
        "SmtpTranscript",
        "default_security",
        "submit",
    ),
    ".messages.verify": ("DEFAULT_MAX_SIZE", "VerifyOptions", "read_message"),
    ".outputs": ("STDOUT", "OutputRefused", "write_output"),
    ".report.html": ("is_folder_target", "write_report_folder"),
    ".report.message": ("MessageFormat", "render_message"),
    ".report.renderers": ("RENDERERS", "OutputFormat", "terminal_safe"),
    ".report.schema": ("committed_schema", "schema_text"),
    ".report.serialize": ("to_jsonable",),
    ".report.verdict_text": ("grade_label",),
    ".resolver.factory": ("make_resolver", "parse_nameserver", "system_nameservers"),
    ".resolver.selection": ("load_zones", "source_resolver", "zone_file_resolver"),
    ".resolver.sources": ("run_provenance",),
    ".resolver.static": ("StaticResolver",),
    ".resolver.wire": ("WireResolver",),
    ".resolver.zonefiles": ("ZoneSet",),
    # the history store: synchronous (database calls); SQLAlchemy loads only when asked
    ".report.history": (
        "diff_text",
        "events_text",
        "history_text",
        "json_document",
        "run_diff_text",
    ),
    ".report.history_html": ("history_html",),
    ".store.connect": (
        "SchemaTooNew",
        "StoreError",
        "StoreUnavailable",
    ),
    ".store.deliver": (
        "DeliveryOutcome",
        "EmailTarget",
        "SMTP_PASSWORD_ENV",
        "WEBHOOK_SECRET_ENV",
        "deliver_events",
        "email_target",
    ),
    ".store.diff": ("AuditDiff",),
    ".store.durations": (
        "cutoff",
        "parse_duration",
    ),
    ".store.location": (
        "STORE_ENV",
        "default_store_path",
        "store_url_from",
    ),
    ".store.recorder": (
        "ImportResult",
        "StoreRecorder",
        "import_results",
    ),
    ".store.store": (
        "Store",
        "open_store",
    ),
    ".store.views": (
        "DomainHistory",
        "RunDiff",
        "StoredEvent",
        "ack_events",
        "diff_domain",
        "diff_runs",
        "domain_history",
        "list_events",
    ),
    # the HTTP service: FastAPI and uvicorn load only when `serve` runs
    ".service.server": ("ServiceConfig", "openapi_text", "run_service"),
    # `worker`: procrastinate loads only when a worker runs
    ".service.worker": ("WorkerConfig", "run_worker"),
    ".store.tokens": ("ApiToken", "TokenScope", "create_token", "list_tokens", "revoke_token"),
}
_LAZY: dict[str, str] = {name: module for module, names in _RE_EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __package__), name)
    globals()[name] = value
    return value
