"""`history`, `diff`, `alerts` and `prune`: the audit history store, from the command line.

Which store: --store (a path or a URL: sqlite:///..., postgresql://user@host/db), else
$MAILAUTH_AUDIT_STORE, else ~/.local/share/mailauth-audit/audits.db. `check` and `bulk`
record only when --store or $MAILAUTH_AUDIT_STORE names one (an audit is not written to disk
behind the user's back); these commands read the default file otherwise.

Exit codes: 0 done; 2 usage error, or the store cannot be opened (unreachable, damaged,
newer than this version) — before any work; 5 (history import) some lines could not be read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .. import asyncapi as facade
from ..model import Severity
from .common import format_option, output_option

if TYPE_CHECKING:
    from ..asyncapi import EmailTarget, Store

EXIT_OK, EXIT_USAGE, EXIT_NOT_RECORDED = 0, 2, 5
EXIT_DELIVERY_FAILED = 4  # alerts: some deliveries failed

store_option = click.option(
    "--store",
    "store",
    metavar="PATH|URL",
    default=None,
    help="The audit history store: a SQLite file path, sqlite:///PATH or "
    "postgresql://USER@HOST/DB (default: $MAILAUTH_AUDIT_STORE).",
)


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"mailauth-audit: error: {message}", err=True)
    sys.exit(code)


def reading_store_url(option: str | None) -> str:
    """The store a reading command uses: named, or the default file."""
    named = facade.store_url_from(option)
    if named is not None:
        return named
    path = facade.default_store_path()
    if not path.exists():
        _fail(
            f"no store named and {path} does not exist: record audits first with "
            f"`check --store PATH` or `bulk --store PATH`, or set ${facade.STORE_ENV}"
        )
    return str(path)


def open_named_store(url: str) -> Store:
    """Open a store or exit 2 with the reason (before any audit starts)."""
    try:
        return facade.open_store(url)
    except facade.StoreError as exc:
        _fail(f"cannot use the store: {exc}")


@contextmanager
def _store(option: str | None) -> Iterator[Store]:
    store = open_named_store(reading_store_url(option))
    try:
        yield store
    except facade.StoreError as exc:
        _fail(str(exc))
    finally:
        store.close()


def _emit(text: str, output: str | None) -> None:
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror}")
    click.echo(f"wrote {output}", err=True)


class _DomainGroup(click.Group):
    """`history DOMAIN` shows a domain; `history import FILE` is a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DomainGroup)
def history() -> None:
    """A domain's audits over time (grade, check statuses, what changed when).

    \b
    Examples:
      mailauth-audit history example.com
      mailauth-audit history example.com -f json
      mailauth-audit history example.com -f html -o example-history.html
      mailauth-audit history import out/results.jsonl   # a bulk run's results, later
    """


@history.command("show")
@click.argument("domain")
@store_option
@format_option(["text", "json", "html"], "text")
@output_option(metavar="FILE", help="Write to FILE instead of stdout.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the last N audits.")
@click.option(
    "--audit",
    "audit_id",
    type=int,
    default=None,
    metavar="ID",
    help="Show the stored report of audit ID (the full report, as `check` showed it).",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="With -f html: write DIR/history.html and each audit's report as "
    "DIR/audit-ID.html, linked from the history page.",
)
def history_show(
    domain: str,
    store: str | None,
    fmt: str,
    output: str | None,
    limit: int | None,
    audit_id: int | None,
    output_dir: Path | None,
) -> None:
    """Show DOMAIN's stored audits, oldest first, with the drift events each raised.

    \b
    Examples:
      mailauth-audit history example.com --audit 42 -f html -o audit-42.html
      mailauth-audit history example.com -f html --output-dir example-history/
    """
    name = domain.strip().rstrip(".").lower()
    if audit_id is not None and output_dir is not None:
        _fail("give --audit or --output-dir, not both")
    if output_dir is not None and (fmt != "html" or output is not None):
        _fail("--output-dir writes HTML pages: use it with -f html and without -o")
    if audit_id is not None:
        with _store(store) as opened:
            run = facade.stored_run(opened, audit_id, name)
        _emit(facade.render(run, fmt), output)
        return
    if output_dir is not None:
        _write_history_folder(store, name, limit, output_dir)
        return
    with _store(store) as opened:
        view = facade.domain_history(opened, name, limit)
    if fmt == "json":
        text = facade.json_document("history", view)
    elif fmt == "html":
        text = facade.history_html(view)
    else:
        text = facade.history_text(view)
    _emit(text, output)


