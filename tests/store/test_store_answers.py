"""Records seen keep how they were answered: the TTL from the report, and for reports saved
before they named the answering server (schema < 1.10) the run's recorded DNS source, in the
diff (text, JSON) and through a bulk import. Reports that name it: test_store_servers.py."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from history_zones import BEFORE, audit

from mailauth_audit.bulk.runtime import bulk_line
from mailauth_audit.model import (
    AuditRun,
    DnsSource,
    DomainReport,
    Provenance,
    SourceKind,
    SourceMode,
)
from mailauth_audit.report.codec import encode_value
from mailauth_audit.report.history import diff_text
from mailauth_audit.store.recorder import import_results
from mailauth_audit.store.store import open_store
from mailauth_audit.store.views import diff_domain

AFTER = dict(BEFORE, dmarc="v=DMARC1; p=none")


def _from(address: str) -> Provenance:
    source = DnsSource(SourceKind.RESOLVER, address=address)
    return Provenance(SourceMode.LIVE, (source,), "2026-01-01T00:00:00Z", "t")


def _as_older(run: AuditRun) -> AuditRun:
    """The run as a version before 1.10 saved it: no result names who answered."""
    return replace(run, domains=tuple(_older(r) for r in run.domains))


def _older(report: DomainReport) -> DomainReport:
    checks = {}
    for cid, outcome in report.checks.items():
        result = outcome.result
        if result is not None and hasattr(result, "server"):
            if hasattr(result, "selectors"):
                result = replace(
                    result, selectors=tuple(replace(s, server=None) for s in result.selectors)
                )
            result = replace(result, server=None)
        checks[cid] = replace(outcome, result=result)
    return replace(report, checks=checks)


def test_a_changed_record_says_its_ttl_and_who_answered(store_url: str) -> None:
    store = open_store(store_url)
    first, second = _as_older(audit(BEFORE)), _as_older(audit(AFTER))
    store.record_run(replace(first, provenance=_from("127.0.0.1:5301")))
    store.record_run(replace(second, provenance=_from("[::1]:5302")))
    [dmarc] = [r for r in diff_domain(store, "shop.example").records if r.type == "DMARC"]
    store.close()
    assert (dmarc.ttl_before, dmarc.ttl_after) == (300, 300)
    assert (dmarc.server_before, dmarc.server_after) == (
        "resolver 127.0.0.1:5301",
        "resolver [::1]:5302",
    )


def test_a_bulk_import_keeps_the_runs_sources(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    for i, spec in enumerate((BEFORE, AFTER)):
        folder = tmp_path / f"run{i}"
        folder.mkdir()
        report = _as_older(audit(spec)).domains[0]
        (folder / "results.jsonl").write_bytes(bulk_line(report, report.verdict) + b"\n")
        summary = {"started_at": f"2026-01-0{i + 1}T00:00:00Z"}
        summary["provenance"] = encode_value(_from(f"127.0.0.{i + 1}:53"))
        (folder / "summary.json").write_text(json.dumps(summary))
        assert import_results(store, folder / "results.jsonl").recorded == 1
    text = diff_text(diff_domain(store, "shop.example"))
    store.close()
    assert "(TTL 300, from resolver 127.0.0.1:53)" in text
    assert "(TTL 300, from resolver 127.0.0.2:53)" in text
