"""`history`, `diff` and `prune`: the audit history store, from the command line
(`alerts`, which also delivers, is in `cli/alerts.py`).

Which store: --store (a path or a URL: sqlite:///..., postgresql://user@host/db), else
$MAILAUTH_AUDIT_STORE, else ~/.local/share/mailauth-audit/audits.db. `check` and `bulk`
record only when --store or $MAILAUTH_AUDIT_STORE names one (an audit is not written to disk
behind the user's back); these commands read the default file otherwise.

Exit codes: 0 done; 2 usage error, or the store cannot be opened (unreachable, damaged,
newer than this version) — before any work; 5 (history import) some lines could not be read.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .. import asyncapi as facade
from ..options import StoreLimits
from .common import format_option, output_option

if TYPE_CHECKING:
    from ..asyncapi import Store

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
@click.option(
    "--details",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="--run, text: show the first N changed domains in detail, worse first (default: "
    f"{StoreLimits().run_diff_details}); JSON and HTML hold every one.",
)
@click.option("--full", is_flag=True, help="--run, text: show every changed domain in detail.")
def diff(
    domain: str | None,
    runs: tuple[int, ...],
    store: str | None,
    fmt: str,
    output: str | None,
    details: int | None,
    full: bool,
) -> None:
    """What changed between DOMAIN's last two audits, or between two runs (--run A --run B).

    \b
    Examples:
      mailauth-audit diff example.com
      mailauth-audit diff --run 41 --run 42 -f json
      mailauth-audit diff --run 41 --run 42 --details 200
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
            # text is read by a person: a bounded number of domains in detail, read lazily
            shown = details or StoreLimits().run_diff_details
            limit = None if fmt != "text" or full else shown
            view: Any = facade.diff_runs(opened, runs[0], runs[1], details=limit)
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
