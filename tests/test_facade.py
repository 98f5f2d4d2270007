"""The facade (asyncapi / api): AuditSession's bounds, observers, option validation before
any work, render, the sync mirror inside a running loop, and the bulk core in a loop it does
not own (no fork, no signal handler)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fixture_zone import ZONE

from mailauth_audit import api, asyncapi
from mailauth_audit.asyncapi import AuditSession, RunSummary, render, validate_options
from mailauth_audit.bulk.core import BulkConfig, run_bulk_in_loop
from mailauth_audit.bulk.inputs import read_entries
from mailauth_audit.errors import ConfigurationError
from mailauth_audit.model import CheckId, DomainReport, DomainStatus
from mailauth_audit.options import AuditOptions, Limits
from mailauth_audit.resolver.static import StaticResolver

N_DOMAINS = 40


def _many_domains_zone(n: int = N_DOMAINS) -> str:
    """n domains, each with its own SPF include, MX host and DMARC record: the memo and the
    cache gain entries with every domain."""
    lines = []
    for i in range(n):
        d = f"d{i}.example."
        lines += [
            f'{d} 300 IN TXT "v=spf1 include:_spf.d{i}.example. -all"',
            f'_spf.{d} 300 IN TXT "v=spf1 ip4:192.0.2.{i % 250} -all"',
            f"{d} 300 IN MX 10 mx.{d}",
            f"mx.{d} 300 IN A 192.0.2.{i % 250}",
            f'_dmarc.{d} 300 IN TXT "v=DMARC1; p=reject"',
        ]
    return "\n".join(lines) + "\n"


def _names(n: int = N_DOMAINS) -> list[str]:
    return [f"d{i}.example" for i in range(n)]


class Recorder:
    """An observer that keeps what it hears (tests only: a real one writes and forgets)."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.reports: list[DomainReport] = []
        self.done: list[RunSummary] = []
        self.fail_after = fail_after
        self.threads: set[int] = set()

    def on_report(self, report: DomainReport) -> None:
        self.threads.add(threading.get_ident())
        if self.fail_after is not None and len(self.reports) >= self.fail_after:
            raise OSError(28, "disk full (test)")
        self.reports.append(report)

    def on_done(self, summary: RunSummary) -> None:
        self.done.append(summary)


# ---- AuditSession: long-lived, bounded -------------------------------------------------------


def test_session_memo_and_cache_stay_within_their_limits() -> None:
    # Given a session auditing 40 domains whose shared-work memo and DNS cache grow with
    # every domain, first with the default bounds (what an unbounded session would hold)
    zone = _many_domains_zone()

    async def run(options: AuditOptions) -> tuple[dict[str, int], list[DomainReport]]:
        async with AuditSession(options, resolver=StaticResolver(zone)) as session:
            reports = [await session.audit(d) for d in _names()]
            reports.append(await session.audit(_names()[0]))  # again, after eviction
            return session.stats(), reports

    grown, free_reports = asyncio.run(run(AuditOptions()))
    assert grown["memo_entries"] > 20 and grown["cache_entries"] > 40
    # When the same work runs under small bounds
    limits = Limits(max_memo_entries=5, max_cache_entries=12)
    bounded, reports = asyncio.run(run(AuditOptions(limits=limits)))
    # Then neither holds more than its bound, and every report is the same as unbounded:
    # an evicted value is worked out again, never reported missing
    assert bounded["memo_entries"] <= 5 and bounded["cache_entries"] <= 12
    assert [r.checks for r in reports] == [r.checks for r in free_reports]


def test_session_must_be_entered_and_closes_only_what_it_opened() -> None:
    session = AuditSession(resolver=StaticResolver(ZONE))
    with pytest.raises(RuntimeError, match="enter the session"):
        asyncio.run(session.audit("good.example"))

    async def twice() -> tuple[DomainReport, DomainReport]:
        async with session as s:
            first = await s.audit("good.example")
            run = await s.audit_domains(["weak.example", "nomail.example"])
        return first, run.domains[0]

    good, weak = asyncio.run(twice())
    assert good.status is DomainStatus.COMPLETED and weak.domain == "weak.example"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (AuditOptions(nameservers=("not-an-address",)), "invalid nameserver"),
        (AuditOptions(checks=frozenset()), "no check selected"),
        (AuditOptions(selectors=("bad selector!",)), "invalid DKIM selector"),
        (AuditOptions(checks=frozenset({"mx", "nope"})), "unknown check 'nope'"),  # type: ignore[arg-type]
    ],
)
def test_unusable_options_are_refused_before_any_work(options: AuditOptions, message: str) -> None:
    # an observer that would hear of any domain audited hears nothing
    seen = Recorder()
    with pytest.raises(ConfigurationError, match=message):
        api.audit_batch(["good.example"], options, observers=[seen], resolver=None)
    assert seen.reports == [] and seen.done == []
    with pytest.raises(ConfigurationError, match=message):
        AuditSession(options)


def test_new_limits_are_validated_where_they_are_defined() -> None:
    for name in ("max_memo_entries", "max_cache_entries"):
        with pytest.raises(ValueError, match=name):
            Limits(**{name: 0})
    assert validate_options(AuditOptions(nameservers=("127.0.0.1#5300",))).nameservers


# ---- observers and audit_batch ---------------------------------------------------------------


def test_audit_batch_hands_every_report_to_every_observer_then_says_done() -> None:
    first, second = Recorder(), Recorder()
    summary = api.audit_batch(
        _names(12), observers=[first, second], resolver=StaticResolver(_many_domains_zone())
    )
    assert sorted(r.domain for r in first.reports) == sorted(_names(12))
    assert [r.domain for r in first.reports] == [r.domain for r in second.reports]
    assert first.done == [summary] and second.done == [summary]
    assert summary.reported == 12 and not summary.interrupted
    assert summary.provenance is not None and summary.dns_queries > 0


