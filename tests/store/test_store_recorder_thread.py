"""`bulk --store` records from a thread of its own (StoreRecorder(background=True)): every
batch handed over is recorded by the time on_done returns, in one run of the store, the
caller never waits for the database beyond the bounded backlog, and a store that fails
never raises into the caller (the audits it lost are counted)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from history_zones import audit, many_domains_zone

from mailauth_audit.asyncapi import audit_domains
from mailauth_audit.bulk.runtime import bulk_line
from mailauth_audit.model import AuditRun
from mailauth_audit.options import AuditOptions, StoreLimits
from mailauth_audit.resolver.static import StaticResolver
from mailauth_audit.store.connect import make_engine, migrate
from mailauth_audit.store.recorder import StoreRecorder
from mailauth_audit.store.store import Store, open_store


def _lines(tmp_path: Path, n: int) -> tuple[list[bytes], Path]:
    run: AuditRun = asyncio.run(
        audit_domains(
            [f"d{i}.example" for i in range(n)],
            AuditOptions(use_default_selectors=False),
            resolver=StaticResolver(many_domains_zone(n)),
        )
    )
    lines = [bulk_line(r, r.verdict) + b"\n" for r in run.domains]
    results = tmp_path / "results.jsonl"
    results.write_bytes(b"".join(lines))
    return lines, results


def test_every_batch_is_recorded_by_on_done(store_url: str, tmp_path: Path) -> None:
    lines, results = _lines(tmp_path, 30)
    engine = make_engine(store_url)
    migrate(engine)
    store = Store(engine, StoreLimits(max_pending_record_batches=1))
    recorder = StoreRecorder(store, "bulk", background=True)
    for i in range(0, len(lines), 4):
        recorder.on_lines(lines[i : i + 4], results)
    assert recorder._thread is not None and recorder._thread is not threading.current_thread()
    recorder.on_done(None)
    assert (recorder.recorded, recorder.not_recorded, recorder.error) == (30, 0, None)
    [run] = store.runs()
    assert run["audits"] == 30 and run["finished_at"] is not None
    store.close()


def test_a_failing_store_is_counted_not_raised(tmp_path: Path) -> None:
    lines, results = _lines(tmp_path, 6)
    store = open_store(str(tmp_path / "audits.db"))
    recorder = StoreRecorder(store, "bulk", background=True)
    store.engine.dispose()
    (tmp_path / "audits.db").unlink()
    (tmp_path / "audits.db").mkdir()  # the store is no longer a database file
    for i in range(0, len(lines), 2):
        recorder.on_lines(lines[i : i + 2], results)
    recorder.on_done(None)
    assert recorder.error is not None
    assert recorder.recorded + recorder.not_recorded == 6 and recorder.not_recorded > 0


def test_the_sync_recorder_is_unchanged(store_url: str) -> None:
    store = open_store(store_url)
    recorder = StoreRecorder(store, "check")
    recorder.on_report(audit({"mx": [], "spf": "", "dmarc": "", "dkim": {}}).domains[0])
    assert recorder._thread is None and recorder.recorded == 1
    store.close()
