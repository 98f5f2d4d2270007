"""`mailauth-audit send`: compose, DKIM-sign and submit one test message over SMTP.

The password comes only from an environment variable (--password-env NAME) or a prompt:
a command-line value would be visible to every user in the process list and kept in the
shell history. It never appears in the output or the transcript.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from ..asyncapi import (
    DEFAULT_SUBJECT,
    ComposeError,
    DkimKeyError,
    DkimSignature,
    MessageSpec,
    PlaintextAuthRefused,
    RetryNotice,
    RetryPolicy,
    SigningError,
    SmtpRejected,
    SmtpSecurity,
    SmtpSendError,
    SmtpSettings,
    SmtpTranscript,
    __version__,
    compose_message,
    default_security,
    read_private_key,
    sign_message,
    submit,
    terminal_safe,
    to_jsonable,
    write_atomically,
)
from ..options import SmtpSendLimits
from .common import ColorMode, color_enabled, color_option, output_option, quiet_option
from .dkim import parse_selector

# as in cli.main: 1 is the verdict (here: the server refused the message for good)
EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_NOT_SENT = 0, 1, 2, 3


def _fail_usage(message: str) -> None:
    click.echo(f"mailauth-audit: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """FloatRange lets NaN through (every comparison with it is false)."""
    if not math.isfinite(value):
        raise click.BadParameter("must be a finite number of seconds")
    return value


def transcript_json(
    transcript: SmtpTranscript, signature: DkimSignature | None, message_id: str
) -> str:
    doc = {
        "tool": {"name": "mailauth-audit", "version": __version__},
        "message_id": message_id,
        "dkim": to_jsonable(signature),
        "smtp": to_jsonable(transcript),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _default_ehlo_name(from_domain: str) -> str:
    """This host's name if it looks qualified (no DNS lookup: getfqdn would ask one)."""
    name = socket.gethostname()
    return name if "." in name else f"mailauth-audit.{from_domain}"


def _password(user: str | None, env_name: str | None) -> str | None:
    if user is None:
        if env_name:
            _fail_usage("--password-env needs --user")
        return None
    if env_name:
        value = os.environ.get(env_name)
        if value is None:
            _fail_usage(f"environment variable {env_name} is not set (--password-env)")
        return value
    if not sys.stdin.isatty():
        _fail_usage("--user needs a password: give --password-env NAME (no terminal to ask)")
    return str(click.prompt(f"SMTP password for {user}", hide_input=True))


