"""Options several commands share, declared once so their names, limits and help agree."""

from __future__ import annotations

import math
from pathlib import Path

import click

from ..options import DEFAULT_DKIM_SELECTORS, Limits


class FinitePositiveFloat(click.ParamType):
    """A finite number above 0 (and within [min, max] when given), e.g. seconds to wait.

    Why not click.FloatRange: "nan" and "inf" parse as floats and pass its comparisons, and
    a timeout of nan or inf never expires."""

    name = "number"

    def __init__(self, min: float | None = None, max: float | None = None) -> None:
        self.min = min
        self.max = max

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, bool):
            self.fail(f"{value!r} is not a number", param, ctx)
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number", param, ctx)
        if number <= 0:
            self.fail(f"{value} is not above 0", param, ctx)
        if self.min is not None and number < self.min:
            self.fail(f"{value} is below {self.min:g}", param, ctx)
        if self.max is not None and number > self.max:
            self.fail(f"{value} is more than {self.max:g}", param, ctx)
        return number


nameserver_option = click.option(
    "--nameserver",
    "nameservers",
    multiple=True,
    metavar="HOST[:PORT]",
    help="DNS server to ask (repeatable; IPv6 as [::1]:53). Default: /etc/resolv.conf.",
)
timeout_option = click.option(
    "--timeout",
    type=FinitePositiveFloat(min=0.05),
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
    help="Probe only the selectors given (--selector, --selectors-file, --selectors-from): "
    f"not the provider, date-style or built-in ({len(DEFAULT_DKIM_SELECTORS)}) names.",
)
checks_option = click.option(
    "--checks",
    "checks_text",
    metavar="LIST",
    help="Comma-separated checks to run (default: mx,spf,dkim,dmarc).",
)


domain_timeout_option = click.option(
    "--domain-timeout",
    type=FinitePositiveFloat(),
    default=Limits().domain_timeout,
    show_default=True,
    metavar="SECONDS",
    help="Wall-clock budget for one domain's whole audit; checks still running then end "
    "as error: domain_deadline.",
)


selectors_file_option = click.option(
    "--selectors-file",
    "selectors_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="DKIM selectors to probe, one per line (# comments), before the built-in lists "
    f"(repeatable; at most {Limits().max_selectors_file_bytes // 1024} KiB each).",
)
selectors_from_option = click.option(
    "--selectors-from",
    "selectors_messages",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="MESSAGE",
    help="Probe the selectors (s=) of the DKIM-Signature fields of this message you sent "
    "(an .eml or a saved raw message; only its header is read). Repeatable.",
)
max_selectors_option = click.option(
    "--max-selectors",
    type=click.IntRange(min=1, max=1000),
    default=Limits().max_dkim_selectors,
    show_default=True,
    metavar="N",
    help="DKIM selectors probed per domain at most (given ones first, then provider, "
    "date-style and built-in names); the rest are reported as not probed.",
)


def gather_selectors(
    selectors: tuple[str, ...],
    files: tuple[Path, ...],
    messages: tuple[Path, ...],
) -> tuple[str, ...]:
    """--selector names, then those of each --selectors-file and --selectors-from, each once.
    Raises SelectorInputError (a ConfigurationError: a usage error) for an unusable input."""
    from ..checks.dkim_selector_inputs import read_message_selectors, read_selectors_file

    out = list(selectors)
    for path in files:
        out += read_selectors_file(path, Limits().max_selectors_file_bytes)
    for path in messages:
        out += read_message_selectors(path)
    return tuple(dict.fromkeys(s.strip().lower().rstrip(".") for s in out))
