"""The bundled sample zone, audited offline: what `mailauth-audit demo` shows a new user.

The zone ships inside the package (demo.zone next to this module) and is answered by
`StaticResolver`, so the demo needs no network and gives the same report everywhere.
"""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

from ..asyncapi import audit_domains
from ..model import AuditRun, SourceMode
from ..options import AuditOptions
from ..report.html import write_report_folder
from ..resolver.static import StaticResolver

# From a textbook setup to the usual disasters; the index page sorts them worst first.
DEMO_DOMAINS: tuple[str, ...] = (
    "perfect.example",
    "parked.example",
    "monitoring.example",
    "legacy.example",
    "sprawling.example",
    "broken.example",
)
DEFAULT_DEMO_FOLDER = Path("reports") / "demo"


def demo_zone_text() -> str:
    return resources.files(__package__).joinpath("demo.zone").read_text(encoding="utf-8")


async def audit_demo(options: AuditOptions | None = None) -> AuditRun:
    """Audit every demo domain against the bundled zone; never touches the network. Its
    reports say "sample data" wherever they say where their answers came from."""
    # the sample zone's addresses are documentation ranges, which the probe rule refuses
    # anyway; probes are switched off as well so that the demo's promise does not rest on it
    options = options or AuditOptions()
    options = dataclasses.replace(
        options, probes=dataclasses.replace(options.probes, enabled=False)
    )
    run = await audit_domains(DEMO_DOMAINS, options, resolver=StaticResolver(demo_zone_text()))
    if run.provenance is None:
        return run
    return dataclasses.replace(
        run, provenance=dataclasses.replace(run.provenance, mode=SourceMode.SAMPLE)
    )


def write_demo(run: AuditRun, folder: Path = DEFAULT_DEMO_FOLDER) -> Path:
    """Write the demo's index.html and one page per domain; return the index's path."""
    return write_report_folder(run, folder)
