"""`mailauth-audit dkim keygen`: make a DKIM key pair and print the record to publish.

The private key is written with mode 0600 and never printed; stdout carries only the zone
line, so `... keygen ... >> example.com.zone` works. Notes and warnings go to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..asyncapi import (
    DEFAULT_RSA_BITS,
    MAX_RSA_BITS,
    MIN_RSA_BITS,
    RECOMMENDED_RSA_BITS,
    DkimKeyError,
    DkimKeyType,
    generate_key,
    key_record,
    normalize_domain,
    suggested_selector,
    valid_selector,
    validate_key_parameters,
    write_private_key,
)
from ..errors import InvalidDomainError
from .common import output_option, quiet_option

EXIT_OK, EXIT_USAGE = 0, 2  # as in cli.main


def _fail_usage(message: str) -> None:
    click.echo(f"mailauth-audit: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def parse_selector(text: str) -> str:
    selector = valid_selector(text)
    if selector is None:
        raise click.BadParameter(f"{text!r} is not a valid selector (DNS labels: a-z 0-9 - _)")
    return selector


@click.group()
def dkim() -> None:
    """DKIM keys: generate a key pair and the record to publish."""


@dkim.command()
@click.option("--domain", required=True, help="The signing domain (d=), e.g. example.com.")
@click.option(
    "--selector",
    default=None,
    help="The selector (s=). Default: s<this year> for RSA, ed<this year> for ed25519 "
    "(e.g. s2026): names `check` probes without being told.",
)
@click.option(
    "--type",
    "key_type",
    type=click.Choice([t.value for t in DkimKeyType]),
    default=DkimKeyType.RSA.value,
    show_default=True,
    help="Key algorithm: rsa (rsa-sha256) or ed25519 (ed25519-sha256, RFC 8463).",
)
@click.option(
    "--bits",
    type=int,
    default=None,
    help=f"RSA key size (default {DEFAULT_RSA_BITS}; {MIN_RSA_BITS}-{MAX_RSA_BITS}; "
    f"{MIN_RSA_BITS} is allowed with a warning). Not for ed25519.",
)
@output_option(
    dest="out_dir",
    hidden_aliases=("--out",),
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("keys"),
    show_default=True,
    metavar="FOLDER",
    help="Folder for the private key, written as SELECTOR.key with mode 0600.",
)
@click.option(
    "--ttl",
    type=click.IntRange(min=60),
    default=3600,
    show_default=True,
    help="TTL of the printed zone-file line, in seconds.",
)
@click.option("--force", is_flag=True, help="Replace an existing key file.")
@quiet_option
def keygen(
    domain: str,
    selector: str | None,
    key_type: str,
    bits: int | None,
    out_dir: Path,
    ttl: int,
    force: bool,
    quiet: bool,
) -> None:
    """Generate a DKIM key pair; print the TXT record to publish as a zone-file line.

    \b
    Examples:
      mailauth-audit dkim keygen --domain example.com -o keys/   # selector s<this year>
      mailauth-audit dkim keygen --domain example.com --type ed25519  # ed<this year>
      mailauth-audit dkim keygen --domain example.com --selector s2026 >> example.com.zone

    \b
    The private key (PEM: PKCS#1 for RSA, PKCS#8 for ed25519) goes to OUTPUT/SELECTOR.key,
    created with mode 0600; an existing file is never replaced without --force.
    Exit codes: 0 done; 2 usage error (bad size, existing key, unwritable folder).
    """
    try:
        domain_name = normalize_domain(domain)
    except InvalidDomainError as exc:
        _fail_usage(str(exc))
    kind = DkimKeyType(key_type)
    try:
        name = parse_selector(selector if selector is not None else suggested_selector(kind))
    except click.BadParameter as exc:
        _fail_usage(exc.message)
    try:
        size = validate_key_parameters(kind, bits)
    except DkimKeyError as exc:
        _fail_usage(str(exc))
    if kind is DkimKeyType.RSA and size < RECOMMENDED_RSA_BITS:
        click.echo(
            f"warning: a {size}-bit RSA key is weak; RFC 8301 §3.2 recommends at least "
            f"{RECOMMENDED_RSA_BITS} bits, and audits report it (dkim.key_1024)",
            err=True,
        )
    key = generate_key(kind, size)
    path = out_dir / f"{name}.key"
    try:
        write_private_key(path, key, force=force)
    except DkimKeyError as exc:
        _fail_usage(str(exc))
    except OSError as exc:
        _fail_usage(f"cannot write {path}: {exc.strerror}")
    record = key_record(key, domain_name, name, ttl)
    if not quiet:
        click.echo(f"wrote {path} ({kind.value}, {size} bits, mode 0600)", err=True)
        click.echo(f"publish this record at {record.name}:", err=True)
    if kind is DkimKeyType.ED25519 and not quiet:
        click.echo(
            "note: many verifiers do not check ed25519 yet; sign with an RSA key as well "
            "(RFC 8463 §3)",
            err=True,
        )
    click.echo(record.zone_line)
