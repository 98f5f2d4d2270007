"""The `mailauth-audit` command: a thin client of the public API.

Exit codes (also in `--help`): 0 done; 1 a finding at or above --fail-on; 2 usage error
(bad option, invalid domain name, unreadable zone file); 3 some check could not be completed
(DNS timeout, SERVFAIL...); 5 (--store) the report was printed but not recorded in the store,
which wins over 1 and 3 (the store is then behind, and a scheduled run must say so).
When both 1 and 3 apply, 1 wins: a failing finding is a verdict,
whereas 3 only says the verdict is incomplete.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, ClassVar, NoReturn

import click

from ..asyncapi import (
    RENDERERS,
    STDOUT,
    OutputFormat,
    OutputRefused,
    Resolver,
    __version__,
    audit_domains,
    committed_schema,
    is_folder_target,
    parse_nameserver,
    schema_text,
    source_resolver,
    store_url_from,
    write_output,
    write_report_folder,
)
from ..errors import ConfigurationError
from ..model import AuditRun, CheckId, Severity
from ..options import AuditOptions, CheckInputLimits, Limits, ProbeOptions
from .common import (
    ColorMode,
    authoritative_option,
    authoritative_port_option,
    checks_option,
    color_enabled,
    color_option,
    dnssec_resolver_option,
    domain_timeout_option,
    fail_on_option,
    format_option,
    gather_selectors,
    max_selectors_option,
    nameserver_option,
    no_default_selectors_option,
    origin_option,
    output_option,
    probe_options,
    quiet_option,
    retries_option,
    selector_option,
    selectors_file_option,
    selectors_from_option,
    timeout_option,
    zone_files_option,
)
from .history import open_named_store, store_option
from .inputs import STDIN, DomainInputError, collect_domains, read_limited

if TYPE_CHECKING:
    from ..asyncapi import Store

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
EXIT_NOT_RECORDED = 5  # --store: the audit ran and was reported, but is not in the store


def _fail_usage(message: str) -> NoReturn:
    click.echo(f"mailauth-audit: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _parse_checks(value: str | None) -> frozenset[CheckId]:
    if not value:
        return frozenset(CheckId)
    wanted = set()
    for part in value.split(","):
        name = part.strip().lower()
        try:
            wanted.add(CheckId(name))
        except ValueError:
            choices = ", ".join(c.value for c in CheckId)
            _fail_usage(f"unknown check {name!r} in --checks (choose from {choices})")
    return frozenset(wanted)


class _LazyGroup(click.Group):
    """Commands defined in this module, plus the others, imported only when asked for.

    Why: `send`, `verify` and `receive` pull in dkimpy, dnspython's resolver, aiosmtpd and
    cryptography, slow to import; `check` and `bulk` need none of it, and a scheduled
    bulk run should not pay for it.
    """

    lazy: ClassVar[dict[str, str]] = {}  # command name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.lazy:
            module_name, attr = self.lazy[cmd_name].split(":")
            module = importlib.import_module(module_name, __package__)
            command = getattr(module, attr)
            self.add_command(command, cmd_name)
        return command

    def invoke(self, ctx: click.Context) -> object:
        """A refused output path (a symlink, a directory...) is a usage error wherever a
        command meets it (e.g. send --save-message), never a traceback."""
        try:
            return super().invoke(ctx)
        except OutputRefused as exc:
            _fail_usage(f"cannot write: {exc.strerror}")
            return None


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "-V", "--version", prog_name="mailauth-audit", help="Print the version and exit."
)
def main() -> None:
    """Audit a domain's email authentication: MX, SPF, DKIM and DMARC.

    \b
    Examples:
      mailauth-audit check example.com
      mailauth-audit check -f json -o reports/example.json example.com other.org
      mailauth-audit check -n 127.0.0.1#5300 --domains-file domains.txt
      mailauth-audit check --zone-file example.com.zone example.com
      mailauth-audit schema > report.schema.json
    """


@main.command()
@click.argument("domains", nargs=-1, metavar="[DOMAIN|-]...")
@click.option(
    "--domains-file",
    "domains_files",
    multiple=True,
    type=click.File("rb", lazy=False),
    metavar="FILE",
    help="Also audit the names in FILE: one per line, blank lines and # comments ignored "
    f"('-' is stdin; at most {CheckInputLimits().max_domains_file_bytes // 1024} KiB and "
    f"{CheckInputLimits().max_domains:,} names: use `bulk` for longer lists).",
)
@format_option([f.value for f in OutputFormat], OutputFormat.TEXT.value)
@output_option(
    type=click.Path(path_type=str),
    metavar="FILE|FOLDER/",
    help="Write the report to FILE (written atomically) instead of stdout. With --format html, "
    "a FOLDER/ (trailing slash, or an existing folder) gets index.html and one page per domain. "
    "'-' is stdout; a FIFO or device is written directly; a symbolic link is refused.",
)
@nameserver_option
@dnssec_resolver_option
@timeout_option
@retries_option
@domain_timeout_option
@selector_option
@no_default_selectors_option
@zone_files_option
@origin_option
@authoritative_option
@authoritative_port_option
@selectors_file_option
@selectors_from_option
@max_selectors_option
@checks_option
@probe_options
@fail_on_option
@color_option
@quiet_option
@click.option("--debug", is_flag=True, help="Keep tracebacks of internal errors in the report.")
@store_option
def check(
    domains: tuple[str, ...],
    domains_files: tuple[BinaryIO, ...],
    fmt: str,
    output: str | None,
    nameservers: tuple[str, ...],
    dnssec_resolvers: tuple[str, ...],
    timeout: float,
    retries: int,
    domain_timeout: float,
    selectors: tuple[str, ...],
    no_default_selectors: bool,
    zone_files: tuple[Path, ...],
    origin: str | None,
    authoritative: bool,
    authoritative_port: int,
    selectors_files: tuple[Path, ...],
    selectors_messages: tuple[Path, ...],
    max_selectors: int,
    checks_text: str | None,
    probes: ProbeOptions,
    fail_on: str | None,
    color: ColorMode,
    quiet: bool,
    debug: bool,
    store: str | None,
) -> None:
    """Audit DOMAINs and print a report. A DOMAIN of '-' reads names from stdin, one per line.

    \b
    Examples:
      mailauth-audit check example.com
      mailauth-audit check -f json -o reports/example.json example.com other.org
      mailauth-audit check -n 127.0.0.1#5300 --selector brand2026 example.com
      mailauth-audit check --domains-file domains.txt     # or: ... | mailauth-audit check -
      mailauth-audit check --selectors-from sent.eml example.com   # selectors that signed it
      mailauth-audit check --zone-file example.com.zone example.com
      mailauth-audit check --zone-file draft.zone --nameserver 9.9.9.9 example.com
      mailauth-audit check --authoritative example.com   # right after publishing
      mailauth-audit check --fail-on high example.com   # exit 1 on a high or critical finding
      mailauth-audit check --store ~/audits.db example.com   # and remember it (see history)

    \b
    Exit codes: 0 done; 1 a finding at or above --fail-on; 2 usage error (or the --store
    cannot be opened: nothing is audited); 3 a check could not be completed (DNS timeout,
    SERVFAIL, REFUSED...); 5 the report was printed but could not be recorded in the store.
    """
    to_folder = output is not None and is_folder_target(output)
    if to_folder and OutputFormat(fmt) is not OutputFormat.HTML:
        _fail_usage(f"-o {output} is a folder; only --format html writes a folder of pages")
    domains = tuple(_domains(domains, domains_files))
    for ns in (*nameservers, *dnssec_resolvers):
        try:
            parse_nameserver(ns)
        except ConfigurationError as exc:
            _fail_usage(str(exc))
    try:
        selectors = gather_selectors(selectors, selectors_files, selectors_messages)
    except ConfigurationError as exc:
        _fail_usage(str(exc))
    options = AuditOptions(
        checks=_parse_checks(checks_text),
        selectors=selectors,
        use_default_selectors=not no_default_selectors,
        nameservers=nameservers,
        limits=Limits(dns_timeout=timeout, dns_attempts=retries + 1, domain_timeout=domain_timeout),
        debug=debug,
        probes=probes,
    )
    options = replace(options, limits=replace(options.limits, max_dkim_selectors=max_selectors))
    # the store is opened before any query: one that cannot be used stops the run here
    history = open_named_store(url) if (url := store_url_from(store)) else None
    options = replace(options, probes=replace(options.probes, dnssec_resolvers=dnssec_resolvers))
    resolver: Resolver | None = None
    try:
        resolver = source_resolver(
            options,
            zone_files=zone_files,
            origin=origin,
            authoritative=authoritative,
            authoritative_port=authoritative_port,
        )
    except ConfigurationError as exc:
        _fail_usage(str(exc))
    try:
        run = asyncio.run(_audit(domains, options, resolver))
    except ConfigurationError as exc:
        _fail_usage(str(exc))
    except KeyboardInterrupt:
        click.echo("mailauth-audit: interrupted", err=True)
        sys.exit(130)

    if history is not None:
        _record(history, run)
    to_stdout = output is None or output == STDOUT
    use_color = color is ColorMode.ALWAYS or (to_stdout and color_enabled(color, sys.stdout))
    if output is not None and to_folder:
        try:
            index = write_report_folder(run, Path(output))
        except OSError as exc:
            click.echo(f"mailauth-audit: error: cannot write {output}: {exc.strerror}", err=True)
            sys.exit(EXIT_USAGE)
        if not quiet:
            click.echo(f"wrote {index}", err=True)
        sys.exit(_final_code(run, fail_on))
    fail_severity = Severity(fail_on) if fail_on else None
    text = RENDERERS[OutputFormat(fmt)](color=use_color, fail_on=fail_severity).render(run)
    if output is not None:
        try:
            write_output(output, text)
        except OSError as exc:
            click.echo(f"mailauth-audit: error: cannot write {output}: {exc.strerror}", err=True)
            sys.exit(EXIT_USAGE)
        if output != STDOUT and not quiet:
            click.echo(f"wrote {output}", err=True)
    else:
        # click strips colour codes on the way into a pipe unless told they are wanted
        click.echo(text, nl=False, color=use_color)
    sys.exit(_final_code(run, fail_on))


_NOT_RECORDED: list[str] = []  # why this process's run could not be recorded, if it could not


def _record(history: Store, run: AuditRun) -> None:
    """Record the run; a failure is reported (exit 5), never a lost report."""
    from ..asyncapi import StoreError  # SQLAlchemy only when a store is used

    try:
        history.record_run(run)
    except StoreError as exc:
        _NOT_RECORDED.append(str(exc))
        click.echo(
            f"mailauth-audit: error: the report was not recorded in the store: {exc}", err=True
        )
    finally:
        history.close()


def _final_code(run: AuditRun, fail_on: str | None) -> int:
    if _NOT_RECORDED:
        return EXIT_NOT_RECORDED
    return exit_code(run, Severity(fail_on) if fail_on else None)


async def _audit(
    domains: tuple[str, ...], options: AuditOptions, resolver: Resolver | None
) -> AuditRun:
    """The audit, closing a resolver the source options made (sockets of --authoritative)."""
    try:
        return await audit_domains(domains, options, resolver=resolver)
    finally:
        if resolver is not None:
            await resolver.aclose()


def _domains(arguments: tuple[str, ...], files: tuple[BinaryIO, ...]) -> list[str]:
    """The names to audit from the arguments, '-' and --domains-file, or a usage error."""
    limits = CheckInputLimits()
    stdin_wanted = arguments.count(STDIN) + sum(1 for f in files if _is_stdin(f))
    if stdin_wanted > 1:
        _fail_usage("stdin ('-') can be read only once")
    try:
        sources = [read_limited(f, "stdin" if _is_stdin(f) else f.name, limits) for f in files]
        if STDIN in arguments:
            sources.append(read_limited(sys.stdin.buffer, "stdin", limits))
        names = collect_domains([a for a in arguments if a != STDIN], sources, limits)
    except DomainInputError as exc:
        _fail_usage(str(exc))
    except OSError as exc:
        _fail_usage(f"cannot read the domain list: {exc.strerror or exc}")
    if not names:
        _fail_usage("no domain to audit: give DOMAIN arguments, '-' (stdin) or --domains-file")
    return names


def _is_stdin(stream: BinaryIO) -> bool:
    return getattr(stream, "name", None) in ("-", "<stdin>")


def exit_code(run: AuditRun, fail_on: Severity | None) -> int:
    if fail_on is not None and any(
        f.severity.rank >= fail_on.rank for d in run.domains for f in d.findings
    ):
        return EXIT_FINDINGS
    if any(d.has_errors for d in run.domains):
        return EXIT_INCOMPLETE
    return EXIT_OK


@main.command()
def schema() -> None:
    """Print the JSON Schema that `check --format json` output conforms to."""
    click.echo(schema_text(committed_schema()), nl=False)


# The other commands live in their own modules, which import `main` helpers from here; they
# are imported when first named (see _LazyGroup).
_LazyGroup.lazy = {
    "bulk": ".bulk:bulk",
    "demo": ".demo:demo",
    "dkim": ".dkim:dkim",
    "send": ".send:send",
    "verify": ".verify:verify",
    "receive": ".receive:receive",
    "fix": ".fix:fix",
    "history": ".history:history",
    "diff": ".history:diff",
    "alerts": ".alerts:alerts",
    "prune": ".history:prune",
    "serve": ".service:serve",
    "token": ".service:token",
    "worker": ".worker:worker",
}
