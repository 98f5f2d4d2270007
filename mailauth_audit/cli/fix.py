"""`mailauth-audit fix DOMAIN`: one change set per DNS name, applied and audited again.

A thin client of the facade (`asyncapi.fix_domain`, `render_fix`, `zone_diff`,
`write_corrected_zone`): parse the options, call, print, exit.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from .. import asyncapi
from ..errors import ConfigurationError, MailauthAuditError
from ..model import CheckStatus
from ..options import AuditOptions, Limits
from .common import (
    nameserver_option,
    origin_option,
    retries_option,
    selector_option,
    timeout_option,
)

EXIT_OK, EXIT_USAGE, EXIT_CHECK_ERROR = 0, 2, 3  # as in cli.main


def _fail_usage(message: str) -> None:
    click.echo(f"mailauth-audit: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


@click.command()
@click.argument("domain")
@click.option(
    "--zone-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Audit and correct this zone file instead of live DNS.",
)
@click.option(
    "--write-zone",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="With --zone-file: write the corrected zone to FILE (atomically; every other line "
    "of the zone file kept as it is).",
)
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="With --zone-file: print a unified diff of the zone file and the corrected zone.",
)
@click.option(
    "--allow-placeholders",
    is_flag=True,
    help="Apply changes that hold a value only you know (e.g. <your-report-mailbox>) as they "
    "stand; by default they are listed as 'needs your input' and left out.",
)
@origin_option
@nameserver_option
@timeout_option
@retries_option
@selector_option
def fix(
    domain: str,
    zone_file: Path | None,
    write_zone: Path | None,
    show_diff: bool,
    allow_placeholders: bool,
    origin: str | None,
    nameservers: tuple[str, ...],
    timeout: float,
    retries: int,
    selectors: tuple[str, ...],
) -> None:
    """Print the combined change set for DOMAIN, apply it, and audit the result.

    For each DNS name, one proposed change ("replace X with Y", "add", "remove") combining
    every fix for that name and keeping every tag and mechanism not at fault. The corrected
    zone (or, without --zone-file, live DNS with the changes laid over it) is audited again:
    the grades before and after and the findings that remain are printed. Values only you
    know (a public address, a report mailbox) stay placeholders under "needs your input".

    \b
    Examples:
      mailauth-audit fix example.com
      mailauth-audit fix --zone-file example.com.zone example.com
      mailauth-audit fix --zone-file in.zone --write-zone out.zone example.com
      mailauth-audit fix --zone-file in.zone --diff example.com
      mailauth-audit fix --zone-file draft.zone --nameserver 9.9.9.9 example.com

    \b
    Exit codes: 0 done; 2 usage error; 3 a check could not be completed.
    """
    if zone_file is None and (write_zone is not None or show_diff):
        _fail_usage("--write-zone and --diff need --zone-file")
    options = AuditOptions(
        selectors=selectors,
        nameservers=nameservers,
        limits=Limits(dns_timeout=timeout, dns_attempts=retries + 1),
    )
    try:
        outcome = asyncio.run(
            asyncapi.fix_domain(
                domain,
                options,
                zone_file=zone_file,
                origin=origin,
                allow_placeholders=allow_placeholders,
            )
        )
    except ConfigurationError as exc:
        _fail_usage(str(exc))
        return
    except MailauthAuditError as exc:
        click.echo(f"mailauth-audit: error: {exc}", err=True)
        sys.exit(EXIT_CHECK_ERROR)
    click.echo(asyncapi.render_fix(outcome), nl=False)
    if show_diff:
        click.echo(asyncapi.zone_diff(outcome, zone_file.name if zone_file else "zone"), nl=False)
    if write_zone is not None:
        asyncapi.write_corrected_zone(outcome, write_zone)
        click.echo(f"Corrected zone written to {write_zone}", err=True)
    errors = any(o.status is CheckStatus.ERROR for o in outcome.before.checks.values())
    sys.exit(EXIT_CHECK_ERROR if errors else EXIT_OK)