def _audit_page(audit_id: int) -> str:
    return f"audit-{audit_id}.html"


def _write_history_folder(store: str | None, name: str, limit: int | None, folder: Path) -> None:
    """history.html and a report page per readable audit, linked relatively: the folder
    can be moved or served as it is."""
    pages: dict[str, str] = {}
    with _store(store) as opened:
        view = facade.domain_history(opened, name, limit)
        for entry in view.entries:
            if entry.decodable:
                run = facade.stored_run(opened, entry.audit_id, name)
                pages[_audit_page(entry.audit_id)] = facade.render(run, "html")
    pages["history.html"] = facade.history_html(view, _audit_page)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, text in pages.items():
            facade.write_atomically(folder / file_name, text)
    except OSError as exc:
        _fail(f"cannot write {folder}: {exc.strerror or exc}")
    click.echo(f"wrote {folder / 'history.html'} and {len(pages) - 1} audit reports", err=True)


@history.command("import")
@click.argument("results", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@store_option
def history_import(results: Path, store: str | None) -> None:
    """Record a bulk run's RESULTS (results.jsonl or .jsonl.gz) in the store. A run that was
    recorded in part (its store went away) gets only the audits it is missing."""
    url = facade.store_url_from(store) or str(facade.default_store_path())
    if "://" not in url:
        Path(url).expanduser().parent.mkdir(parents=True, exist_ok=True)
    opened = open_named_store(url)
    try:
        result = facade.import_results(opened, results)
    except facade.StoreError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot read {results}: {exc.strerror or exc}")
    finally:
        opened.close()
    click.echo(
        f"run {result.run_id}: {result.recorded} audits recorded, {result.already} already "
        f"in the store, {result.events} drift events"
        + (f", {result.unreadable} unreadable lines skipped" if result.unreadable else ""),
        err=True,
    )
    sys.exit(EXIT_NOT_RECORDED if result.unreadable else EXIT_OK)


@click.command()
@click.argument("domain", required=False)
@click.option("--run", "runs", type=int, multiple=True, metavar="ID", help="Compare two runs.")
@store_option
@format_option(["text", "json", "html"], "text")
@output_option(metavar="FILE", help="Write to FILE instead of stdout.")
def diff(
    domain: str | None, runs: tuple[int, ...], store: str | None, fmt: str, output: str | None
) -> None:
    """What changed between DOMAIN's last two audits, or between two runs (--run A --run B).

    \b
    Examples:
      mailauth-audit diff example.com
      mailauth-audit diff --run 41 --run 42 -f json
      mailauth-audit diff example.com -f html -o example-diff.html
    """
    if runs and domain:
        _fail("give a DOMAIN or two --run, not both")
    if not runs and not domain:
        _fail("give a DOMAIN, or --run A --run B")
    if runs and len(runs) != 2:
        _fail("--run takes two run ids: --run A --run B")
    with _store(store) as opened:
        if runs:
            view: Any = facade.diff_runs(opened, runs[0], runs[1])
            render: Callable[[Any], str] = facade.run_diff_text
            kind = "run_diff"
        else:
            assert domain is not None
            view = facade.diff_domain(opened, domain.strip().rstrip(".").lower())
            render, kind = facade.diff_text, "diff"
    if fmt == "html":
        render = facade.diff_html
    _emit(facade.json_document(kind, view) if fmt == "json" else render(view), output)


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


@click.command()
@click.option("--keep", required=True, metavar="DURATION", help="Keep audits of the last 180d…")
@store_option
def prune(keep: str, store: str | None) -> None:
    """Delete audits older than --keep, keeping each domain's last audit whatever its age."""
    try:
        before = facade.cutoff(keep)
    except ValueError as exc:
        _fail(f"--keep: {exc}")
    with _store(store) as opened:
        gone = opened.prune(before.isoformat())
    click.echo(
        f"{gone} audits deleted (older than {keep}; each domain's last audit kept)", err=True
    )