def test_audit_batch_stops_when_asked_and_says_interrupted() -> None:
    seen = Recorder()
    options = AuditOptions(limits=Limits(max_concurrent_domains=1))
    summary = api.audit_batch(
        _names(),
        options,
        observers=[seen],
        resolver=StaticResolver(_many_domains_zone()),
        should_stop=lambda: len(seen.reports) >= 3,
    )
    assert summary.interrupted and 3 <= summary.reported < N_DOMAINS
    assert len(seen.reports) == summary.reported and seen.done == [summary]


def test_an_observer_that_fails_stops_the_run_and_the_error_reaches_the_caller() -> None:
    failing, other = Recorder(fail_after=2), Recorder()
    with pytest.raises(OSError, match="disk full"):
        api.audit_batch(
            _names(), observers=[other, failing], resolver=StaticResolver(_many_domains_zone())
        )
    assert failing.done == [] and other.done == []  # no "done" after a failed write
    assert len(other.reports) < N_DOMAINS


# ---- render ------------------------------------------------------------------------------


def test_render_reads_the_verdict_judged_once_on_the_report() -> None:
    report = api.audit_domain("weak.example", resolver=StaticResolver(ZONE))
    doc = json.loads(render(report, "json"))
    (domain,) = doc["domains"]
    assert domain["score"]["grade"] == report.verdict.grade
    assert {i["id"]: i["state"] for i in domain["checklist"]["items"]} == {
        i.id: i.state.value for i in report.checklist.items
    }
    assert report.checklist is report.checklist and report.verdict is report.verdict
    assert "weak.example" in render(report, "text")
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        render(report, "pdf")


def test_verify_message_through_the_facade() -> None:
    raw = b"From: a@weak.example\r\nTo: b@good.example\r\nSubject: t\r\n\r\nhello\r\n"
    report = api.verify_message(raw, resolver=StaticResolver(ZONE))
    doc = json.loads(render(report, "json"))["message"]
    assert doc["subject"] == "t" and doc["parsed"] is True
    assert "weak.example" in render(report, "text")


# ---- the sync mirror inside a running loop --------------------------------------------------


def test_sync_api_works_inside_a_running_event_loop() -> None:
    # Given a running loop in this thread (as in Jupyter), when the sync API is called
    async def notebook_cell() -> tuple[DomainReport, int]:
        loop_thread = threading.get_ident()
        report = api.audit_domain("weak.example", resolver=StaticResolver(ZONE))
        return report, loop_thread

    report, loop_thread = asyncio.run(notebook_cell())
    # Then it returns the same report as outside a loop (run in a worker thread's loop)
    outside = api.audit_domain("weak.example", resolver=StaticResolver(ZONE))
    assert report.checks == outside.checks
    seen = Recorder()

    async def cell_with_observer() -> None:
        api.audit_batch(["good.example"], observers=[seen], resolver=StaticResolver(ZONE))

    asyncio.run(cell_with_observer())
    assert seen.threads and loop_thread not in seen.threads


# ---- the bulk core inside a loop it does not own ------------------------------------------


@contextlib.contextmanager
def signals_untouched() -> Iterator[None]:
    """Fails if signal.signal is called, or a SIGINT/SIGTERM handler changes, inside."""
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def refuse(*args: object) -> None:
        raise AssertionError(f"signal.signal called by the bulk core: {args}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(signal, "signal", refuse)
        yield
    assert {s: signal.getsignal(s) for s in before} == before


def test_bulk_core_runs_in_an_existing_loop_without_touching_signals(tmp_path: Path) -> None:
    zone = _many_domains_zone(10)
    entries, _ = read_entries(io.StringIO("\n".join(_names(10)) + "\nnot a domain\n"))
    config = BulkConfig(
        output_dir=tmp_path,
        progress=False,
        resolver_factory=lambda: StaticResolver(zone),
        options=AuditOptions(checks=frozenset({CheckId.MX, CheckId.SPF, CheckId.DMARC})),
    )

    async def worker_task() -> None:  # a task-queue worker: the loop is its own
        with signals_untouched():
            outcome = await run_bulk_in_loop(entries, config)
        assert outcome.complete and outcome.reported_now == 11

    gc_before = (gc.get_threshold(), gc.get_freeze_count())
    asyncio.run(worker_task())
    assert (gc.get_threshold(), gc.get_freeze_count()) == gc_before  # GC policy: the runner's
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(lines) == 11
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["domains"] == 11 and summary["complete"] is True
    assert len((tmp_path / "results.csv").read_text().splitlines()) == 12  # header + 11


def test_bulk_core_refuses_worker_processes(tmp_path: Path) -> None:
    config = BulkConfig(output_dir=tmp_path, processes=2, progress=False)
    with pytest.raises(ValueError, match="local runner"):
        asyncio.run(run_bulk_in_loop([], config))
    assert not (tmp_path / "results.jsonl").exists()  # refused before the folder is touched


def test_facade_exports_what_clients_use_and_loads_them_only_when_asked() -> None:
    for name in [*asyncapi.__all__, *asyncapi._LAZY]:
        assert getattr(asyncapi, name) is not None, name
    assert replace(AuditOptions(), debug=True).debug
    # `check` imports the facade: the message stack and jinja2 wait until a name needs them
    probe = (
        "import sys, mailauth_audit.asyncapi as f; "
        "print(sorted(m for m in ('dkim', 'jinja2', 'aiosmtpd', 'mailauth_audit.messages.verify')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