@click.command()
@click.option("--from", "from_address", required=True, help="From address (local@domain).")
@click.option("--from-name", default=None, help="Display name for From.")
@click.option("--to", "to_addresses", required=True, multiple=True, help="Recipient (repeatable).")
@click.option("--subject", default=DEFAULT_SUBJECT, show_default=True, help="Subject line.")
@click.option("--smtp-host", required=True, help="Submission or MX server to talk to.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=587,
    show_default=True,
    help="Port of --smtp-host: 587 submission, 465 implicit TLS, 25 MX.",
)
@click.option(
    "--starttls",
    "security",
    flag_value=SmtpSecurity.STARTTLS.value,
    help="Plain connect, then STARTTLS (default, except on port 465).",
)
@click.option(
    "--tls",
    "security",
    flag_value=SmtpSecurity.TLS.value,
    help="Implicit TLS from the first byte (default on port 465).",
)
@click.option(
    "--plain",
    "security",
    flag_value=SmtpSecurity.PLAIN.value,
    help="No TLS at all (port 25 test servers).",
)
@click.option("--user", default=None, help="Authenticate (AUTH) as this user.")
@click.option(
    "--password-env",
    metavar="NAME",
    default=None,
    help="Read the password from environment variable NAME (else: a prompt).",
)
@click.option(
    "--dkim-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Private key (PEM) from `dkim keygen`.",
)
@click.option("--dkim-selector", default=None, help="Selector of --dkim-key.")
@click.option("--dkim-domain", default=None, help="d= of the signature (default: From domain).")
@click.option(
    "--list-unsubscribe",
    "unsubscribe",
    multiple=True,
    metavar="URI",
    help="https: URL or mailto: for List-Unsubscribe (repeatable); an https URL also adds "
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058).",
)
@click.option("--insecure", is_flag=True, help="Do not verify the server's TLS certificate.")
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Trust the CA certificates in this PEM file (a private CA) instead of the system's.",
)
@click.option(
    "--allow-plaintext-auth", is_flag=True, help="Allow AUTH without TLS (test servers only)."
)
@click.option("--ehlo-name", default=None, help="Name to give in EHLO (default: this host).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.01, max=86400),
    default=SmtpSendLimits.reply_timeout,
    show_default=True,
    callback=_finite,
    metavar="S",
    help="Seconds for the connection, and for each whole server reply (however slowly the "
    "server sends it).",
)
@click.option(
    "--attempt-timeout",
    type=click.FloatRange(min=0.01, max=86400),
    default=SmtpSendLimits.attempt_timeout,
    show_default=True,
    callback=_finite,
    metavar="S",
    help="Seconds for one attempt, from connecting to QUIT.",
)
@click.option(
    "--total-timeout",
    type=click.FloatRange(min=0.01, max=86400),
    default=SmtpSendLimits.total_timeout,
    show_default=True,
    callback=_finite,
    metavar="S",
    help="Seconds for the whole send, retries and waits between them included.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=2,
    show_default=True,
    help="Extra attempts after a transient failure (421/450/451/452, drop, timeout).",
)
@click.option(
    "--retry-delay",
    type=click.FloatRange(min=0.0),
    default=RetryPolicy().initial_delay,
    show_default=True,
    callback=_finite,
    metavar="S",
    help="Wait before the first retry; doubles each time.",
)
@output_option(
    dest="transcript_path",
    hidden_aliases=("--transcript",),
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Write the SMTP session as JSON to FILE (password and AUTH exchange redacted).",
)
@click.option(
    "--save-message",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the signed message (.eml) here, e.g. for `verify`.",
)
@color_option
@quiet_option
def send(
    from_address: str,
    from_name: str | None,
    to_addresses: tuple[str, ...],
    subject: str,
    smtp_host: str,
    port: int,
    security: str | None,
    user: str | None,
    password_env: str | None,
    dkim_key: Path | None,
    dkim_selector: str | None,
    dkim_domain: str | None,
    unsubscribe: tuple[str, ...],
    insecure: bool,
    ca_file: str | None,
    allow_plaintext_auth: bool,
    ehlo_name: str | None,
    timeout: float,
    attempt_timeout: float,
    total_timeout: float,
    retries: int,
    retry_delay: float,
    transcript_path: Path | None,
    save_message: Path | None,
    color: ColorMode,
    quiet: bool,
) -> None:
    """Compose a DKIM-signed test message and submit it over SMTP.

    \b
    Examples:
      SMTP_PASSWORD=... mailauth-audit send --from audit@example.com \\
          --to check@receiver.example --smtp-host smtp.example.com --port 587 --starttls \\
          --user audit --password-env SMTP_PASSWORD \\
          --dkim-key keys/s2026.key --dkim-selector s2026 -o send.json
      mailauth-audit send --from a@example.com --to b@example.net --smtp-host mx.example.net \\
          --port 25 --dkim-key keys/s2026.key --dkim-selector s2026

    \b
    TLS: certificates are verified unless --insecure (--ca-file for a private CA).
    AUTH is only sent over TLS unless --allow-plaintext-auth.
    Exit codes: 0 sent (the server accepted the message); 1 permanently rejected (5xx);
    2 usage error; 3 could not send (network, TLS, or transient replies until --retries ran
    out; a server reply with too many lines or bytes; a deadline passed; also when the
    connection broke after the message was sent and the outcome is unknown).
    """
    mode = SmtpSecurity(security) if security else default_security(port)
    if (dkim_key is None) != (dkim_selector is None):
        _fail_usage("--dkim-key and --dkim-selector go together")
    selector = None
    if dkim_selector is not None:
        try:
            selector = parse_selector(dkim_selector)
        except click.BadParameter as exc:
            _fail_usage(exc.message)
    password = _password(user, password_env)
    spec = MessageSpec(
        from_address=from_address,
        to_addresses=to_addresses,
        subject=subject,
        from_name=from_name,
        list_unsubscribe=unsubscribe,
    )
    try:
        composed = compose_message(spec, now=datetime.now(UTC), token=secrets.token_hex(12))
    except ComposeError as exc:
        _fail_usage(str(exc))
    data = composed.data.encode("ascii")
    signature: DkimSignature | None = None
    if dkim_key is not None and selector is not None:
        try:
            key = read_private_key(dkim_key)
            data, signature = sign_message(
                data,
                key,
                domain=(dkim_domain or composed.from_domain).lower(),
                selector=selector,
            )
        except (DkimKeyError, SigningError, ValueError) as exc:
            _fail_usage(str(exc))
    elif not quiet:
        click.echo("note: sending unsigned (no --dkim-key)", err=True)
    if save_message is not None:
        write_atomically(save_message, data)

    settings = SmtpSettings(
        host=smtp_host,
        port=port,
        security=mode,
        ehlo_name=ehlo_name or _default_ehlo_name(composed.from_domain),
        username=user,
        allow_plaintext_auth=allow_plaintext_auth,
        verify_certificate=not insecure,
        ca_file=ca_file,
        retry=RetryPolicy(max_attempts=retries + 1, initial_delay=retry_delay),
        limits=SmtpSendLimits(
            reply_timeout=timeout, attempt_timeout=attempt_timeout, total_timeout=total_timeout
        ),
    )
    try:
        transcript = submit(
            data,
            mail_from=composed.from_address,
            recipients=composed.recipients,
            settings=settings,
            password=password,
            on_retry=None if quiet else _announce_retry,
        )
    except PlaintextAuthRefused as exc:
        _fail_usage(str(exc))
    except SmtpSendError as exc:
        _write_transcript(transcript_path, exc.transcript, signature, composed.message_id, quiet)
        t = exc.transcript
        # the error quotes the server's reply: shown with control characters escaped
        if isinstance(exc, SmtpRejected):
            click.echo(f"mailauth-audit: rejected: {terminal_safe(str(exc))}", err=True)
        else:
            click.echo(f"mailauth-audit: not sent: {terminal_safe(str(exc))}", err=True)
        if t.explanation:
            click.echo(f"  usually means: {t.explanation}", err=True)
        sys.exit(EXIT_REJECTED if isinstance(exc, SmtpRejected) else EXIT_NOT_SENT)
    _write_transcript(transcript_path, transcript, signature, composed.message_id, quiet)
    _print_summary(transcript, signature, composed.message_id, color_enabled(color, sys.stdout))
    sys.exit(EXIT_OK)


