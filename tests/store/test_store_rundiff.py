"""`diff --run A --run B` reads rows, not reports, wherever it can: each domain's diff built
from the facts column and the few outcomes it decodes equals the diff of the two typed
reports; domains that differ only in their query count are unchanged without a blob read;
text shows a bounded number of domains in detail and says how many it left out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from history_zones import BEFORE, KEY_1024, audit
from sqlalchemy import text

from mailauth_audit.bulk.jsonl import bulk_line
from mailauth_audit.model import DomainReport
from mailauth_audit.report.codec import to_json
from mailauth_audit.report.history import run_diff_text
from mailauth_audit.store import rundiff
from mailauth_audit.store.diff import diff_reports
from mailauth_audit.store.record import RunInfo
from mailauth_audit.store.rundiff import RunDiff
from mailauth_audit.store.store import Store, open_store
from mailauth_audit.store.views import diff_runs

# each domain of run B: one kind of change against BEFORE (run A)
VARIANTS: list[dict[str, Any]] = [
    BEFORE,  # unchanged
    dict(BEFORE, mx=["10 mx1.shop.example.", "20 mx2.shop.example."]),
    dict(BEFORE, spf="v=spf1 include:_spf.other.example ~all"),
    dict(BEFORE, spf=None),
    dict(BEFORE, dmarc="v=DMARC1; p=none"),
    dict(BEFORE, dmarc=None),
    dict(BEFORE, dkim={"s1": KEY_1024}),
    dict(BEFORE, dkim={"s1": BEFORE["dkim"]["s1"], "s2": KEY_1024}),
    dict(BEFORE, mx=["10 mx2.shop.example."], dmarc="v=DMARC1; p=quarantine", spf=None),
]


_AUDITED: dict[str, DomainReport] = {}


def _docs(spec: dict[str, Any], names: list[str], slim: bool) -> list[dict[str, Any]]:
    key = json.dumps(spec, sort_keys=True)
    if key not in _AUDITED:  # each zone audited once per test session
        _AUDITED[key] = audit(spec).domains[0]
    report = _AUDITED[key]
    line = bulk_line(report).decode() if slim else json.dumps(to_json(report))
    return [json.loads(line.replace("shop.example", name)) for name in names]


def _record(store: Store, docs: list[dict[str, Any]], key: str) -> int:
    run_id, started = store.start_run(RunInfo("bulk", "2026-01-01T00:00:00Z", "t", run_key=key))
    store.record_documents(run_id, started, docs)
    store.finish_run(run_id)
    return run_id


def _two_runs(store: Store) -> tuple[int, int, list[str]]:
    """Run A: every domain as BEFORE; run B: domain i as VARIANTS[i], as check's JSON (c*)
    and as bulk lines (b*)."""
    a_docs, b_docs, names = [], [], []
    for slim, prefix in ((False, "c"), (True, "b")):
        for i, spec in enumerate(VARIANTS):
            name = f"{prefix}{i}.example"
            names.append(name)
            a_docs += _docs(BEFORE, [name], slim)
            b_docs += _docs(spec, [name], slim)
    return _record(store, a_docs, "a"), _record(store, b_docs, "b"), names


def _exact(store: Store, run_a: int, run_b: int, domain: str) -> Any:
    """The diff of the two typed reports, as `diff DOMAIN` builds it."""
    rows = [store.audits_of_run(run_a)[domain], store.audits_of_run(run_b)[domain]]
    before, after = (store.report(r) for r in rows)
    return diff_reports(
        before,
        after,
        before_audit=rows[0].id,
        after_audit=rows[1].id,
        before_at=rows[0].audited_at,
        after_at=rows[1].audited_at,
    )


def _assert_exact(store: Store, d: RunDiff, run_a: int, run_b: int) -> None:
    assert d.details_omitted == 0
    for change in d.changes:
        assert change.diff == _exact(store, run_a, run_b, change.domain), change.domain


def test_each_diff_from_the_facts_equals_the_diff_of_the_typed_reports(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(store_url)
    run_a, run_b, names = _two_runs(store)

    def whole_reports(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded whole reports where the facts suffice")

    with monkeypatch.context() as patched:
        patched.setattr(rundiff, "diff_reports", whole_reports)
        d = diff_runs(store, run_a, run_b)
    assert d.unchanged == 2 and len(d.changes) == len(names) - 2
    assert {c.domain for c in d.changes} == set(names) - {"c0.example", "b0.example"}
    assert all(c.diff is not None and c.diff.changed for c in d.changes)
    records = {(c.domain, r.type, r.change) for c in d.changes for r in c.diff.records}  # type: ignore[union-attr]
    assert {("c1.example", "MX", "changed"), ("b6.example", "DKIM", "changed")} <= records
    assert ("b7.example", "DKIM", "added") in records
    _assert_exact(store, d, run_a, run_b)
    # decoded by forked workers (as when hundreds of diffs are read): the same diffs
    monkeypatch.setattr(rundiff, "_POOL_MIN_PAIRS", 1)
    assert diff_runs(store, run_a, run_b, processes=2) == d
    # rows recorded without facts or digests (before revisions 0003 and 0006): the same diff,
    # from the typed reports
    with store.transaction() as conn:
        conn.execute(text("UPDATE audits SET facts = NULL, content_digest = NULL"))
    again = diff_runs(store, run_a, run_b)
    assert again == d
    store.close()


def test_only_the_query_count_differs_unchanged_without_reading_a_blob(store_url: str) -> None:
    store = open_store(store_url)
    names = [f"d{i}.example" for i in range(20)]
    docs = _docs(BEFORE, names, slim=True)
    run_a = _record(store, docs, "a")
    noisy = [dict(doc, dns_queries=doc["dns_queries"] + 1) for doc in docs]
    weaker = _docs(dict(BEFORE, dmarc="v=DMARC1; p=none"), ["d0.example"], slim=True)
    run_b = _record(store, weaker + noisy[1:], "b")
    # every blob of run B unreadable: what the diff says comes from the rows
    with store.transaction() as conn:
        conn.execute(
            text(
                "UPDATE blobs SET body = :junk WHERE id IN "
                "(SELECT blob_id FROM audits WHERE run_id = :run)"
            ),
            {"junk": b"\x00junk", "run": run_b},
        )
    d = diff_runs(store, run_a, run_b, details=0)
    assert (d.unchanged, d.worse, d.better, len(d.changes)) == (19, 1, 0, 1)
    assert d.changes[0].domain == "d0.example" and d.details_omitted == 1
    assert d.changes[0].diff is None
    store.close()


def test_text_shows_a_bounded_number_of_domains_in_detail(tmp_path: Path) -> None:
    path = str(tmp_path / "audits.db")
    store = open_store(path)
    run_a, run_b, _ = _two_runs(store)
    full = diff_runs(store, run_a, run_b)
    d = diff_runs(store, run_a, run_b, details=3)
    assert d.details_omitted == len(d.changes) - 3
    assert [c.diff for c in d.changes[:3]] == [c.diff for c in full.changes[:3]]
    assert all(c.diff is None for c in d.changes[3:])
    shown = run_diff_text(d)
    assert shown.startswith(run_diff_text(full).split("\n")[0])
    rest = d.changes[3:]
    worse = sum(1 for c in rest if c.direction == "worse")
    assert f"… and {len(rest)} more changed domains ({worse} worse" in shown
    assert not any(c.domain in shown for c in rest)
    store.close()
    # the command: --details N, --full; JSON holds every domain's diff whatever --details says
    runs = ["diff", "--run", str(run_a), "--run", str(run_b), "--store", path]
    text_out = _cli(*runs, "--details", "3").stdout
    assert text_out == shown
    doc = json.loads(_cli(*runs, "-f", "json", "--details", "3").stdout)["run_diff"]
    assert doc["details_omitted"] == 0 and all(c["diff"] is not None for c in doc["changes"])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done
