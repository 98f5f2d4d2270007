"""The `mailauth-audit` command: a thin client of the public API.

Exit codes (also in `--help`): 0 done; 1 a finding at or above --fail-on; 2 usage error
(bad option, invalid domain name, unreadable zone file); 3 some check could not be completed
(DNS timeout, SERVFAIL...). When both 1 and 3 apply, 1 wins: a failing finding is a verdict,
whereas 3 only says the verdict is incomplete.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import click

from ..asyncapi import audit_domains
from ..domain import normalize_domain
from ..errors import ConfigurationError, InvalidDomainError
from ..model import AuditRun, CheckId, Severity
from ..options import AuditOptions, Limits
from ..outputs import STDOUT, OutputRefused, write_output
from ..report.html import is_folder_target, write_report_folder
from ..report.renderers import RENDERERS, OutputFormat
from ..report.schema import committed_schema, schema_text
from ..resolver.base import Resolver
from ..resolver.factory import parse_nameserver
from ..resolver.static import StaticResolver
from ..version import __version__
from .common import (
    checks_option,
    domain_timeout_option,
    gather_selectors,
    max_selectors_option,
    nameserver_option,
    no_default_selectors_option,
    retries_option,
    selector_option,
    selectors_file_option,
    selectors_from_option,
    timeout_option,
)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


def _fail_usage(message: str) -> None:
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
    cryptography (~0.3 s of imports); `check` and `bulk` need none of it, and a scheduled
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
@click.version_option(__version__, prog_name="mailauth-audit")
def main() -> None:
    """Audit a domain's email authentication: MX, SPF, DKIM and DMARC.

    \b
    Examples:
      mailauth-audit check example.com
      mailauth-audit check --format json -o reports/example.json example.com other.org
      mailauth-audit check --zone-file example.com.zone example.com
      mailauth-audit schema > report.schema.json
    """


@main.command()
@click.argument("domains", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in OutputFormat]),
    default=OutputFormat.TEXT.value,
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=str),
    metavar="FILE|FOLDER/",
    help="Write the report to FILE (written atomically) instead of stdout. With --format html, "
    "a FOLDER/ (trailing slash, or an existing folder) gets index.html and one page per domain. "
    "'-' is stdout; a FIFO or device is written directly; a symbolic link is refused.",
)
@nameserver_option
@timeout_option
@retries_option
@domain_timeout_option
@selector_option
@no_default_selectors_option
@selectors_file_option
@selectors_from_option
@max_selectors_option
@click.option(
    "--zone-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Answer every DNS question from this zone file: audit a zone before "
    "publishing it, without the network.",
)
@checks_option
@click.option(
    "--fail-on",
    type=click.Choice([s.value for s in Severity]),
    default=None,
    help="Exit 1 when a finding of this severity or worse is present.",
)
@click.option(
    "--color/--no-color", default=None, help="Colour the text output (default: on a terminal)."
)
@click.option("--debug", is_flag=True, help="Keep tracebacks of internal errors in the report.")
def check(
    domains: tuple[str, ...],
    fmt: str,
    output: str | None,
    nameservers: tuple[str, ...],
    timeout: float,
    retries: int,
    domain_timeout: float,
    selectors: tuple[str, ...],
    no_default_selectors: bool,
    selectors_files: tuple[Path, ...],
    selectors_messages: tuple[Path, ...],
    max_selectors: int,
    zone_file: Path | None,
    checks_text: str | None,
    fail_on: str | None,
    color: bool | None,
    debug: bool,
) -> None:
    """Audit DOMAINS and print a report.

    \b
    Examples:
      mailauth-audit check example.com
      mailauth-audit check --format json -o reports/example.json example.com other.org
      mailauth-audit check --nameserver 127.0.0.1:5300 --selector brand2026 example.com
      mailauth-audit check --selectors-from sent.eml example.com   # selectors that signed it
      mailauth-audit check --zone-file example.com.zone example.com
      mailauth-audit check --fail-on high example.com   # exit 1 on a high or critical finding

    \b
    Exit codes: 0 done; 1 a finding at or above --fail-on; 2 usage error;
    3 a check could not be completed (DNS timeout, SERVFAIL, REFUSED...).
    """
    to_folder = output is not None and is_folder_target(output)
    if to_folder and OutputFormat(fmt) is not OutputFormat.HTML:
        _fail_usage(f"-o {output} is a folder; only --format html writes a folder of pages")
    for d in domains:
        try:
            normalize_domain(d)
        except InvalidDomainError as exc:
            _fail_usage(str(exc))
    for ns in nameservers:
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
    )
    options = replace(options, limits=replace(options.limits, max_dkim_selectors=max_selectors))
    resolver: Resolver | None = None
    if zone_file is not None:
        try:
            resolver = StaticResolver.from_file(zone_file)
        except ConfigurationError as exc:
            _fail_usage(str(exc))
    try:
        run = asyncio.run(audit_domains(domains, options, resolver=resolver))
    except ConfigurationError as exc:
        _fail_usage(str(exc))
    except KeyboardInterrupt:
        click.echo("mailauth-audit: interrupted", err=True)
        sys.exit(130)

    use_color = color if color is not None else (output is None and sys.stdout.isatty())
    if output is not None and to_folder:
        try:
            index = write_report_folder(run, Path(output))
        except OSError as exc:
            click.echo(f"mailauth-audit: error: cannot write {output}: {exc.strerror}", err=True)
            sys.exit(EXIT_USAGE)
        click.echo(f"wrote {index}", err=True)
        sys.exit(exit_code(run, Severity(fail_on) if fail_on else None))
    fail_severity = Severity(fail_on) if fail_on else None
    text = RENDERERS[OutputFormat(fmt)](color=use_color, fail_on=fail_severity).render(run)
    if output is not None:
        try:
            write_output(output, text)
        except OSError as exc:
            click.echo(f"mailauth-audit: error: cannot write {output}: {exc.strerror}", err=True)
            sys.exit(EXIT_USAGE)
        if output != STDOUT:
            click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
    sys.exit(exit_code(run, Severity(fail_on) if fail_on else None))


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
}
