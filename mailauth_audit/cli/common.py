"""Options several commands share, declared once so their names, limits and help agree."""

from __future__ import annotations

from pathlib import Path

import click

from ..options import DEFAULT_DKIM_SELECTORS, Limits, check_domain_timeout

nameserver_option = click.option(
    "--nameserver",
    "nameservers",
    multiple=True,
    metavar="HOST[:PORT]",
    help="DNS server to ask (repeatable; IPv6 as [::1]:53). Default: /etc/resolv.conf.",
)
timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=0.05),
    default=Limits().dns_timeout,
    show_default=True,
    metavar="SECONDS",
    help="Timeout of one DNS attempt.",
)
retries_option = click.option(
    "--retries",
    type=click.IntRange(min=0, max=10),
    default=Limits().dns_attempts - 1,
    show_default=True,
    help="Extra DNS attempts after a timeout.",
)
zone_file_option = click.option(
    "--zone-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Answer DNS from this zone file instead of the network.",
)
selector_option = click.option(
    "--selector",
    "selectors",
    multiple=True,
    metavar="NAME",
    help="DKIM selector to probe, before the built-in list (repeatable).",
)
no_default_selectors_option = click.option(
    "--no-default-selectors",
    is_flag=True,
    help=f"Probe only --selector names, not the built-in {len(DEFAULT_DKIM_SELECTORS)}.",
)
checks_option = click.option(
    "--checks",
    "checks_text",
    metavar="LIST",
    help="Comma-separated checks to run (default: mx,spf,dkim,dmarc).",
)


def _finite_seconds(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """FloatRange lets "nan" and "inf" through; a budget must be a real number of seconds."""
    try:
        return check_domain_timeout(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a finite number of seconds above 0") from None


domain_timeout_option = click.option(
    "--domain-timeout",
    type=float,
    default=Limits().domain_timeout,
    show_default=True,
    metavar="SECONDS",
    callback=_finite_seconds,
    help="Wall-clock budget for one domain's whole audit; checks still running then end "
    "as error: domain_deadline.",
)
