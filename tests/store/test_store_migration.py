"""Revision v0003 on a store written at revision 0002: data carried over, then read back."""

from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from history_zones import BEFORE, KEY_1024, audit
from sqlalchemy import inspect, select, text

from mailauth_audit.report.codec import to_json
from mailauth_audit.store import blob
from mailauth_audit.store.connect import REVISIONS, make_engine
from mailauth_audit.store.facts import parse_facts
from mailauth_audit.store.record import stored_document
from mailauth_audit.store.schema import audits, blobs
from mailauth_audit.store.store import open_store
from mailauth_audit.store.views import diff_domain, domain_history

AFTER = {
    "mx": ["10 mx2.shop.example."],
    "spf": "v=spf1 include:_spf.other.example -all",
    "dmarc": "v=DMARC1; p=none",
    "dkim": {"s1": KEY_1024},
}
_MIGRATIONS = Path(blob.__file__).parent / "migrations"


def _v0002_store(url: str) -> dict[str, object]:
    """A store at revision 0002 holding one audit the way 0002's code wrote it: the report
    as codec 1 under its hex digest, a check_results row per check, a findings row each."""
    engine = make_engine(url)
    doc = stored_document(to_json(audit(BEFORE).domains[0]))
    data = blob.dumps(doc)
    body = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, blob._dictionary(1))
    packed = body.compress(data) + body.flush()
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        run_id = conn.execute(
            text(
                "INSERT INTO runs (kind, started_at, tool_version) "
                "VALUES ('check', '2025-01-01T00:00:00.000000Z', '0.2.0') RETURNING id"
            )
        ).scalar_one()
        blob_id = conn.execute(
            text("INSERT INTO blobs (sha256, codec, body) VALUES (:s, 1, :b) RETURNING id"),
            {"s": hashlib.sha256(data).hexdigest(), "b": packed},
        ).scalar_one()
        audit_id = conn.execute(
            text(
                "INSERT INTO audits (run_id, domain, audited_at, status, grade, score, "
                "schema_version, blob_id) VALUES (:r, 'shop.example', "
                "'2025-01-01T00:00:00.000000Z', 'completed', 'B', 80, '1.0', :b) RETURNING id"
            ),
            {"r": run_id, "b": blob_id},
        ).scalar_one()
        for check, outcome in doc["checks"].items():
            reason = (outcome.get("error") or {}).get("reason")
            conn.execute(
                text("INSERT INTO check_results VALUES (:a, :c, :s, :r)"),
                {"a": audit_id, "c": check, "s": outcome["status"], "r": reason},
            )
            for f in outcome.get("findings") or ():
                conn.execute(
                    text(
                        "INSERT INTO findings (audit_id, code, severity, params) "
                        "VALUES (:a, :c, :s, :p)"
                    ),
                    {
                        "a": audit_id,
                        "c": f["code"],
                        "s": f["severity"],
                        "p": json.dumps(f.get("params")),
                    },
                )
    engine.dispose()
    return doc


def test_a_v0002_store_upgrades_with_its_data(store_url: str) -> None:
    doc = _v0002_store(store_url)
    store = open_store(store_url)  # migrates 0002 -> head (0003 folds the facts)
    with store.transaction(write=False) as conn:
        tables = set(inspect(conn).get_table_names())
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        [row] = conn.execute(select(audits.c.facts)).all()
        [key] = conn.execute(select(blobs.c.digest)).scalars().all()
    assert version == REVISIONS[-1]
    assert "check_results" not in tables and "findings" not in tables
    assert bytes(key) == hashlib.sha256(blob.dumps(doc)).digest()
    facts = parse_facts(row.facts)
    assert facts is not None
    assert facts.statuses == {c: o["status"] for c, o in doc["checks"].items()}
    assert [code for code, _ in facts.findings] == [
        f["code"] for o in doc["checks"].values() for f in o.get("findings") or ()
    ]
    # the old audit reads back typed, and a new audit of the same report shares its blob
    [old] = store.audits_of("shop.example")
    assert to_json(store.report(old)) == to_json(audit(BEFORE).domains[0])
    store.record_run(audit(BEFORE))
    assert store.stored_bytes()["blobs"] == 1
    # a changed report is recorded beside it (codec 2) and compared with the old one
    store.record_run(audit(AFTER))
    assert store.stored_bytes()["blobs"] == 2
    diff = diff_domain(store, "shop.example")
    assert diff.records and diff.before_audit is not None
    history = domain_history(store, "shop.example")
    assert len(history.entries) == 3 and history.events
    assert history.entries[0].check_statuses == facts.statuses
    store.close()
