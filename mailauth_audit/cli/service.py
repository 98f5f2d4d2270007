"""`serve` (the HTTP API) and `token` (its API tokens).

Which store: --store, else $MAILAUTH_AUDIT_STORE, else ~/.local/share/mailauth-audit/audits.db
(created when missing: one machine needs no database server). `serve` takes the audit
options of `check` as the options of every job it runs; API callers choose only domains
and checks, so the probe address rule is lifted by `serve --allow-private-targets` alone.

Exit codes: 0 done; 2 usage error, or the store cannot be opened.
"""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import replace

import click

from .. import asyncapi as facade
from ..errors import ConfigurationError
from ..options import AuditOptions, Limits, ProbeOptions, QueueLimits, ServiceLimits
from .alerts import smtp_relay
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
from .history import _fail, open_named_store, store_option
from .main import _parse_checks

_SERVICE = ServiceLimits()


def job_options(
    nameservers: tuple[str, ...],
    dnssec_resolvers: tuple[str, ...],
    timeout: float,
    retries: int,
    domain_timeout: float,
    selectors: tuple[str, ...],
    no_default_selectors: bool,
    checks_text: str | None,
    probes: ProbeOptions,
) -> AuditOptions:
    """The audit options `serve` and `worker` give every job they run, from the flags they
    share with `check`; a bad value exits 2 before any work."""
    for ns in (*nameservers, *dnssec_resolvers):
        try:
            facade.parse_nameserver(ns)
        except ConfigurationError as exc:
            _fail(str(exc))
    options = AuditOptions(
        checks=_parse_checks(checks_text),
        selectors=selectors,
        use_default_selectors=not no_default_selectors,
        nameservers=nameservers,
        limits=Limits(dns_timeout=timeout, dns_attempts=retries + 1, domain_timeout=domain_timeout),
        probes=replace(probes, dnssec_resolvers=dnssec_resolvers),
    )
    try:
        return facade.validate_options(options)
    except ConfigurationError as exc:
        _fail(str(exc))


def _store_url(option: str | None) -> str:
    """The named store, else the default file (its folder made on first use)."""
    named = facade.store_url_from(option)
    if named is not None:
        return named
    path = facade.default_store_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"cannot create {path.parent}: {exc.strerror}")
    return str(path)


@click.group()
def token() -> None:
    """API tokens for `serve`: create (shown once), list, revoke.

    \b
    Scopes: read (GET), write (GET and POST audits), admin (all).
    Examples:
      mailauth-audit token create --name ci --scope write
      mailauth-audit token list
      mailauth-audit token revoke ci
    """


@token.command("create")
@click.option("--name", required=True, help="A unique name, e.g. who or what uses the token.")
@click.option(
    "--scope",
    type=click.Choice(["read", "write", "admin"]),
    default="read",
    show_default=True,
    help="read: GET only; write: also POST /v1/audits; admin: everything.",
)
@store_option
def token_create(name: str, scope: str, store: str | None) -> None:
    """Create a token and print it once (only its SHA-256 is stored)."""
    opened = open_named_store(_store_url(store))
    try:
        created, secret = facade.create_token(opened, name, facade.TokenScope(scope))
    except facade.StoreError as exc:
        _fail(str(exc))
    finally:
        opened.close()
    click.echo(secret)
    click.echo(
        f"token {created.name!r} ({created.scope.value}) created; it is shown only this once",
        err=True,
    )


@token.command("list")
@store_option
def token_list(store: str | None) -> None:
    """List tokens: name, scope, created, revoked (never the tokens themselves)."""
    opened = open_named_store(_store_url(store))
    try:
        tokens = facade.list_tokens(opened)
    except facade.StoreError as exc:
        _fail(str(exc))
    finally:
        opened.close()
    for t in tokens:
        state = f"revoked {t.revoked_at}" if t.revoked_at else "active"
        click.echo(f"{t.name}\t{t.scope.value}\tcreated {t.created_at}\t{state}")


