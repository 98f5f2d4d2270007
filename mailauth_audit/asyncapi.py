"""The async originals of the public API. `api.py` mirrors them for synchronous callers."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .engine.auditor import Auditor
from .model import AuditRun, DomainReport
from .options import AuditOptions
from .resolver.base import Resolver


async def audit_domain(
    domain: str, options: AuditOptions | None = None, *, resolver: Resolver | None = None
) -> DomainReport:
    """Audit one domain. Invalid names give a report with status `invalid`, not an exception.

    Pass `resolver` (e.g. a `StaticResolver` over zone text) to audit without the network.
    """
    async with Auditor(options, resolver) as auditor:
        return await auditor.audit_domain(domain)


async def audit_domains(
    domains: Iterable[str], options: AuditOptions | None = None, *, resolver: Resolver | None = None
) -> AuditRun:
    """Audit several domains sharing one DNS cache; reports come back in input order."""
    async with Auditor(options, resolver) as auditor:
        return await auditor.audit_domains(domains)


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

_LAZY: dict[str, str] = {
    "SMTP_PASSWORD_ENV": ".store.deliver",
    "WEBHOOK_SECRET_ENV": ".store.deliver",
    "DeliveryOutcome": ".store.deliver",
    "EmailTarget": ".store.deliver",
    "deliver_events": ".store.deliver",
    "email_target": ".store.deliver",
    "AuditDiff": ".store.diff",
    "DomainHistory": ".store.views",
    "ImportResult": ".store.recorder",
    "RunDiff": ".store.views",
    "STORE_ENV": ".store.location",
    "SchemaTooNew": ".store.connect",
    "Store": ".store.store",
    "StoreError": ".store.connect",
    "StoreRecorder": ".store.recorder",
    "StoreUnavailable": ".store.connect",
    "StoredEvent": ".store.views",
    "ack_events": ".store.views",
    "cutoff": ".store.durations",
    "default_store_path": ".store.location",
    "diff_domain": ".store.views",
    "diff_runs": ".store.views",
    "diff_text": ".report.history",
    "domain_history": ".store.views",
    "events_text": ".report.history",
    "history_html": ".report.history_html",
    "history_text": ".report.history",
    "import_results": ".store.recorder",
    "json_document": ".report.history",
    "list_events": ".store.views",
    "open_store": ".store.store",
    "parse_duration": ".store.durations",
    "run_diff_text": ".report.history",
    "store_url_from": ".store.location",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __package__), name)


__all__ = [
    "SMTP_PASSWORD_ENV",
    "STORE_ENV",
    "WEBHOOK_SECRET_ENV",
    "AuditDiff",
    "DeliveryOutcome",
    "DomainHistory",
    "EmailTarget",
    "ImportResult",
    "RunDiff",
    "SchemaTooNew",
    "Store",
    "StoreError",
    "StoreRecorder",
    "StoreUnavailable",
    "StoredEvent",
    "ack_events",
    "audit_domain",
    "audit_domains",
    "cutoff",
    "default_store_path",
    "deliver_events",
    "diff_domain",
    "diff_runs",
    "diff_text",
    "domain_history",
    "email_target",
    "events_text",
    "history_html",
    "history_text",
    "import_results",
    "json_document",
    "list_events",
    "open_store",
    "parse_duration",
    "run_diff_text",
    "store_url_from",
]
