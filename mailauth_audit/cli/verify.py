"""`mailauth-audit verify`: verify one received message file."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..asyncapi import (
    DEFAULT_MAX_SIZE,
    STDOUT,
    Envelope,
    EnvelopeSource,
    MessageFormat,
    MessageReport,
    Resolver,
    StaticResolver,
    VerifyOptions,
    make_resolver,
    parse_nameserver,
    read_message,
    render_message,
    verify_message,
    write_output,
)
from ..errors import ConfigurationError
from ..model import CheckStatus
from ..options import AuditOptions, Limits, MessageLimits
from .common import (
    ColorMode,
    color_enabled,
    color_option,
    format_option,
    nameserver_option,
    output_option,
    quiet_option,
    timeout_option,
    zone_file_option,
)

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
_M = MessageLimits()
_F = TypeVar("_F", bound=Callable[..., Any])


def message_limit_options(f: _F) -> _F:
    """The per-message bounds `verify` and `receive` share (defaults from MessageLimits)."""
    options = [
        click.option(
            "--max-header-fields",
            type=click.IntRange(min=1),
            default=_M.max_header_fields,
            show_default=True,
            help="More header fields than this: the message is refused.",
        ),
        click.option(
            "--max-header-bytes",
            type=click.IntRange(min=1),
            default=_M.max_header_bytes,
            show_default=True,
            help="A larger header section: the message is refused.",
        ),
        click.option(
            "--max-signatures",
            type=click.IntRange(min=1),
            default=_M.max_dkim_signatures,
            show_default=True,
            help="DKIM signatures verified per message; the rest: not verified.",
        ),
        click.option(
            "--max-arc-sets",
            type=click.IntRange(min=1, max=50),
            default=_M.max_arc_sets,
            show_default=True,
            help="A longer ARC chain is not validated.",
        ),
        click.option(
            "--verify-budget",
            type=click.FloatRange(min=0, min_open=True, max=3600),
            default=_M.verify_seconds,
            show_default=True,
            metavar="SECONDS",
            help="Time for one message's DKIM and ARC verification.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def message_limits(
    max_header_fields: int,
    max_header_bytes: int,
    max_signatures: int,
    max_arc_sets: int,
    verify_budget: float,
) -> MessageLimits:
    return MessageLimits(
        max_header_fields=max_header_fields,
        max_header_bytes=max_header_bytes,
        max_dkim_signatures=max_signatures,
        max_arc_sets=max_arc_sets,
        verify_seconds=verify_budget,
    )


def usage_error(message: str) -> None:
    click.echo(f"mailauth-audit: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def build_resolver(
    nameservers: tuple[str, ...], zone_file: Path | None, timeout: float
) -> Resolver:
    """A StaticResolver over --zone-file, else the wire resolver over --nameserver (or the
    system's). Raises ConfigurationError for a bad value."""
    if zone_file is not None:
        return StaticResolver.from_file(zone_file)
    for ns in nameservers:
        parse_nameserver(ns)
    return make_resolver(AuditOptions(nameservers=nameservers, limits=Limits(dns_timeout=timeout)))


@click.command()
@click.argument("message", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--client-ip", help="IP address of the SMTP client that delivered the message.")
@click.option("--helo", help="HELO/EHLO name the client gave.")
@click.option("--mail-from", help="MAIL FROM (envelope sender); '' for the null sender <>.")
@nameserver_option
@zone_file_option
@timeout_option
@format_option([f.value for f in MessageFormat], MessageFormat.TEXT.value)
@output_option(
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here instead of standard output ('-' is stdout; "
    "a FIFO or device is written directly; a symbolic link is refused).",
)
@click.option(
    "--max-size",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_SIZE,
    show_default=True,
    help="Largest message verified, in bytes.",
)
@click.option(
    "--authserv-id",
    default="mailauth-audit",
    show_default=True,
    help="authserv-id of the Authentication-Results header.",
)
@message_limit_options
@color_option
@quiet_option
def verify(
    message: Path,
    client_ip: str | None,
    helo: str | None,
    mail_from: str | None,
    nameservers: tuple[str, ...],
    zone_file: Path | None,
    timeout: float,
    fmt: str,
    output: Path | None,
    max_size: int,
    authserv_id: str,
    max_header_fields: int,
    max_header_bytes: int,
    max_signatures: int,
    max_arc_sets: int,
    verify_budget: float,
    color: ColorMode,
    quiet: bool,
) -> None:
    """Verify MESSAGE (an .eml file): every DKIM signature, SPF, DMARC, ARC, header hygiene.

    \b
    Examples:
      mailauth-audit verify message.eml
      mailauth-audit verify --client-ip 192.0.2.7 --helo mail.example.com \\
          --mail-from bounce@example.com --format json -o report.json message.eml

    Without --client-ip the SMTP values come from the topmost Received header and
    Return-Path. Exit codes: 0 no high or critical finding; 1 some; 2 usage error.
    """
    try:
        raw, size = read_message(message, max_size)
    except OSError as exc:
        usage_error(f"cannot read {message}: {exc.strerror}")
        return
    envelope = None
    if client_ip is not None or helo is not None or mail_from is not None:
        envelope = Envelope(client_ip, helo, mail_from, EnvelopeSource.GIVEN)
    limits = message_limits(
        max_header_fields, max_header_bytes, max_signatures, max_arc_sets, verify_budget
    )
    options = VerifyOptions(max_size=max_size, authserv_id=authserv_id, limits=limits)

    async def run() -> MessageReport:
        resolver = build_resolver(nameservers, zone_file, timeout)
        try:
            return await verify_message(
                raw, envelope=envelope, verify_options=options, resolver=resolver, size=size
            )
        finally:
            await resolver.aclose()

    try:
        report = asyncio.run(run())
    except ConfigurationError as exc:
        usage_error(str(exc))
        return
    except KeyboardInterrupt:
        click.echo("mailauth-audit: interrupted", err=True)
        sys.exit(130)
    to_stdout = output is None or str(output) == STDOUT
    use_color = color is ColorMode.ALWAYS or (to_stdout and color_enabled(color, sys.stdout))
    text = render_message(report, MessageFormat(fmt), color=use_color)
    if output is not None:
        try:
            write_output(output, text)
        except OSError as exc:
            usage_error(f"cannot write {output}: {exc.strerror}")
        if str(output) != STDOUT and not quiet:
            click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False, color=use_color)
    sys.exit(EXIT_FAIL if report.status is CheckStatus.FAIL else EXIT_OK)