@token.command("revoke")
@click.argument("name")
@store_option
def token_revoke(name: str, store: str | None) -> None:
    """Revoke the token NAME: requests bearing it are refused from now on."""
    opened = open_named_store(_store_url(store))
    try:
        revoked = facade.revoke_token(opened, name)
    except facade.StoreError as exc:
        _fail(str(exc))
    finally:
        opened.close()
    click.echo(f"token {revoked.name!r} revoked at {revoked.revoked_at}", err=True)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8025, show_default=True, help="TCP port."
)
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
    "--max-domains-per-request",
    type=click.IntRange(1),
    default=_SERVICE.max_domains_per_request,
    show_default=True,
    help="Domains one POST /v1/audits may name; a longer list is refused whole (422).",
)
@click.option(
    "--max-running-jobs",
    type=click.IntRange(1),
    default=_SERVICE.max_running_jobs,
    show_default=True,
    help="Jobs audited at once; the others wait (status queued).",
)
@click.option(
    "--rate-per-second",
    type=click.FloatRange(min=0, min_open=True, max=1e6),
    default=_SERVICE.rate_per_second,
    show_default=True,
    help="Requests per second one token may make, sustained (all serve processes on the "
    "store together); more: 429.",
)
@click.option(
    "--rate-burst",
    type=click.IntRange(1),
    default=_SERVICE.rate_burst,
    show_default=True,
    help="Requests one token may make at once after being idle.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON object per line. Tokens and passwords are never logged.",
)
@click.option(
    "--no-scheduler",
    is_flag=True,
    help="Do not fire schedules from this process (another serve process does).",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(1),
    default=QueueLimits().chunk_size,
    show_default=True,
    help="Domains per chunk: the unit a worker takes, and retries if it dies.",
)
@click.option(
    "--smtp",
    "smtp_server",
    default=None,
    metavar="HOST[:PORT]",
    help="Relay for schedules' email targets (port 587 unless named); with --mail-from.",
)
@click.option(
    "--smtp-security",
    type=click.Choice(["starttls", "tls", "plain"]),
    default=None,
    help="For --smtp (default: tls on port 465, starttls otherwise).",
)
@click.option("--smtp-user", default=None, help="AUTH user ($MAILAUTH_AUDIT_SMTP_PASSWORD).")
@click.option("--mail-from", default=None, metavar="ADDRESS", help="Sender of alert mail.")
@click.option(
    "--smtp-ca-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="For --smtp: trust this CA bundle.",
)
def serve(
    host: str,
    port: int,
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
    max_domains_per_request: int,
    max_running_jobs: int,
    rate_per_second: float,
    rate_burst: int,
    log_format: str,
    no_scheduler: bool,
    chunk_size: int,
    smtp_server: str | None,
    smtp_security: str | None,
    smtp_user: str | None,
    mail_from: str | None,
    smtp_ca_file: str | None,
) -> None:
    """Serve the HTTP API: POST domains, poll, fetch results.

    On SQLite (the default store) each job runs in a child process of serve; with
    --store postgresql://... they are queued in chunks for `mailauth-audit worker`
    processes on any machines.

    \b
    Examples:
      mailauth-audit token create --name ci --scope write
      mailauth-audit serve                     # http://127.0.0.1:8025, default store
      curl -H "Authorization: Bearer $T" -d '{"domains":["example.com"]}' \\
           http://127.0.0.1:8025/v1/audits
    The OpenAPI document is at /v1/openapi.json. Without TLS of its own: put a TLS proxy in
    front before listening beyond loopback. Schedules' drift events go to their webhooks,
    and to their email addresses through --smtp (as `alerts --email` sends them).
    """
    alert_mail = None
    if smtp_server is not None or mail_from is not None:
        if smtp_server is None or mail_from is None:
            _fail("--smtp and --mail-from go together (the relay and the sender of alert mail)")
        alert_mail = smtp_relay(smtp_server, smtp_security, smtp_user, mail_from, smtp_ca_file)
    elif smtp_security or smtp_user or smtp_ca_file:
        _fail("--smtp-security, --smtp-user and --smtp-ca-file need --smtp and --mail-from")
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
    url = _store_url(store)
    open_named_store(url).close()  # refused here, with the reason, before listening
    if not _is_loopback(host):
        click.echo(
            f"mailauth-audit: warning: listening on {host} without TLS; put a TLS proxy in "
            "front (tokens travel in every request)",
            err=True,
        )
    config = facade.ServiceConfig(
        store_url=url,
        host=host,
        port=port,
        options=options,
        limits=replace(
            _SERVICE,
            max_domains_per_request=max_domains_per_request,
            max_running_jobs=max_running_jobs,
            rate_per_second=rate_per_second,
            rate_burst=rate_burst,
        ),
        log_format=log_format,
        scheduler=not no_scheduler,
        queue_limits=replace(QueueLimits(), chunk_size=chunk_size),
        alert_mail=alert_mail,
    )
    try:
        facade.run_service(config)
    except facade.StoreError as exc:
        _fail(f"cannot use the store: {exc}")
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    sys.exit(0)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
