"""`mailauth-audit receive`: a test inbox that verifies every message it is sent."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path

import click

from ..asyncapi import DEFAULT_MAX_SIZE, ReceivedReport, ReceiveOptions, serve
from ..errors import ConfigurationError
from ..options import ReceiveLimits
from .common import (
    nameserver_option,
    output_option,
    quiet_option,
    timeout_option,
    zone_file_option,
)
from .verify import build_resolver, message_limit_options, message_limits, usage_error

_R = ReceiveLimits()


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise click.BadParameter(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


@click.command()
@click.option(
    "--listen",
    default="127.0.0.1:2525",
    show_default=True,
    metavar="HOST:PORT",
    help="Address to accept SMTP on.",
)
@output_option(
    dest="reports_dir",
    hidden_aliases=("--reports-dir",),
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports/inbox"),
    show_default=True,
    metavar="FOLDER",
    help="One JSON and one HTML report per message are written in this folder.",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Certificate (PEM) to offer STARTTLS with.",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Private key (PEM) of --tls-cert.",
)
@click.option(
    "--max-size",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_SIZE,
    show_default=True,
    help="Largest message accepted, in bytes (552 above).",
)
@click.option(
    "--hostname",
    default="mailauth-audit.invalid",
    show_default=True,
    help="Our name in the SMTP greeting and in Authentication-Results.",
)
@click.option(
    "--max-sessions",
    type=click.IntRange(min=1),
    default=_R.max_sessions,
    show_default=True,
    help="Open SMTP sessions in all (421 above).",
)
@click.option(
    "--max-sessions-per-ip",
    type=click.IntRange(min=1),
    default=_R.max_sessions_per_ip,
    show_default=True,
    help="Open SMTP sessions from one client address.",
)
@click.option(
    "--max-session-seconds",
    type=click.FloatRange(min=1, max=86400),
    default=_R.max_session_seconds,
    show_default=True,
    help="A session's whole life, however active.",
)
@click.option(
    "--max-commands",
    type=click.IntRange(min=1),
    default=_R.max_commands,
    show_default=True,
    help="SMTP commands in one session.",
)
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=1, max=86400),
    default=_R.idle_seconds,
    show_default=True,
    metavar="SECONDS",
    help="Without a command for this long, the client is dropped.",
)
@message_limit_options
@nameserver_option
@zone_file_option
@timeout_option
@quiet_option
def receive(
    listen: str,
    reports_dir: Path,
    tls_cert: Path | None,
    tls_key: Path | None,
    max_size: int,
    hostname: str,
    max_sessions: int,
    max_sessions_per_ip: int,
    max_session_seconds: float,
    max_commands: int,
    idle_timeout: float,
    max_header_fields: int,
    max_header_bytes: int,
    max_signatures: int,
    max_arc_sets: int,
    verify_budget: float,
    nameservers: tuple[str, ...],
    zone_file: Path | None,
    timeout: float,
    quiet: bool,
) -> None:
    """Accept test messages over SMTP and write a verification report for each.

    \b
    Example:
      mailauth-audit receive --listen 127.0.0.1:2525 -o reports/inbox/

    Never relays: messages are verified with the session's real client IP, HELO and
    MAIL FROM, and only the reports are kept. Stop with Ctrl-C or SIGTERM.
    """
    if (tls_cert is None) != (tls_key is None):
        usage_error("--tls-cert and --tls-key go together")
    try:
        host, port = parse_listen(listen)
    except click.BadParameter as exc:
        usage_error(str(exc.message))
        return
    options = ReceiveOptions(
        reports_dir=reports_dir,
        max_size=max_size,
        hostname=hostname,
        tls_cert=tls_cert,
        tls_key=tls_key,
        limits=ReceiveLimits(
            max_sessions=max_sessions,
            max_sessions_per_ip=max_sessions_per_ip,
            max_session_seconds=max_session_seconds,
            max_commands=max_commands,
            idle_seconds=idle_timeout,
        ),
        message_limits=message_limits(
            max_header_fields, max_header_bytes, max_signatures, max_arc_sets, verify_budget
        ),
    )

    def listening(address: tuple[str, int]) -> None:
        if quiet:
            return
        tls = " (STARTTLS offered)" if tls_cert else ""
        click.echo(
            f"listening on {address[0]}:{address[1]}{tls}; reports in {reports_dir}", err=True
        )

    def reported(item: ReceivedReport) -> None:
        click.echo(f"{item.report.status.value}: {item.json_path}", err=True)

    async def run() -> None:
        resolver = build_resolver(nameservers, zone_file, timeout)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await serve(host, port, resolver, options, stop, listening, reported)
        finally:
            await resolver.aclose()

    try:
        asyncio.run(run())
    except ConfigurationError as exc:
        usage_error(str(exc))
    except OSError as exc:
        usage_error(f"cannot listen on {listen}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        pass
    if not quiet:
        click.echo("stopped", err=True)
    sys.exit(0)
