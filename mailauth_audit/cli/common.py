"""Options several commands share, declared once so their names, limits and help agree."""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from ..model import CheckId, Severity
from ..options import DEFAULT_DKIM_SELECTORS, Limits, ProbeOptions


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
    "-n",
    "--nameserver",
    "nameservers",
    multiple=True,
    metavar="IP[:PORT]",
    help="DNS server to ask (repeatable): IP, IP:PORT, IP#PORT, [IPV6]:PORT. "
    "Default: /etc/resolv.conf.",
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
    help=f"Comma-separated checks to run, of {','.join(c.value for c in CheckId)} (default: all).",
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


zone_files_option = click.option(
    "--zone-file",
    "zone_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Answer DNS from this zone file instead of the network: audit a draft before "
    "publishing it (repeatable; files are merged, a zone may be in one file only). Names "
    "outside the file(s) are 'not checked', or asked of --nameserver when one is given: "
    "a draft of your own zone against the live records of your providers' includes.",
)
origin_option = click.option(
    "--origin",
    metavar="NAME",
    help="Zone origin for --zone-file names that are relative (default: the file's $ORIGIN, "
    "else its SOA owner).",
)
authoritative_option = click.option(
    "--authoritative",
    is_flag=True,
    help="Ask each zone's own servers (found through the resolver) instead of the resolver's "
    "cache: a re-check right after publishing sees the new records.",
)
authoritative_port_option = click.option(
    "--authoritative-port",
    type=click.IntRange(1, 65535),
    default=53,
    show_default=True,
    help="Port the zones' servers are asked on with --authoritative (test setups).",
)


# -- spellings shared by every command (issue: "one name per idea across commands") --------

F = TypeVar("F", bound=Callable[..., Any])


class AliasOption(click.Option):
    """An option whose older spellings keep working but are not shown in --help.

    Why: renaming `--out` to `-o/--output` must not break scripts written for the old name,
    yet --help should teach one name per idea."""

    def __init__(
        self, param_decls: Sequence[str], hidden_aliases: Sequence[str] = (), **attrs: Any
    ) -> None:
        super().__init__([*param_decls, *hidden_aliases], **attrs)
        self.hidden_aliases = tuple(hidden_aliases)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        shown, self.opts = self.opts, [o for o in self.opts if o not in self.hidden_aliases]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = shown


class ColorMode(StrEnum):
    AUTO = "auto"  # on a terminal, unless NO_COLOR is set and not empty
    ALWAYS = "always"  # also into a pipe or a file, and despite NO_COLOR
    NEVER = "never"


def color_enabled(
    mode: ColorMode, stream: TextIO, environ: Mapping[str, str] | None = None
) -> bool:
    """Whether to colour what goes to `stream`. NO_COLOR (https://no-color.org) turns off the
    automatic choice only: an explicit `--color always` is the user asking for it."""
    if mode is ColorMode.ALWAYS:
        return True
    if mode is ColorMode.NEVER:
        return False
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def color_option(f: F) -> F:
    """`--color auto|always|never` (bare `--color` means always); the old `--no-color`
    still works, hidden. The command receives `color: ColorMode`."""

    @functools.wraps(f)
    def merged(*args: Any, color: str, no_color: bool, **kwargs: Any) -> Any:
        mode = ColorMode.NEVER if no_color else ColorMode(color)
        return f(*args, color=mode, **kwargs)

    merged = click.option(
        "--no-color", is_flag=True, hidden=True, help="Same as --color never (old spelling)."
    )(merged)
    merged = click.option(
        "--color",
        type=click.Choice([m.value for m in ColorMode]),
        default=ColorMode.AUTO.value,
        is_flag=False,
        flag_value=ColorMode.ALWAYS.value,
        show_default=True,
        help="Colour the output: auto = on a terminal unless NO_COLOR is set; always = also "
        "into a pipe or file (overrides NO_COLOR).",
    )(merged)
    return merged  # type: ignore[return-value]


quiet_option = click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print only errors and the result: no progress, notes or 'wrote FILE' on stderr.",
)


def format_option(choices: Sequence[str], default: str, help: str = "Output format.") -> Any:
    """`-f/--format`, as checkdmarc users type it."""
    return click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=default,
        show_default=True,
        help=help,
    )


def output_option(
    *, help: str, hidden_aliases: Sequence[str] = (), dest: str = "output", **attrs: Any
) -> Any:
    """`-o/--output` on every command that writes something other than stdout; a command's
    older spelling (`--out`, `--transcript`, `--reports-dir`) stays as a hidden alias."""
    return click.option(
        "-o", "--output", dest, cls=AliasOption, hidden_aliases=hidden_aliases, help=help, **attrs
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
    from ..asyncapi import read_message_selectors, read_selectors_file

    out = list(selectors)
    for path in files:
        out += read_selectors_file(path, Limits().max_selectors_file_bytes)
    for path in messages:
        out += read_message_selectors(path)
    return tuple(dict.fromkeys(s.strip().lower().rstrip(".") for s in out))


fail_on_option = click.option(
    "--fail-on",
    type=click.Choice([s.value for s in Severity]),
    default=None,
    help="Exit 1 when any domain has a finding of this severity or worse.",
)


def probe_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--no-probes, --allow-private-targets, --smtp-port, --https-port and --ca-file, given
    to the command as one `probes: ProbeOptions` argument (the names map to its fields).
    An unusable --ca-file is refused when the run starts (ProbeSet), as a usage error."""

    defaults = ProbeOptions()

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ca_file = kwargs.pop("ca_file")
        kwargs["probes"] = ProbeOptions(
            enabled=not kwargs.pop("no_probes"),
            allow_private_targets=kwargs.pop("allow_private_targets"),
            smtp_port=kwargs.pop("smtp_port"),
            https_port=kwargs.pop("https_port"),
            ca_file=str(ca_file) if ca_file is not None else None,
        )
        return command(*args, **kwargs)

    port = click.IntRange(1, 65535)
    options = (
        click.option(
            "--no-probes",
            is_flag=True,
            help="Ask DNS only: connect to no mail or web server (STARTTLS, the MTA-STS "
            "policy); results that need a connection are marked skipped.",
        ),
        click.option(
            "--allow-private-targets",
            is_flag=True,
            help="Let probes connect to loopback, private and other non-global addresses "
            "(test setups, internal mail systems). Without it such hosts are reported as "
            "not probed.",
        ),
        click.option(
            "--smtp-port",
            type=port,
            default=defaults.smtp_port,
            show_default=True,
            help="Port of the SMTP probes (test setups).",
        ),
        click.option(
            "--https-port",
            type=port,
            default=defaults.https_port,
            show_default=True,
            help="Port of the HTTPS probes, e.g. the MTA-STS policy fetch (test setups).",
        ),
        click.option(
            "--ca-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="Trust only the CA certificates in this PEM file when judging a probed "
            "server's certificate (test setups, a private PKI).",
        ),
    )
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


dnssec_resolver_option = click.option(
    "--dnssec-resolver",
    "dnssec_resolvers",
    multiple=True,
    metavar="IP[:PORT]",
    help="Validating DNS resolver whose AD bit gives the DNSSEC and DANE verdicts "
    "(repeatable; same forms as --nameserver). Default: the --nameserver servers; a "
    "resolver that does not validate makes those checks 'could not check'.",
)
