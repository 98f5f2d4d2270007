"""Line format 4's slim form (which format 5 keeps): empty values, a skipped check's partial
result and what a record change repeats are left out, and every reader (from_json,
--resume's digest, history import) puts them back; lines of format 3 still read the same."""

from __future__ import annotations

import contextlib
import dataclasses
import typing
from pathlib import Path
from typing import Any

import orjson
import pytest
from codec_cases import CASES, DOMAINS, audit
from old_lines import as_read_back, format3_line, format4_line

from mailauth_audit.bulk.jsonl import bulk_line
from mailauth_audit.changes import ChangeAction, RecordChange
from mailauth_audit.checks.registry import CHECKS
from mailauth_audit.model import CheckId, CheckStatus, DomainReport
from mailauth_audit.report.codec import CodecError, from_json
from mailauth_audit.store.recorder import import_results
from mailauth_audit.store.store import open_store

REPORTS = [r for _, resolver, options in CASES for r in audit(resolver(), DOMAINS, options)]
_EMPTY = (None, False, 0, "", [], {})


def _declared(cls: type) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def test_a_result_in_the_line_holds_no_empty_values() -> None:
    seen = 0
    for report in REPORTS:
        doc = orjson.loads(bulk_line(report))
        for cid, outcome in doc["checks"].items():
            result = outcome.get("result")
            if result is None:
                continue
            cls = CHECKS[CheckId(cid)].result_type
            declared, hints = _declared(cls), typing.get_type_hints(cls)
            for name, value in result.items():
                # an empty value is written only where the field's default is another one
                # (an optional field's empty value is null: its 0 or "" is written)
                optional = type(None) in typing.get_args(hints[name])
                empties = (None,) if optional else _EMPTY
                if any(value == e and type(value) is type(e) for e in empties):
                    assert name in declared and declared[name] != value, (cid, name)
                seen += 1
    assert seen > 100


def test_a_skipped_check_is_its_status_and_reason() -> None:
    seen = 0
    for report in REPORTS:
        doc = orjson.loads(format4_line(report))
        for cid, outcome in report.checks.items():
            if outcome.status is not CheckStatus.SKIPPED:
                continue
            line = doc["checks"][cid.value]
            assert "result" not in line
            assert line["status"] == "skipped" and line.get("skip_reason") == outcome.skip_reason
            seen += 1
    assert seen > 5


def _with_change(report: DomainReport, change: RecordChange) -> tuple[DomainReport, str]:
    """The report with `change` as the only change of the first finding of a check whose
    result holds a `record`."""
    for cid, outcome in report.checks.items():
        if outcome.findings and isinstance(getattr(outcome.result, "record", None), str):
            finding = dataclasses.replace(outcome.findings[0], changes=(change,))
            new = dataclasses.replace(outcome, findings=(finding, *outcome.findings[1:]))
            return dataclasses.replace(report, checks={**report.checks, cid: new}), cid.value
    raise AssertionError("no finding on a check with a record")


def test_a_record_change_leaves_out_what_follows_from_the_finding_and_result() -> None:
    report = next(
        r
        for r in REPORTS
        if any(
            o.findings and isinstance(getattr(o.result, "record", None), str)
            for o in r.checks.values()
        )
    )
    base, cid = _with_change(report, RecordChange(ChangeAction.ADD, "x.example", "TXT", 60))
    outcome = base.checks[CheckId(cid)]
    code, record = outcome.findings[0].code, outcome.result.record
    implied = RecordChange(
        ChangeAction.REPLACE,
        "x.example",
        "TXT",
        300,
        current=record,
        proposed="v=DMARC1; p=reject; rua=mailto:<your-address>",
        placeholders=("<your-address>",),
        fixes=(code,),
    )
    spelled = [
        dataclasses.replace(implied, current="something else"),
        dataclasses.replace(implied, current=None),  # a replace without a current value
        dataclasses.replace(implied, placeholders=()),
        dataclasses.replace(implied, fixes=()),
        dataclasses.replace(implied, fixes=(code, "dmarc.other")),
        dataclasses.replace(implied, action=ChangeAction.ADD, current=record),
    ]
    changed, _ = _with_change(report, implied)
    doc = orjson.loads(format4_line(changed))
    (line,) = doc["checks"][cid]["findings"][0]["changes"]
    assert set(line) == {"action", "name", "rtype", "ttl", "proposed"}
    assert from_json(doc) == as_read_back(changed)
    for change in spelled:
        changed, _ = _with_change(report, change)
        doc = orjson.loads(format4_line(changed))
        assert len(doc["checks"][cid]["findings"][0]["changes"][0]) > 5
        assert from_json(doc) == as_read_back(changed), change


def test_lines_of_format_3_still_decode() -> None:
    for report in REPORTS:
        assert from_json(orjson.loads(format3_line(report))) == report


def test_the_line_is_much_smaller_than_format_3() -> None:
    before = sum(len(format3_line(r)) for r in REPORTS)
    after = sum(len(bulk_line(r)) for r in REPORTS)
    assert after < 0.8 * before, (before, after)


