"""Results lines as earlier versions wrote them, so the tests can hold today's readers to
them: format 3 is what `bulk_line` wrote before line format 4 (the full document with the
domain's findings, the checklist texts and the empty outcome parts left out, findings in
their sparse form, results whole); format 4 is what it wrote before line format 5 (the
slim form of `report/slim.py`: every finding in its sparse form, the checklist as
{id: state}, a skipped check without its facts)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import orjson

from mailauth_audit.model import CheckStatus, DomainReport
from mailauth_audit.report.codec import report_document
from mailauth_audit.report.slim import slim_outcome, slim_value
from mailauth_audit.report.sparse import sparse_finding

_OMITTED_WHEN_EMPTY = ("result", "findings", "error", "skip_reason")
_ALWAYS = frozenset({"domain", "status", "dns_queries", "checks", "score", "checklist"})


def format3_line(report: DomainReport) -> bytes:
    doc: dict[str, Any] = report_document(report, native=True)
    del doc["findings"]
    doc["checklist"] = {item.id: item.state.value for item in doc["checklist"].items}
    for outcome in doc["checks"].values():
        if outcome["findings"]:
            outcome["findings"] = [sparse_finding(f) for f in outcome["findings"]]
        for key in _OMITTED_WHEN_EMPTY:
            if not outcome[key]:
                del outcome[key]
    out: dict[str, Any] = {"line_format": 3}
    for key, value in doc.items():
        if value or key in _ALWAYS:
            out[key] = value
    return orjson.dumps(out)


def format4_line(report: DomainReport) -> bytes:
    """`bulk_line` as line format 4 wrote it."""
    checks = {
        cid.value: slim_outcome(o.status, o, report.domain) for cid, o in report.checks.items()
    }
    doc: dict[str, Any] = {"line_format": 4, "domain": report.domain}
    if report.input:
        doc["input"] = report.input
    doc["status"] = report.status.value
    if report.error:
        doc["error"] = report.error
    doc["dns_queries"] = report.dns_queries
    doc["checks"] = checks
    doc["score"] = slim_value(report.verdict)
    doc["checklist"] = {item.id: item.state.value for item in report.checklist.items}
    if report.resolver_notes:
        doc["resolver_notes"] = slim_value(report.resolver_notes)
    return orjson.dumps(doc)


# format-4 lines of the bench zone (../shared/bench, 2000 domains: provider MX hosts on
# loopback, DKIM under the built-in selectors, DMARC of every kind), as bulk wrote them
FORMAT4_BENCH_LINES = (Path(__file__).parent / "bulk" / "format4_bench.jsonl").read_bytes()


def as_read_back(report: DomainReport) -> DomainReport:
    """The report a format-4 line decodes to: the same, but a skipped check without the
    result it gathered before it stopped (the line gives its status and reason only)."""
    return dataclasses.replace(
        report,
        checks={
            cid: dataclasses.replace(o, result=None) if o.status is CheckStatus.SKIPPED else o
            for cid, o in report.checks.items()
        },
    )
