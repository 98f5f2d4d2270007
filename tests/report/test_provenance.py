"""Every report says where its answers came from: JSON top level, text footer, HTML header
(with a DRAFT banner for zone files, "sample data" for the demo), CSV columns."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
from fixture_zone import ZONE, ZONE_FILE

from mailauth_audit.asyncapi import audit_domains
from mailauth_audit.demo.sample import audit_demo
from mailauth_audit.model import AuditRun, SourceKind, SourceMode
from mailauth_audit.options import AuditOptions
from mailauth_audit.report.csvout import PROVENANCE_COLUMNS
from mailauth_audit.report.html import render_run_page
from mailauth_audit.report.renderers import CsvRenderer, JsonRenderer, TextRenderer
from mailauth_audit.report.schema import committed_schema
from mailauth_audit.resolver.selection import source_resolver
from mailauth_audit.version import __version__

NsdFactory = Callable[..., tuple[str, int]]


def draft_run(*paths: Path) -> AuditRun:
    async def go() -> AuditRun:
        options = AuditOptions()
        resolver = source_resolver(options, zone_files=paths)
        try:
            return await audit_domains(["good.example"], options, resolver=resolver)
        finally:
            assert resolver is not None
            await resolver.aclose()

    return asyncio.run(go())


def test_live_run_names_the_resolver_it_asked(nsd_server: NsdFactory) -> None:
    host, port = nsd_server({"example": ZONE})
    run = asyncio.run(
        audit_domains(["good.example"], AuditOptions(nameservers=(f"{host}:{port}",)))
    )
    doc = json.loads(JsonRenderer().render(run))
    jsonschema.validate(doc, committed_schema())
    p = doc["provenance"]
    assert p["mode"] == "live" and p["tool_version"] == __version__
    assert p["sources"] == [
        {
            "kind": "resolver",
            "address": f"{host}:{port}",
            "path": None,
            "sha256": None,
            "zones": [],
            "answers": None,
        }
    ]
    assert p["collected_at"] == run.started_at
    assert f"resolver {host}:{port}" in TextRenderer().render(run).splitlines()[-1]
    page = render_run_page(run)
    assert f"resolver {host}:{port}" in page and "DRAFT" not in page


def test_draft_zone_file_is_cited_with_its_sha256_everywhere() -> None:
    run = draft_run(ZONE_FILE)
    digest = hashlib.sha256(ZONE_FILE.read_bytes()).hexdigest()
    assert run.provenance is not None and run.provenance.mode is SourceMode.DRAFT
    (source,) = run.provenance.sources
    assert source.kind is SourceKind.ZONE_FILE and source.sha256 == digest
    assert source.path == str(ZONE_FILE) and source.zones == ("example",)
    doc = json.loads(JsonRenderer().render(run))
    jsonschema.validate(doc, committed_schema())
    assert doc["provenance"]["sources"][0]["sha256"] == digest
    # the HTML header leads with the DRAFT banner
    page = render_run_page(run)
    header = page.split("<main", 1)[0]
    assert f"DRAFT — audited from zone file {ZONE_FILE}, not from live DNS" in header
    assert digest in header
    # the text footer
    tail = TextRenderer().render(run).rstrip().splitlines()[-2:]
    assert tail[0].strip().startswith("DRAFT") and digest in tail[1]
    # the CSV's trailing columns
    row = next(csv.DictReader(io.StringIO(CsvRenderer().render(run), newline="")))
    assert [row[c] for c in PROVENANCE_COLUMNS[:1]] == ["draft"]
    assert digest in row["sources"] and row["tool_version"] == __version__


def test_demo_says_sample_data() -> None:
    run = asyncio.run(audit_demo())
    assert run.provenance is not None and run.provenance.mode is SourceMode.SAMPLE
    header = render_run_page(run).split("<main", 1)[0]
    assert "Sample data" in header and "sample data" in header
    assert "DRAFT" not in header
    assert "sample data" in TextRenderer().render(run).splitlines()[-1]
