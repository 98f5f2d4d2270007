"""`mailauth-audit demo`: audit the bundled sample zone offline and write an HTML report."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from ..asyncapi import DEFAULT_DEMO_FOLDER, audit_demo, grade_label, write_demo
from .common import quiet_option


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DEMO_FOLDER,
    show_default=True,
    help="Folder to write index.html and the domain pages into.",
)
@quiet_option
def demo(output: Path, quiet: bool) -> None:
    """Audit a bundled sample zone (no network) and write an HTML report.

    \b
    Six made-up domains, from a textbook setup to the usual disasters, are audited
    through the zone-file resolver; open the printed index.html in a browser.
    """
    run = asyncio.run(audit_demo())
    try:
        index = write_demo(run, output)
    except OSError as exc:
        click.echo(f"mailauth-audit: error: cannot write {output}: {exc.strerror}", err=True)
        sys.exit(2)
    for report in () if quiet else run.domains:
        click.echo(f"  {report.domain:<22} {grade_label(report.verdict)}", err=True)
    click.echo(str(index))
