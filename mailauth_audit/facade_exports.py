"""What `asyncapi` re-exports and loads on first use: module -> names.

Data only, imported at run time: the modules named here are imported when a caller first
asks `asyncapi` for one of their names, so `import mailauth_audit.asyncapi` does not load the
message stack, the bulk runner, SQLAlchemy or jinja2. Their types, for mypy, are in
`facade_types.py`; tests/test_facade.py keeps the two in step.
"""

from __future__ import annotations

__all__ = ["LAZY", "RE_EXPORTS"]

# module -> the names of it that clients (the CLI, later the HTTP service) import from here
RE_EXPORTS: dict[str, tuple[str, ...]] = {
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
    ".report.history_html": ("diff_html", "history_html"),
    ".store.reports": ("stored_run",),
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
LAZY: dict[str, str] = {name: module for module, names in RE_EXPORTS.items() for name in names}