def _announce_retry(notice: RetryNotice) -> None:
    """E.g. "connection refused by HOST:PORT; retrying in 5 s (attempt 2 of 3)"."""
    click.echo(f"mailauth-audit: {terminal_safe(str(notice))}", err=True)


def _write_transcript(
    path: Path | None,
    transcript: SmtpTranscript,
    sig: DkimSignature | None,
    message_id: str,
    quiet: bool,
) -> None:
    if path is None:
        return
    try:
        write_atomically(path, transcript_json(transcript, sig, message_id))
    except OSError as exc:
        click.echo(f"mailauth-audit: error: cannot write {path}: {exc.strerror}", err=True)
        sys.exit(EXIT_USAGE)
    if not quiet:
        click.echo(f"wrote {path}", err=True)


def _print_summary(
    t: SmtpTranscript, sig: DkimSignature | None, message_id: str, color: bool
) -> None:
    last = t.attempts[-1]
    tls = f"{last.tls.version} {last.tls.cipher}" if last.tls else "no TLS"
    reply = t.final_reply
    sent = click.style("sent", fg="green", bold=True) if color else "sent"
    where = terminal_safe(f" to {', '.join(t.recipients)} via {t.host}:{t.port} ({tls})")
    click.echo(sent + where, color=color)
    click.echo(f"  Message-ID: {message_id}")
    if sig is not None:
        click.echo(
            f"  DKIM: d={sig.domain} s={sig.selector} a={sig.algorithm.value} "
            f"c={sig.canonicalization} h={':'.join(sig.signed_headers)}"
        )
    if reply is not None:
        first_line = reply.text.splitlines()[0] if reply.text else ""
        click.echo(f"  server: {reply.code} {terminal_safe(first_line)}")
    if len(t.attempts) > 1:
        click.echo(f"  attempts: {len(t.attempts)}")
