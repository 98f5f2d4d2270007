"""The types of the names `asyncapi` re-exports lazily, for mypy only.

`asyncapi` imports this module under `TYPE_CHECKING` and never at run time: the names are
loaded on first use there (`_RE_EXPORTS`), so `import mailauth_audit.asyncapi` stays light.
A name added to `_RE_EXPORTS` is added here too (tests/test_facade.py checks they agree).
"""

from __future__ import annotations

from .atomic_write import write_atomically
from .bulk.folder import COMPRESSED_NAMES, compressed_results
from .bulk.inputs import InputStats, read_entries, strip_comment
from .bulk.jsonl import ResultsWriteError
from .bulk.manifest import ResumeMismatch
from .bulk.runner import RESULTS_NAME, BulkConfig, run_bulk
from .bulk.summary import BulkSummary
from .checks.dkim.selector_inputs import read_message_selectors, read_selectors_file, valid_selector
from .demo.sample import DEFAULT_DEMO_FOLDER, audit_demo, write_demo
from .domain import normalize_domain
from .fix.runner import FixOutcome
from .messages.compose import (
    DEFAULT_SUBJECT,
    ComposedMessage,
    ComposeError,
    MessageSpec,
    compose_message,
)
from .messages.keys import (
    DEFAULT_RSA_BITS,
    MAX_RSA_BITS,
    MIN_RSA_BITS,
    RECOMMENDED_RSA_BITS,
    DkimKeyError,
    DkimKeyType,
    DkimPrivateKey,
    generate_key,
    key_record,
    read_private_key,
    suggested_selector,
    validate_key_parameters,
    write_private_key,
)
from .messages.model import Envelope, EnvelopeSource, MessageReport
from .messages.receive import ReceivedReport, ReceiveOptions, serve
from .messages.sign import DkimSignature, SigningError, sign_message
from .messages.smtp_send import (
    PlaintextAuthRefused,
    RetryNotice,
    RetryPolicy,
    SmtpRejected,
    SmtpSecurity,
    SmtpSendError,
    SmtpSettings,
    SmtpTranscript,
    default_security,
    submit,
)
from .messages.verify import DEFAULT_MAX_SIZE, VerifyOptions, read_message
from .outputs import STDOUT, OutputRefused, write_output
from .report.history import diff_text, events_text, history_text, json_document, run_diff_text
from .report.history_html import diff_html, history_html
from .report.html import is_folder_target, write_report_folder
from .report.message import MessageFormat, render_message
from .report.renderers import RENDERERS, OutputFormat, terminal_safe
from .report.schema import committed_schema, schema_text
from .report.serialize import to_jsonable
from .report.verdict_text import grade_label
from .resolver.factory import make_resolver, parse_nameserver, system_nameservers
from .resolver.selection import load_zones, source_resolver, zone_file_resolver
from .resolver.sources import run_provenance
from .resolver.static import StaticResolver
from .resolver.wire import WireResolver
from .resolver.zonefiles import ZoneSet
from .service.server import ServiceConfig, openapi_text, run_service
from .service.worker import WorkerConfig, run_worker
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
from .store.reports import stored_run
from .store.store import Store, open_store
from .store.tokens import ApiToken, TokenScope, create_token, list_tokens, revoke_token
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

__all__ = [
    "COMPRESSED_NAMES",
    "DEFAULT_DEMO_FOLDER",
    "DEFAULT_MAX_SIZE",
    "DEFAULT_RSA_BITS",
    "DEFAULT_SUBJECT",
    "MAX_RSA_BITS",
    "MIN_RSA_BITS",
    "RECOMMENDED_RSA_BITS",
    "RENDERERS",
    "RESULTS_NAME",
    "SMTP_PASSWORD_ENV",
    "STDOUT",
    "STORE_ENV",
    "WEBHOOK_SECRET_ENV",
    "ApiToken",
    "AuditDiff",
    "BulkConfig",
    "BulkSummary",
    "ComposeError",
    "ComposedMessage",
    "DeliveryOutcome",
    "DkimKeyError",
    "DkimKeyType",
    "DkimPrivateKey",
    "DkimSignature",
    "DomainHistory",
    "EmailTarget",
    "Envelope",
    "EnvelopeSource",
    "FixOutcome",
    "ImportResult",
    "InputStats",
    "MessageFormat",
    "MessageReport",
    "MessageSpec",
    "OutputFormat",
    "OutputRefused",
    "PlaintextAuthRefused",
    "ReceiveOptions",
    "ReceivedReport",
    "ResultsWriteError",
    "ResumeMismatch",
    "RetryNotice",
    "RetryPolicy",
    "RunDiff",
    "SchemaTooNew",
    "ServiceConfig",
    "SigningError",
    "SmtpRejected",
    "SmtpSecurity",
    "SmtpSendError",
    "SmtpSettings",
    "SmtpTranscript",
    "StaticResolver",
    "Store",
    "StoreError",
    "StoreRecorder",
    "StoreUnavailable",
    "StoredEvent",
    "TokenScope",
    "VerifyOptions",
    "WireResolver",
    "WorkerConfig",
    "ZoneSet",
    "ack_events",
    "audit_demo",
    "committed_schema",
    "compose_message",
    "compressed_results",
    "create_token",
    "cutoff",
    "default_security",
    "default_store_path",
    "deliver_events",
    "diff_domain",
    "diff_html",
    "diff_runs",
    "diff_text",
    "domain_history",
    "email_target",
    "events_text",
    "generate_key",
    "grade_label",
    "history_html",
    "history_text",
    "import_results",
    "is_folder_target",
    "json_document",
    "key_record",
    "list_events",
    "list_tokens",
    "load_zones",
    "make_resolver",
    "normalize_domain",
    "open_store",
    "openapi_text",
    "parse_duration",
    "parse_nameserver",
    "read_entries",
    "read_message",
    "read_message_selectors",
    "read_private_key",
    "read_selectors_file",
    "render_message",
    "revoke_token",
    "run_bulk",
    "run_diff_text",
    "run_provenance",
    "run_service",
    "run_worker",
    "schema_text",
    "serve",
    "sign_message",
    "source_resolver",
    "store_url_from",
    "stored_run",
    "strip_comment",
    "submit",
    "suggested_selector",
    "system_nameservers",
    "terminal_safe",
    "to_jsonable",
    "valid_selector",
    "validate_key_parameters",
    "write_atomically",
    "write_demo",
    "write_output",
    "write_private_key",
    "write_report_folder",
    "zone_file_resolver",
]
