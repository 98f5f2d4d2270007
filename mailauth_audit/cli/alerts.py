"""`alerts`: the history store's drift events, listed, acknowledged, and delivered to a
webhook or by email. The store is chosen as for `history` (`cli/history.py`)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from .. import asyncapi as facade
from ..model import Severity
from .common import format_option, output_option
from .history import EXIT_DELIVERY_FAILED, EXIT_OK, _emit, _fail, _store, store_option

if TYPE_CHECKING:
    from ..asyncapi import EmailTarget


@click.command()
@click.option("--since", default=None, metavar="DURATION", help="Only events of the last 7d, 12h…")
@click.option("--domain", default=None, help="Only this domain's events.")
@click.option(
    "--severity",
    type=click.Choice([s.value for s in Severity]),
    default=None,
    help="Only events at or above this severity.",
)
@click.option("--all", "include_acked", is_flag=True, help="Include acknowledged events.")
@click.option("--ack", "ack_ids", type=int, multiple=True, metavar="ID", help="Acknowledge.")
@click.option("--ack-all", is_flag=True, help="Acknowledge every event listed.")
@click.option(
    "--webhook",
    default=None,
    metavar="URL",
    help="POST each listed event not yet delivered there (JSON, signed with HMAC-SHA256 of "
    "$MAILAUTH_AUDIT_WEBHOOK_SECRET in X-Mailauth-Audit-Signature).",
)
@click.option(
    "--email", "emails", multiple=True, metavar="ADDRESS", help="Mail the listed events here."
)
@click.option("--smtp", "smtp_server", default=None, metavar="HOST[:PORT]", help="For --email.")
@click.option(
    "--smtp-security",
    type=click.Choice(["starttls", "tls", "plain"]),
    default=None,
    help="For --email (default: tls on port 465, starttls otherwise).",
)
@click.option("--smtp-user", default=None, help="AUTH user ($MAILAUTH_AUDIT_SMTP_PASSWORD).")
@click.option("--mail-from", default=None, metavar="ADDRESS", help="For --email.")
@click.option(
    "--smtp-ca-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="For --email: trust this CA bundle.",
)
@store_option
@format_option(["text", "json"], "text")
@output_option(metavar="FILE", help="Write to FILE instead of stdout.")
def alerts(
    since: str | None,
    domain: str | None,
    severity: str | None,
    include_acked: bool,
    ack_ids: tuple[int, ...],
    ack_all: bool,
    webhook: str | None,
    emails: tuple[str, ...],
    smtp_server: str | None,
    smtp_security: str | None,
    smtp_user: str | None,
    mail_from: str | None,
    smtp_ca_file: str | None,
    store: str | None,
    fmt: str,
    output: str | None,
) -> None:
    """Drift events not yet acknowledged (DKIM key replaced, DMARC weakened, grade dropped…).

    \b
    Examples:
      mailauth-audit alerts --since 7d
      mailauth-audit alerts --severity high -f json
      mailauth-audit alerts --ack 12 --ack 13
      mailauth-audit alerts --since 1d --webhook https://hooks.example/audit
      mailauth-audit alerts --email ops@example.com --smtp smtp.example.com:587 \\
          --mail-from audit@example.com --smtp-user audit

    \b
    Exit codes: 0 done; 2 usage error or the store cannot be used; 4 some deliveries
    failed (recorded; the next delivery tries those events again).
    """
    target = _email_target(emails, smtp_server, smtp_security, smtp_user, mail_from, smtp_ca_file)
    if webhook is not None and not webhook.startswith(("http://", "https://")):
        _fail("--webhook takes an http:// or https:// URL")
    since_at = None
    if since is not None:
        try:
            since_at = facade.cutoff(since).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        except ValueError as exc:
            _fail(f"--since: {exc}")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with _store(store) as opened:
        if ack_ids:
            done = facade.ack_events(opened, ack_ids, now)
            click.echo(f"{done} events acknowledged", err=True)
            return
        found = facade.list_events(
            opened,
            since=since_at,
            domain=domain.strip().rstrip(".").lower() if domain else None,
            min_severity=Severity(severity) if severity else None,
            include_acked=include_acked,
        )
        failed = 0
        if webhook is not None or target is not None:
            env = os.environ
            outcomes = facade.deliver_events(
                opened,
                found,
                webhook=webhook,
                webhook_secret=env.get(facade.WEBHOOK_SECRET_ENV) or None,
                email=target,
                smtp_password=env.get(facade.SMTP_PASSWORD_ENV) or None,
            )
            failed = sum(1 for o in outcomes if o.status != "delivered")
            for o in outcomes:
                if o.status != "delivered":
                    click.echo(f"event {o.event_id}: {o.channel} failed: {o.error}", err=True)
            click.echo(f"{len(outcomes) - failed} deliveries made, {failed} failed", err=True)
        if ack_all and found:
            facade.ack_events(opened, tuple(e.id for e in found), now)
    _emit(
        facade.json_document("events", found) if fmt == "json" else facade.events_text(found),
        output,
    )
    sys.exit(EXIT_DELIVERY_FAILED if failed else EXIT_OK)


def _email_target(
    emails: tuple[str, ...],
    server: str | None,
    security: str | None,
    user: str | None,
    mail_from: str | None,
    ca_file: str | None,
) -> EmailTarget | None:
    if not emails:
        return None
    if server is None or mail_from is None:
        _fail("--email needs --smtp HOST[:PORT] and --mail-from ADDRESS")
    return smtp_relay(server, security, user, mail_from, ca_file, emails)


def smtp_relay(
    server: str,
    security: str | None,
    user: str | None,
    mail_from: str,
    ca_file: str | None,
    recipients: tuple[str, ...] = (),
) -> EmailTarget:
    """Alert mail's relay from `--smtp HOST[:PORT]` (587 unless named) and its flags, as
    `alerts --email` and `serve` (schedules' email targets) both submit through it."""
    host, _, port_text = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
    try:
        port = int(port_text) if port_text else 587
    except ValueError:
        _fail(f"--smtp: not a port: {port_text!r}")
    return facade.email_target(host or server, port, security, user, mail_from, recipients, ca_file)
