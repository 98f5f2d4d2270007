"""`worker`: audit the chunks `serve` queues in a PostgreSQL store, on any number of machines.

Exit codes: 0 stopped by SIGTERM/SIGINT (running chunks finished or put back in the
queue); 2 usage error, or the store cannot be used (SQLite: `serve` runs jobs itself).
"""

from __future__ import annotations

import math
import sys
from dataclasses import replace

import click

from .. import asyncapi as facade
from ..options import ProbeOptions, QueueLimits
from .common import (
    checks_option,
    dnssec_resolver_option,
    domain_timeout_option,
    nameserver_option,
    no_default_selectors_option,
    probe_options,
    retries_option,
    selector_option,
    timeout_option,
)
from .history import _fail, store_option
from .service import job_options

_QUEUE = QueueLimits()


def _seconds(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise click.BadParameter("must be a finite number of seconds above 0")
    return value


def _qps(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise click.BadParameter("must be a finite number above 0")
    return value


@click.command()
@store_option
@nameserver_option
@dnssec_resolver_option
@timeout_option
@retries_option
@domain_timeout_option
@selector_option
@no_default_selectors_option
@checks_option
@probe_options
@click.option(
    "--qps",
    type=float,
    default=None,
    callback=_qps,
    help="DNS questions per second for ALL workers together (a token bucket in the "
    "database); give every worker the same value. Default: no cap.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1),
    default=_QUEUE.concurrency,
    show_default=True,
    help="Chunks this process audits at once.",
)
@click.option(
    "--heartbeat-interval",
    type=float,
    default=_QUEUE.heartbeat_interval,
    show_default=True,
    callback=_seconds,
    help="Seconds between this worker's heartbeats.",
)
@click.option(
    "--stalled-after",
    type=float,
    default=_QUEUE.stalled_after,
    show_default=True,
    callback=_seconds,
    help="Seconds without a heartbeat before a worker's chunks are put back in the queue.",
)
@click.option(
    "--recovery-interval",
    type=float,
    default=_QUEUE.recovery_interval,
    show_default=True,
    callback=_seconds,
    help="Seconds between this worker's sweeps for chunks of silent workers.",
)
@click.option(
    "--shutdown-timeout",
    type=float,
    default=_QUEUE.shutdown_timeout,
    show_default=True,
    callback=_seconds,
    help="On SIGTERM: seconds to finish running chunks before putting them back.",
)
@click.option("--name", default=None, help="This worker's name in logs (default host:pid).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON object per line. Passwords in store URLs are never logged.",
)
def worker(
    store: str | None,
    nameservers: tuple[str, ...],
    dnssec_resolvers: tuple[str, ...],
    timeout: float,
    retries: int,
    domain_timeout: float,
    selectors: tuple[str, ...],
    no_default_selectors: bool,
    checks_text: str | None,
    probes: ProbeOptions,
    qps: float | None,
    concurrency: int,
    heartbeat_interval: float,
    stalled_after: float,
    recovery_interval: float,
    shutdown_timeout: float,
    name: str | None,
    log_format: str,
) -> None:
    """Take chunks of `serve`'s jobs from the queue in a PostgreSQL store and audit them.

    \b
    Examples:
      mailauth-audit worker --store postgresql://audit@db/audits
      mailauth-audit worker --store postgresql://audit@db/audits --qps 500 --nameserver 10.0.0.53
    The audit options (--nameserver, --timeout, --checks, probe flags...) are this worker's;
    a job chooses only its checks. Stop with SIGTERM: running chunks finish or go back.
    """
    options = job_options(
        nameservers,
        dnssec_resolvers,
        timeout,
        retries,
        domain_timeout,
        selectors,
        no_default_selectors,
        checks_text,
        probes,
    )
    try:
        limits = replace(
            _QUEUE,
            concurrency=concurrency,
            heartbeat_interval=heartbeat_interval,
            stalled_after=stalled_after,
            recovery_interval=recovery_interval,
            shutdown_timeout=shutdown_timeout,
        )
    except ValueError as exc:
        _fail(str(exc))
    url = facade.store_url_from(store)
    if url is None:
        _fail(
            "worker needs the PostgreSQL store serve uses: --store postgresql://... "
            f"(or ${facade.STORE_ENV})"
        )
    config = facade.WorkerConfig(
        store_url=url, options=options, limits=limits, qps=qps, name=name, log_format=log_format
    )
    try:
        facade.run_worker(config)
    except facade.StoreError as exc:
        _fail(f"cannot use the store: {exc}")
    sys.exit(0)
