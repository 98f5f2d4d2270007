"""history / diff / run diff / events as JSON: the committed schema is the views' schema and
every document validates; a run diff tells worse from better and skips identical reports."""

from __future__ import annotations

import json

import jsonschema
from history_zones import BEFORE, audit

from mailauth_audit.report.codec import to_json
from mailauth_audit.report.history import json_document, run_diff_text
from mailauth_audit.report.history_schema import build_history_schema, committed_history_schema
from mailauth_audit.store.record import RunInfo
from mailauth_audit.store.store import open_store
from mailauth_audit.store.views import diff_domain, diff_runs, domain_history, list_events


def test_committed_history_schema_is_generated_from_the_views() -> None:
    # If this fails: python -m mailauth_audit.report.history_schema
    assert committed_history_schema() == build_history_schema()
    jsonschema.Draft202012Validator.check_schema(committed_history_schema())


def _record_run(store, docs, key):  # type: ignore[no-untyped-def]
    run_id, started = store.start_run(RunInfo("bulk", "2026-01-01T00:00:00Z", "t", run_key=key))
    store.record_documents(run_id, started, docs)
    return run_id


def test_every_view_validates_and_a_run_diff_sorts_worse_first(store_url: str) -> None:
    store = open_store(store_url)
    domains = ("shop.example", "other.example")
    good = audit(BEFORE, domains)
    worse = audit(dict(BEFORE, dmarc="v=DMARC1; p=none"), ("shop.example",))
    first = _record_run(store, [to_json(r) for r in good.domains], "a")
    # run 2: shop.example got worse, other.example identical (but for its query count)
    other = dict(to_json(good.domains[1]), dns_queries=999)
    second = _record_run(store, [to_json(worse.domains[0]), other], "b")
    d = diff_runs(store, first, second)
    assert (d.worse, d.better, d.unchanged) == (1, 0, 1)
    assert d.changes[0].domain == "shop.example" and d.changes[0].diff is not None
    assert "worse   shop.example" in run_diff_text(d)
    schema = committed_history_schema()
    for kind, view in (
        ("history", domain_history(store, "shop.example")),
        ("diff", diff_domain(store, "shop.example")),
        ("run_diff", d),
        ("events", list_events(store)),
    ):
        jsonschema.validate(json.loads(json_document(kind, view)), schema)
    store.close()
