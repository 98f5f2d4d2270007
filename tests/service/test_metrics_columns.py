"""/metrics reads the audit rows' columns, not the reports: the DNS query count is written
in its row when an audit is recorded (migration 0007), and the counters come out as the
reports say, without a report decompressed; a row written before 0007 (NULL) is still
counted from its report."""

from __future__ import annotations

from typing import Any

import pytest
from history_zones import BEFORE, audit
from service_app import Api
from sqlalchemy import select, update

from mailauth_audit.report.codec import to_json
from mailauth_audit.service import metrics as metrics_module
from mailauth_audit.store.blob import unpack
from mailauth_audit.store.record import RunInfo, utc_text
from mailauth_audit.store.schema import audits, blobs

QUERIES = "mailauth_audit_dns_queries_total"


def _samples(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def _reports_say(api: Api, after_id: int) -> tuple[int, int]:
    """What the reports of the audits after `after_id` hold: the sum of their dns_queries
    (what /metrics used to decompress them for), and the largest audit id."""
    total, top = 0, after_id
    with api.store.transaction(write=False) as conn:
        rows = conn.execute(
            select(audits.c.id, blobs.c.codec, blobs.c.body)
            .join(blobs, blobs.c.id == audits.c.blob_id)
            .where(audits.c.id > after_id)
        )
        for row in rows:
            doc = unpack(bytes(row.body), int(row.codec))
            total += doc["dns_queries"] if isinstance(doc.get("dns_queries"), int) else 0
            top = max(top, int(row.id))
    return total, top


def _record(api: Api, queries: list[int]) -> None:
    run_id, started = api.store.start_run(RunInfo("api", utc_text(), "test", None))
    docs = []
    for i, n in enumerate(queries):
        doc = to_json(audit(BEFORE).domains[0])
        docs.append({**doc, "domain": f"m{i}-{n}.example", "dns_queries": n})
    api.store.record_documents(run_id, started, docs)


def test_metrics_count_dns_queries_from_the_rows_as_the_reports_say(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = api.headers("read")
    unpacked: list[int] = []

    def counting_unpack(body: bytes, codec: int) -> Any:
        unpacked.append(codec)
        return unpack(body, codec)

    monkeypatch.setattr(metrics_module, "unpack", counting_unpack)
    before = _samples(api.client.get("/metrics", headers=read).text)
    with api.store.transaction(write=False) as conn:
        start = int(conn.execute(select(audits.c.id).order_by(audits.c.id.desc())).scalar() or 0)
    api.store.record_run(audit(BEFORE))  # a real audit's own count
    _record(api, [0, 7, 12, 31])
    expected, top = _reports_say(api, start)
    assert expected > 50
    after = _samples(api.client.get("/metrics", headers=read).text)
    assert after[QUERIES] - before.get(QUERIES, 0) == expected
    assert unpacked == []  # not one report decompressed

    # a row recorded by a writer older than 0007: its count is read from its report
    _record(api, [5])
    with api.store.transaction() as conn:
        conn.execute(update(audits).where(audits.c.id > top).values(dns_queries=None))
    later = _samples(api.client.get("/metrics", headers=read).text)
    assert later[QUERIES] - after[QUERIES] == 5
    assert len(unpacked) == 1