def test_history_import_reads_lines_of_format_3_4_and_5(tmp_path: Path) -> None:
    # Given a results file whose lines are of three formats (a run resumed by newer versions)
    reports = {r.domain: r for r in REPORTS if r.status.value == "completed"}
    writers = (bulk_line, format3_line, format4_line)
    lines = [writers[k % 3](r) + b"\n" for k, r in enumerate(reports.values())]
    results = tmp_path / "results.jsonl"
    results.write_bytes(b"".join(lines))
    store = open_store(str(tmp_path / "audits.db"))
    try:
        # When it is imported into the store
        imported = import_results(store, results)
        assert imported.recorded == len(reports) and imported.unreadable == 0
        # Then every stored audit decodes to the report its line holds
        for k, (name, report) in enumerate(reports.items()):
            (row,) = store.audits_of(name)
            assert store.report(row) == (as_read_back(report) if k % 3 == 2 else report), name
    finally:
        store.close()


def _with_result(report: DomainReport, cid: CheckId, result: Any) -> DomainReport:
    outcome = dataclasses.replace(report.checks[cid], result=result)
    return dataclasses.replace(report, checks={**report.checks, cid: outcome})


def _first(cid: CheckId, has: str) -> DomainReport:
    return next(
        r
        for r in REPORTS
        if r.checks.get(cid) is not None
        and r.checks[cid].status is not CheckStatus.SKIPPED
        and getattr(r.checks[cid].result, has, None)
    )


def test_an_spf_tree_leaves_out_what_its_rules_give_and_keeps_what_breaks_them() -> None:
    report = _first(CheckId.SPF, "tree")
    result = report.checks[CheckId.SPF].result
    doc = orjson.loads(format4_line(report))
    line = doc["checks"]["spf"]["result"]
    assert "records_found" not in line and "record_strings" not in line
    assert {"domain", "record", "records_found", "lookups", "total_lookups"}.isdisjoint(
        line["tree"]
    )
    # Given a tree whose values break every rule (a hand-edited or future result)
    tree = result.tree
    odd_child = dataclasses.replace(
        tree.children[0] if tree.children else tree,
        term="include:elsewhere.example",
        total_lookups=7,
        lookups=3,
        records_found=("v=spf1 a", "v=spf1 b"),
    )
    odd_tree = dataclasses.replace(
        tree,
        domain="other.example",
        record=None,
        records_found=(),
        lookups=0,
        total_lookups=0,
        children=(odd_child,),
    )
    odd = dataclasses.replace(result, tree=odd_tree, records_found=(), record_strings=("x",))
    changed = _with_result(report, CheckId.SPF, odd)
    # Then the line says them, and reads back the same (SPF findings are written out, so a
    # format-5 line of the edited report reads back whole too)
    assert from_json(orjson.loads(format4_line(changed))) == as_read_back(changed)
    assert from_json(orjson.loads(bulk_line(changed))) == changed


def test_a_dkim_selector_leaves_out_its_name_and_key_and_keeps_them_when_they_differ() -> None:
    keys = 0
    for report in REPORTS:
        dkim = report.checks.get(CheckId.DKIM)
        if dkim is None or dkim.status is CheckStatus.SKIPPED or not dkim.result:
            continue
        line = orjson.loads(format4_line(report))["checks"]["dkim"]["result"]
        assert "selectors_probed" not in line
        for sel in line.get("selectors", ()):
            if sel["status"] == "key" and "error" not in sel:
                assert "name" not in sel and "public_key" not in sel
                keys += 1
            elif "error" in sel and sel.get("record"):
                # a record whose p= cannot be read keeps its (null) key spelled out
                assert "public_key" in sel
    assert keys
    report = _first(CheckId.DKIM, "selectors")
    result = report.checks[CheckId.DKIM].result
    sel = dataclasses.replace(result.selectors[0], name="s._domainkey.other.example")
    sel = dataclasses.replace(sel, public_key="AAAA")
    odd = dataclasses.replace(result, selectors=(sel,), selectors_probed=("zz", "s"))
    changed = _with_result(report, CheckId.DKIM, odd)
    assert from_json(orjson.loads(format4_line(changed))) == as_read_back(changed)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            out += _paths(v, (*path, i))
    return out


def _replaced(doc: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[path[0]] = _replaced(doc[path[0]], path[1:], new)
    return copy


@pytest.mark.parametrize("writer", [format4_line, bulk_line], ids=["format 4", "format 5"])
def test_a_damaged_line_is_a_codec_error_never_a_crash(writer: Any) -> None:
    # Given lines with one value anywhere in their SPF, DKIM and DMARC outcomes replaced by a
    # value of another shape (a damaged or hand-edited file)
    tried = 0
    for cid in (CheckId.SPF, CheckId.DKIM, CheckId.DMARC):
        report = _first(cid, "record" if cid is not CheckId.DKIM else "selectors")
        doc = orjson.loads(writer(report))
        for path in _paths(doc["checks"][cid.value]):
            for odd in ("x", 7, [], {}, None, [{}], {"selectors": [{}]}):
                damaged = _replaced(doc, ("checks", cid.value, *path), odd)
                # Then reading it gives a report or says why it cannot (CodecError)
                with contextlib.suppress(CodecError):
                    from_json(damaged)
                tried += 1
    assert tried > 300
