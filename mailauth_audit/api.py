"""Synchronous mirror of `asyncapi`, with the same names, for scripts and notebooks.

Each call runs the async original to completion in an event loop of its own. Called where a
loop is already running in this thread (Jupyter, IPython's autoawait, an async framework's
handler), the call runs that loop of its own in a worker thread and waits for it: the
caller's loop is blocked meanwhile, as any synchronous call blocks it. Objects bound to the
caller's loop (a resolver whose sockets it opened) must not be passed in then; in async code,
`await` the functions of `mailauth_audit.asyncapi` instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import asyncapi
from .asyncapi import AuditObserver, RunSummary, SentMessage, render, validate_options
from .model import AuditRun, DomainReport
from .options import AuditOptions
from .resolver.base import Resolver

if TYPE_CHECKING:
    from .fix.runner import FixOutcome
    from .messages.compose import MessageSpec
    from .messages.keys import DkimPrivateKey
    from .messages.model import Envelope, MessageReport
    from .messages.smtp_model import SmtpSettings
    from .messages.smtp_send import RetryNotice
    from .messages.verify import VerifyOptions

__all__ = [
    "audit_batch",
    "audit_domain",
    "audit_domains",
    "fix_domain",
    "render",
    "send_test_message",
    "validate_options",
    "verify_message",
]

T = TypeVar("T")

# not async: the same functions
render_fix = asyncapi.render_fix
zone_diff = asyncapi.zone_diff
write_corrected_zone = asyncapi.write_corrected_zone


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion: here when no loop runs in this thread, else in a worker
    thread with a loop of its own (see the module docstring)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="mailauth-sync") as pool:
        return pool.submit(asyncio.run, coro).result()


def audit_domain(
    domain: str, options: AuditOptions | None = None, *, resolver: Resolver | None = None
) -> DomainReport:
    """See `asyncapi.audit_domain`."""
    return run_sync(asyncapi.audit_domain(domain, options, resolver=resolver))


def audit_domains(
    domains: Iterable[str], options: AuditOptions | None = None, *, resolver: Resolver | None = None
) -> AuditRun:
    """See `asyncapi.audit_domains`."""
    return run_sync(asyncapi.audit_domains(domains, options, resolver=resolver))


def audit_batch(
    domains: Iterable[str],
    options: AuditOptions | None = None,
    *,
    observers: Sequence[AuditObserver] = (),
    resolver: Resolver | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RunSummary:
    """See `asyncapi.audit_batch`. The observers are called from the loop's thread (a
    worker thread when a loop already runs in this one)."""
    return run_sync(
        asyncapi.audit_batch(
            domains, options, observers=observers, resolver=resolver, should_stop=should_stop
        )
    )


def verify_message(
    raw: bytes,
    options: AuditOptions | None = None,
    *,
    envelope: Envelope | None = None,
    verify_options: VerifyOptions | None = None,
    resolver: Resolver | None = None,
    size: int | None = None,
) -> MessageReport:
    """See `asyncapi.verify_message`."""
    return run_sync(
        asyncapi.verify_message(
            raw,
            options,
            envelope=envelope,
            verify_options=verify_options,
            resolver=resolver,
            size=size,
        )
    )


def send_test_message(
    spec: MessageSpec,
    settings: SmtpSettings,
    *,
    dkim_key: DkimPrivateKey | None = None,
    dkim_selector: str | None = None,
    dkim_domain: str | None = None,
    password: str | None = None,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> SentMessage:
    """See `asyncapi.send_test_message`."""
    return run_sync(
        asyncapi.send_test_message(
            spec,
            settings,
            dkim_key=dkim_key,
            dkim_selector=dkim_selector,
            dkim_domain=dkim_domain,
            password=password,
            on_retry=on_retry,
        )
    )


def fix_domain(
    domain: str,
    options: AuditOptions | None = None,
    *,
    zone_file: str | Path | None = None,
    zone_text: str | None = None,
    origin: str | None = None,
    resolver: Resolver | None = None,
    allow_placeholders: bool = False,
) -> FixOutcome:
    """See `asyncapi.fix_domain`."""
    return run_sync(
        asyncapi.fix_domain(
            domain,
            options,
            zone_file=zone_file,
            zone_text=zone_text,
            origin=origin,
            resolver=resolver,
            allow_placeholders=allow_placeholders,
        )
    )
