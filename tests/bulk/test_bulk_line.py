"""The results line (bulk/jsonl.py LINE_FORMAT 5) says each thing once and leaves out what
the model puts back, --resume reads lines of every format into the same summary, and
--compress leaves results.jsonl.gz."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

import orjson
import pytest
from codec_cases import CASES, DOMAINS, audit, hand_built
from fixture_zone import FIXTURE_DOMAINS, ZONE
from old_lines import format3_line, format4_line

from mailauth_audit.bulk.inputs import read_entries
from mailauth_audit.bulk.jsonl import LINE_FORMAT, bulk_line, checklist_items
from mailauth_audit.bulk.manifest import ResumeMismatch
from mailauth_audit.bulk.runner import BulkConfig, run_bulk
from mailauth_audit.checks.registry import CHECKS
from mailauth_audit.findings.clip import clip_finding
from mailauth_audit.model import CheckId
from mailauth_audit.report.codec import from_json, to_json
from mailauth_audit.report.serialize import domain_json_line
from mailauth_audit.resolver.caching import CachingResolver
from mailauth_audit.resolver.static import StaticResolver
from mailauth_audit.verdicts.checklist import provider_checklist

REPORTS = [r for _, resolver, options in CASES for r in audit(resolver(), DOMAINS, options)]


def _static() -> CachingResolver:
    return CachingResolver(StaticResolver(ZONE, origin="example"))


def test_the_line_keeps_one_copy_of_each_finding_and_checklist_ids() -> None:
    for report in REPORTS:
        doc = orjson.loads(bulk_line(report))
        assert next(iter(doc)) == "line_format" and doc["line_format"] == LINE_FORMAT
        assert "findings" not in doc
        per_check = [f for o in doc["checks"].values() for f in o.get("findings", ())]
        assert len(per_check) == len(report.findings)
        # the checklist is judged from the checks on reading, as it is when writing
        assert "checklist" not in doc
        assert {i.id for i in provider_checklist(report).items} <= set(checklist_items())
        # and nothing is lost: the full object follows from the line, with the same score
        # and checklist
        back = from_json(doc)
        assert to_json(back) == to_json(report)
        assert back.verdict == report.verdict and back.checklist == report.checklist


def test_the_line_is_much_smaller_than_the_check_object() -> None:
    before = sum(len(domain_json_line(r)) for r in REPORTS)
    after = sum(len(bulk_line(r)) for r in REPORTS)
    assert after < 0.75 * before, (before, after)


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


_OLD_WRITERS = {
    "format 1": lambda report: domain_json_line(report),
    "format 3": format3_line,
    "format 4": format4_line,
}


@pytest.mark.parametrize("old_format", sorted(_OLD_WRITERS))
def test_resume_over_old_and_new_lines_gives_the_summary_of_a_straight_run(
    tmp_path: Path, old_format: str
) -> None:
    # Given a straight run, and the same run whose first half of lines was written by an
    # earlier format (format 1: the domain's findings and full checklist repeated; format 3:
    # the results whole, skipped checks' results too)
    entries, _ = read_entries(FIXTURE_DOMAINS)
    straight = tmp_path / "straight"
    run_bulk(entries, BulkConfig(output_dir=straight, progress=False, resolver_factory=_static))
    want = json.loads((straight / "summary.json").read_text())
    lines = _lines(straight / "results.jsonl")
    half = len(lines) // 2
    write = _OLD_WRITERS[old_format]
    old = [write(from_json(json.loads(x))) + b"\n" for x in lines[:half]]
    mixed = tmp_path / "mixed"
    run_bulk(entries[:1], BulkConfig(output_dir=mixed, progress=False, resolver_factory=_static))
    (mixed / "run.json").write_bytes((straight / "run.json").read_bytes())
    (mixed / "results.jsonl").write_bytes(b"".join(old))
    (mixed / ".results.csv.jsonl").write_bytes((straight / ".results.csv.jsonl").read_bytes())
    # When --resume finishes it
    again = run_bulk(
        entries,
        BulkConfig(output_dir=mixed, progress=False, resume=True, resolver_factory=_static),
    )
    # Then only the missing half is audited, and the counts are those of the straight run
    assert again.reported_before == half and again.reported_now == len(lines) - half
    got = json.loads((mixed / "summary.json").read_text())
    volatile = {"started_at", "finished_at", "elapsed_seconds", "complete"}
    volatile |= {"domains_reported_before_resume", "domains_reported_this_run"}
    # the run's DNS query total depends on what the run-wide cache already held when each
    # domain was audited (a resumed run starts cold), not on the lines: not a summary of them
    volatile |= {"dns_queries"}
    assert {k: v for k, v in got.items() if k not in volatile} == {
        k: v for k, v in want.items() if k not in volatile
    }


def test_compress_leaves_a_gzip_file_with_the_same_lines(tmp_path: Path) -> None:
    entries, _ = read_entries(FIXTURE_DOMAINS)
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    run_bulk(entries, BulkConfig(output_dir=plain, progress=False, resolver_factory=_static))
    run_bulk(
        entries,
        BulkConfig(output_dir=packed, progress=False, resolver_factory=_static, compress="gzip"),
    )
    assert not (packed / "results.jsonl").exists()
    unpacked = gzip.decompress((packed / "results.jsonl.gz").read_bytes())
    assert sorted(unpacked.splitlines()) == sorted(
        (plain / "results.jsonl").read_bytes().splitlines()
    )
    assert (packed / "results.jsonl.gz").stat().st_size < (
        plain / "results.jsonl"
    ).stat().st_size / 4
    summary = json.loads((packed / "summary.json").read_text())
    assert summary["results_file"] == "results.jsonl.gz"
    assert summary["results_line_format"] == LINE_FORMAT
    assert set(summary["checklist_items"]) == set(checklist_items())


def test_resume_of_a_finished_compressed_run_is_refused_clearly(tmp_path: Path) -> None:
    entries, _ = read_entries(["good.example", "weak.example"])
    cfg = BulkConfig(output_dir=tmp_path, progress=False, resolver_factory=_static)
    run_bulk(entries, BulkConfig(**{**vars(cfg), "compress": "gzip"}))
    with pytest.raises(ResumeMismatch, match=r"results\.jsonl\.gz holds a finished"):
        run_bulk(entries, BulkConfig(**{**vars(cfg), "resume": True}))
    assert (tmp_path / "results.jsonl.gz").exists()  # untouched


def test_the_json_module_fallback_gives_the_same_line() -> None:
    # an integer beyond 64 bits makes orjson refuse; the json module's line must be the same
    report = hand_built()
    line = bulk_line(report)
    assert json.loads(line)["dns_queries"] == 2**40
    big = from_json({**json.loads(line), "dns_queries": 2**70})
    assert json.loads(bulk_line(big)) == {**json.loads(line), "dns_queries": 2**70}


def test_a_finding_in_the_line_is_its_code_and_values() -> None:
    seen = 0
    for report in REPORTS:
        doc = orjson.loads(bulk_line(report))
        for cid, outcome in doc["checks"].items():
            for f in outcome.get("findings", ()):
                # a check that judges its facts alone lists its findings' codes (the reader
                # judges the facts again); another check's finding is its code and values
                if isinstance(f, (str, list)):
                    assert CHECKS[CheckId(cid)].judges_facts_only
                    code = f if isinstance(f, str) else f[0]
                    assert code.startswith(cid + ".")
                    continue
                # the sentences follow from the catalogue: none of them is in the line
                assert {"title", "detail", "remediation", "references", "check"}.isdisjoint(f)
                assert f["code"].startswith(cid + ".")
                seen += 1
        assert from_json(doc) == report
    assert seen > 20


def test_a_clipped_finding_keeps_its_texts_in_the_line() -> None:
    report = next(r for r in REPORTS if r.findings)
    cid, outcome = next((c, o) for c, o in report.checks.items() if o.findings)
    clipped = clip_finding(outcome.findings[0], 10)
    assert clipped.detail != outcome.findings[0].detail and clipped.params == ()
    changed = dataclasses.replace(
        report,
        checks={**report.checks, cid: dataclasses.replace(outcome, findings=(clipped,))},
    )
    doc = orjson.loads(bulk_line(changed))
    (f,) = doc["checks"][cid.value]["findings"]
    assert f["detail"] == clipped.detail and f["remediation"] == clipped.remediation
    assert from_json(doc) == changed


def test_lines_of_format_2_still_decode() -> None:
    for report in REPORTS:
        doc = to_json(report)
        del doc["findings"]
        doc["checklist"] = {i["id"]: i["state"] for i in doc["checklist"]["items"]}
        for outcome in doc["checks"].values():
            for f in outcome["findings"]:
                del f["params"]  # format 2 knew no params
        old = {"line_format": 2, **doc}
        back = from_json(old)
        assert to_json(back)["findings"] == [
            {**f, "params": []} for f in to_json(report)["findings"]
        ]
        # and written again it is a current line with the texts kept (no params to fill)
        assert from_json(orjson.loads(bulk_line(back))) == back


def test_the_summary_says_every_finding_text_once(tmp_path: Path) -> None:
    entries, _ = read_entries(FIXTURE_DOMAINS)
    run_bulk(entries, BulkConfig(output_dir=tmp_path, progress=False, resolver_factory=_static))
    texts = json.loads((tmp_path / "summary.json").read_text())["finding_texts"]
    for line in (tmp_path / "results.jsonl").read_bytes().splitlines():
        doc = json.loads(line)
        report = from_json(doc)
        for f in report.findings:
            spec = texts[f.code]
            assert spec["title"] == f.title
            assert spec["detail"].format_map(dict(f.params)) == f.detail


def test_compress_zstd_leaves_a_zstd_file_with_the_same_lines(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    entries, _ = read_entries(FIXTURE_DOMAINS)
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    run_bulk(entries, BulkConfig(output_dir=plain, progress=False, resolver_factory=_static))
    run_bulk(
        entries,
        BulkConfig(output_dir=packed, progress=False, resolver_factory=_static, compress="zstd"),
    )
    assert not (packed / "results.jsonl").exists()
    data = (packed / "results.jsonl.zst").read_bytes()
    unpacked = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    assert sorted(unpacked.splitlines()) == sorted(
        (plain / "results.jsonl").read_bytes().splitlines()
    )
    summary = json.loads((packed / "summary.json").read_text())
    assert summary["results_file"] == "results.jsonl.zst"
