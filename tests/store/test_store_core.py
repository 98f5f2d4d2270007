"""The store on both backends: record, read back typed, runs kept once, drift, prune, faults."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from history_zones import BEFORE, KEY_1024, audit
from sqlalchemy import text

from mailauth_audit.model import Severity
from mailauth_audit.report.codec import to_json
from mailauth_audit.store import blob
from mailauth_audit.store.connect import REVISIONS, SchemaTooNew, StoreError, StoreUnavailable
from mailauth_audit.store.record import RunInfo
from mailauth_audit.store.schema import blobs
from mailauth_audit.store.store import open_store


def test_a_stored_audit_decodes_back_to_the_typed_report(store_url: str) -> None:
    run = audit(BEFORE)
    store = open_store(store_url)
    result = store.record_run(run)
    assert (result.recorded, result.already, result.events) == (1, 0, 0)
    [row] = store.audits_of("shop.example")
    assert row.grade == run.domains[0].grade and row.status == "completed"
    assert store.report(row) == run.domains[0]
    store.close()


def test_the_same_run_recorded_twice_is_kept_once(store_url: str) -> None:
    run = audit(BEFORE)
    store = open_store(store_url)
    info = RunInfo("bulk", run.started_at, "test", run_key="bulk:same")
    docs = [to_json(r) for r in run.domains]
    run_id, started = store.start_run(info)
    assert store.record_documents(run_id, started, docs).recorded == 1
    again_id, _ = store.start_run(info)
    assert again_id == run_id
    again = store.record_documents(again_id, started, docs)
    assert (again.recorded, again.already) == (0, 1)
    assert len(store.audits_of("shop.example")) == 1
    store.close()


def test_identical_reports_share_one_blob(store_url: str) -> None:
    run = audit(BEFORE)
    store = open_store(store_url)
    store.record_run(run)
    store.record_run(run)
    figures = store.stored_bytes()
    assert figures["audits"] == 2 and figures["blobs"] == 1
    store.close()


def test_drift_between_two_audits_becomes_events_once(store_url: str) -> None:
    after = {
        "mx": ["10 mx2.shop.example."],
        "spf": "v=spf1 include:_spf.other.example -all",
        "dmarc": "v=DMARC1; p=none",
        "dkim": {"s1": KEY_1024, "s2": KEY_1024},
    }
    store = open_store(store_url)
    store.record_run(audit(BEFORE))
    second = audit(after)
    assert store.record_run(second).events > 0
    codes = {e["code"] for e in store.events_of("shop.example")}
    assert {
        "mx.set_changed",
        "spf.include_changed",
        "dmarc.policy_weakened",
        "dmarc.rua_removed",
        "dkim.key_shortened",
        "dkim.selector_new",
        "domain.grade_dropped",
    } <= codes
    # the same change seen again (the same pair of audits compared) is the same event
    before = len(store.events_of("shop.example"))
    store.record_run(second)  # a third audit, identical to the second: no change, no event
    assert len(store.events_of("shop.example")) == before
    store.close()


def test_prune_keeps_each_domains_last_audit(store_url: str) -> None:
    store = open_store(store_url)
    for _ in range(3):
        store.record_run(audit(BEFORE))
    assert store.prune("2999-01-01T00:00:00Z") == 2
    [kept] = store.audits_of("shop.example")
    assert store.report(kept).domain == "shop.example"
    assert store.stored_bytes()["blobs"] == 1
    store.close()


def test_a_store_newer_than_the_code_is_refused(store_url: str) -> None:
    store = open_store(store_url)
    with store.transaction() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    store.close()
    with pytest.raises(SchemaTooNew, match="newer"):
        open_store(store_url)


def test_an_undecodable_stored_report_is_an_error_not_a_crash(store_url: str) -> None:
    store = open_store(store_url)
    store.record_run(audit(BEFORE))
    [row] = store.audits_of("shop.example")
    # Given a report of an older schema this version's codec does not read
    old = blob.dumps({"domain": "shop.example", "status": "completed", "grade_letter": "A"})
    with store.transaction() as conn:
        conn.execute(blobs.update().values(body=blob.pack(old)))
    with pytest.raises(StoreError, match="cannot be decoded"):
        store.report(row)
    # and a damaged body likewise
    with store.transaction() as conn:
        conn.execute(blobs.update().values(body=b"\x00garbage"))
    assert isinstance(store.reports([row])[row.id], StoreError)
    store.close()


def test_the_revisions_list_matches_alembics_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import mailauth_audit.store.connect as connect

    config = Config()
    config.set_main_option("script_location", str(Path(connect.__file__).parent / "migrations"))
    script = ScriptDirectory.from_config(config)
    assert [r.revision for r in reversed(list(script.walk_revisions()))] == list(REVISIONS)


def test_a_corrupted_sqlite_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "audits.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a usable SQLite database"):
        open_store(str(path))


def test_a_damaged_sqlite_page_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "audits.db"
    store = open_store(str(path))
    store.record_run(audit(BEFORE))
    store.close()
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError):
        open_store(str(path)).audits_of("shop.example")


def test_an_unreachable_postgresql_is_unavailable_before_any_work() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connection refused
        with pytest.raises(StoreUnavailable, match="cannot reach"):
            open_store(f"postgresql://audit@127.0.0.1:{port}/audits")


def test_the_finding_threshold_of_drift_is_honoured(store_url: str) -> None:
    store = open_store(store_url)
    store.record_run(audit(BEFORE))
    worse = dict(BEFORE, spf="v=spf1 include:_spf.provider.example +all")
    store.record_run(audit(worse), threshold=Severity.CRITICAL)
    new = [e for e in store.events_of("shop.example") if e["code"] == "finding.new"]
    assert new and all(e["severity"] == "critical" for e in new)
    store.close()


def test_the_migrations_build_the_schema_the_code_describes(store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from mailauth_audit.store.schema import metadata

    store = open_store(store_url)
    with store.transaction() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    store.close()
    assert differences == []


def test_a_report_stored_by_an_older_version_still_decodes(store_url: str) -> None:
    # Given a document as an older version wrote it: a bulk line of format 1 (the
    # domain's findings repeated, no resolver_notes key)
    report = audit(BEFORE).domains[0]
    doc = to_json(report)
    doc.pop("resolver_notes")
    store = open_store(store_url)
    run_id, started = store.start_run(RunInfo("import", "2025-01-01T00:00:00Z", "0.1.0"))
    store.record_documents(run_id, started, [doc])
    [row] = store.audits_of("shop.example")
    assert store.report(row) == report
    store.close()


def test_a_bulk_line_reads_back_typed_and_drifts(store_url: str) -> None:
    # Given audits recorded from bulk results lines (format 5: findings of checks that judge
    # their facts alone as codes, finding texts left out), the way `bulk --store` and
    # `history import` hand them over
    import json

    from old_lines import as_read_back, format3_line, format4_line

    from mailauth_audit.bulk.runtime import bulk_line
    from mailauth_audit.report.codec import FORMAT_KEY

    before = audit(BEFORE).domains[0]
    after_spec = {**BEFORE, "dmarc": "v=DMARC1; p=none"}
    after = audit(after_spec).domains[0]
    store = open_store(store_url)
    for i, report in enumerate((before, after)):
        run_id, started = store.start_run(RunInfo("bulk", f"2025-01-0{i + 1}T00:00:00Z", "t"))
        store.record_documents(run_id, started, [json.loads(bulk_line(report, report.verdict))])
    first, second = store.audits_of("shop.example")
    # then each decodes to the typed report, and the change between them is an event
    assert to_json(store.report(first)) == to_json(before)
    assert to_json(store.report(second)) == to_json(after)
    assert "dmarc.policy_weakened" in {e["code"] for e in store.events_of("shop.example")}
    # and a row stored as a format-4 line (before format 5) still reads as it did
    with store.transaction() as conn:
        old = json.loads(format4_line(before))
        conn.execute(blobs.update().values(body=blob.pack(blob.dumps(old))))
    assert to_json(store.report(first)) == to_json(as_read_back(before))
    # and a format-3 line stored without its format number (as the first version of the
    # store did) still reads as the sparse line it is
    doc = json.loads(format3_line(before))
    doc.pop(FORMAT_KEY)
    with store.transaction() as conn:
        conn.execute(blobs.update().values(body=blob.pack(blob.dumps(doc))))
    assert to_json(store.report(first)) == to_json(before)
    store.close()
