"""Bulk building blocks without a network: input folding, the results file's crash safety,
the summary counters, and a whole run over a StaticResolver."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from fixture_zone import ZONE

from mailauth_audit.bulk.inputs import iter_entries, read_entries, strip_comment
from mailauth_audit.bulk.jsonl import ResultsFile, ResultsWriteError, recover
from mailauth_audit.bulk.runner import BulkConfig, run_bulk
from mailauth_audit.bulk.summary import WORST_KEPT, BulkSummary, digest
from mailauth_audit.engine.auditor import Auditor
from mailauth_audit.report.serialize import domain_to_json
from mailauth_audit.resolver.caching import CachingResolver
from mailauth_audit.resolver.ratelimit import RateLimitedResolver
from mailauth_audit.resolver.static import StaticResolver

# --- input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("example.com", "example.com"),
        ("  example.com  ", "example.com"),
        ("# a comment", ""),
        ("   # indented comment", ""),
        ("example.com # ours", "example.com"),
        ("example.com\t# ours", "example.com"),
        ("", ""),
        ("a#b.example", "a#b.example"),  # not a comment: no whitespace before '#'
    ],
)
def test_strip_comment(line: str, name: str) -> None:
    assert strip_comment(line) == name


def test_garbage_lines_become_invalid_entries_and_the_rest_is_folded() -> None:
    lines = [
        "\ufeffGood.Example.",  # BOM, case and trailing dot
        "good.example",
        "GOOD.EXAMPLE",
        "bücher.example",
        "xn--bcher-kva.example",  # the same name as its A-label
        "not a domain",
        "not a domain",  # an invalid line repeated is reported once
        "http://example.com/path",
        "-bad-.example",
        "a..b",
        "\x00\x01binary",
        "localhost",
        "x" * 300,
        "",
        "# end",
    ]
    entries, stats = read_entries(lines)
    assert [e.key for e in entries if e.valid] == ["good.example", "xn--bcher-kva.example"]
    invalid = [e for e in entries if not e.valid]
    assert len(invalid) == 7
    assert all(e.error for e in invalid)
    assert (stats.lines, stats.ignored, stats.duplicates, stats.invalid, stats.entries) == (
        15,
        2,
        4,
        7,
        9,
    )


def test_ten_thousand_copies_of_one_domain_are_one_entry() -> None:
    lines = [("Example.COM" if i % 2 else "example.com.") for i in range(10_000)]
    entries = list(iter_entries(lines))
    assert [e.key for e in entries] == ["example.com"]


# --- the results file ---------------------------------------------------------------------


def _line(domain: str) -> bytes:
    return json.dumps({"domain": domain, "status": "completed"}).encode() + b"\n"


@pytest.mark.parametrize(
    "tail",
    [
        b'{"domain": "torn.example", "sta',  # killed mid-write
        b"\x00" * 4096,  # zero-filled block after a power loss
        b'{"domain": "x.example"}\n{"domain": ',  # a whole line then a torn one
        b"[1, 2]\n",  # valid JSON that is not a result
        b"not json\n" + _line("after.example"),  # lines after a corrupt one are dropped too
    ],
)
def test_recover_truncates_a_damaged_tail_and_keeps_whole_lines(
    tmp_path: Path, tail: bytes
) -> None:
    path = tmp_path / "results.jsonl"
    good = _line("a.example") + _line("b.example")
    path.write_bytes(good + tail)
    domains = [d["domain"] for d in recover(path)]
    assert domains[:2] == ["a.example", "b.example"]
    text = path.read_bytes()
    assert text.endswith(b"\n")
    for raw in text.splitlines():
        assert isinstance(json.loads(raw), dict)  # every remaining line parses
    assert [d["domain"] for d in recover(path)] == domains  # idempotent


def test_recover_of_a_missing_file_yields_nothing(tmp_path: Path) -> None:
    assert list(recover(tmp_path / "none.jsonl")) == []


def test_a_full_disk_raises_a_clear_error_and_keeps_whole_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(Not /dev/full: the results file must be a regular file, see tests/hostile.)"""
    from mailauth_audit.bulk import jsonl

    path = tmp_path / "results.jsonl"
    results = ResultsFile(path)
    results.append([_line("a.example")])
    real_write = os.write

    def half_then_full(fd: int, data: bytes) -> int:
        monkeypatch.setattr(jsonl.os, "write", full)
        return real_write(fd, bytes(data[:10]))

    def full(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jsonl.os, "write", half_then_full)
    with pytest.raises(ResultsWriteError) as info:
        results.append([_line("b.example")])
    monkeypatch.undo()
    assert "disk full" in str(info.value.strerror)
    assert "--resume" in str(info.value.strerror)
    results.close()
    assert path.read_bytes() == _line("a.example")


def test_file_size_limit_leaves_only_whole_lines(tmp_path: Path) -> None:
    """Given a process whose files may not grow past 1,000 bytes (RLIMIT_FSIZE), when it
    appends batches past the limit, then it gets ResultsWriteError, and the file holds
    whole lines only, all of which parse."""
    path = tmp_path / "results.jsonl"
    script = f"""
import resource, signal, sys
from pathlib import Path
sys.path.insert(0, {str(Path.cwd())!r})
from mailauth_audit.bulk.jsonl import ResultsFile, ResultsWriteError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
f = ResultsFile(Path({str(path)!r}))
try:
    for i in range(100):
        f.append([b'{{"domain": "d%03d.example", "pad": "%s"}}\\n' % (i, b"x" * 30)] * 3)
except ResultsWriteError as exc:
    print("ERROR", exc.strerror)
f.close()
"""
    res = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert "ERROR" in res.stdout and "disk full" in res.stdout, res.stderr
    data = path.read_bytes()
    assert 0 < len(data) <= 1000
    assert data.endswith(b"\n")
    assert all(json.loads(x)["domain"] for x in data.splitlines())


# --- summary ------------------------------------------------------------------------------


def _reports(domains: list[str]) -> list[dict]:
    async def run() -> list[dict]:
        async with Auditor(resolver=StaticResolver(ZONE, origin="example")) as auditor:
            return [domain_to_json(r) async for r in auditor.audit_stream(domains)]

    return asyncio.run(run())


def test_digest_and_summary_count_what_the_reports_say() -> None:
    docs = _reports(["good.example", "weak.example", "toomany.example", "nomail.example"])
    by = {d["domain"]: d for d in docs}
    good = digest(by["good.example"])
    assert good.dmarc_policy == by["good.example"]["checks"]["dmarc"]["result"]["effective_policy"]
    assert good.spf_lookups == by["good.example"]["checks"]["spf"]["result"]["dns_lookups"]
    assert "rsa2048" in good.dkim_keys
    assert digest(by["weak.example"]).dkim_keys == ("rsa1024",)
    assert digest(by["toomany.example"]).spf_lookups > 10
    summary = BulkSummary()
    for d in docs:
        summary.add(digest(d))
    out = summary.to_json()
    assert out["domains"] == 4
    assert sum(out["checks"]["spf"].values()) == 4
    assert out["spf_over_limit"] == 1
    assert out["dkim_keys"]["rsa2048"] >= 1
    worst = [w["domain"] for w in out["worst_domains"]]
    assert worst[0] != "good.example" and "good.example" not in worst[:2]
    json.dumps(out)  # plain JSON


def test_worst_domains_are_bounded_and_ordered() -> None:
    summary = BulkSummary()
    template = digest(_reports(["weak.example"])[0])
    for i in range(WORST_KEPT * 3):
        summary.add(replace(template, domain=f"d{i:04d}.example", findings=(i % 7, 0, 0, 0, 0)))
    worst = summary.worst()
    assert len(worst) <= WORST_KEPT
    crit = [w.findings[0] for w in worst]
    assert crit == sorted(crit, reverse=True)
    assert crit[0] == 6
    # among equals, alphabetical order
    sixes = [w.domain for w in worst if w.findings[0] == 6]
    assert sixes == sorted(sixes)


# --- rate limit ---------------------------------------------------------------------------


def test_queries_per_second_cap_spaces_upstream_questions() -> None:
    async def run() -> float:
        inner = StaticResolver(ZONE, origin="example")
        resolver = RateLimitedResolver(inner, queries_per_second=50)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        names = [f"n{i}.example" for i in range(26)]
        await asyncio.gather(*(resolver.resolve(n, 1) for n in names))
        return loop.time() - t0

    elapsed = asyncio.run(run())
    assert 0.45 <= elapsed < 2.0  # 26 questions at 50/s: the last starts after 0.5 s


# --- a whole run, offline -------------------------------------------------------------------


def _static() -> CachingResolver:
    return CachingResolver(StaticResolver(ZONE, origin="example"))


def test_run_over_a_static_resolver_writes_every_file(tmp_path: Path) -> None:
    entries, stats = read_entries(
        ["good.example", "weak.example", "GOOD.example", "not a domain", "# c"]
    )
    out = tmp_path / "run"
    outcome = run_bulk(
        entries,
        BulkConfig(output_dir=out, progress=False, resolver_factory=_static, html_pages=True),
        input_stats=stats,
    )
    assert outcome.complete and outcome.reported_now == 3
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(d["domain"] for d in lines) == ["good.example", "not a domain", "weak.example"]
    assert {d["status"] for d in lines} == {"completed", "invalid"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is True
    assert summary["by_status"] == {"completed": 2, "invalid": 1}
    assert summary["input"]["duplicates"] == 1
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert csv_lines[0].startswith("domain,status,grade")
    assert len(csv_lines) == 4
    index = (out / "index.html").read_text()
    assert "<script" not in index and "<svg" in index
    assert 'href="domains/weak.example.html"' in index
    assert (out / "domains" / "weak.example.html").exists()
    assert os.stat(out / "summary.json").st_mode & 0o044  # readable reports


def test_resume_after_a_complete_run_audits_nothing_more(tmp_path: Path) -> None:
    entries, _ = read_entries(["good.example", "weak.example"])
    cfg = BulkConfig(output_dir=tmp_path, progress=False, resolver_factory=_static)
    run_bulk(entries, cfg)
    again = run_bulk(
        entries,
        BulkConfig(output_dir=tmp_path, progress=False, resume=True, resolver_factory=_static),
    )
    assert again.reported_before == 2 and again.reported_now == 0
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 2
    assert json.loads((tmp_path / "summary.json").read_text())["domains"] == 2
    assert len((tmp_path / "results.csv").read_text().splitlines()) == 3


@pytest.mark.parametrize(
    ("concurrency", "in_flight", "processes", "want"),
    [
        (200, 512, 1, (200, 512)),
        (200, 512, 2, (100, 256)),
        (201, 513, 2, (101, 257)),  # rounded up: never less than asked for in total
        (1, 1, 8, (1, 1)),  # never zero
    ],
)
def test_concurrency_and_in_flight_limits_are_totals_split_among_workers(
    concurrency: int, in_flight: int, processes: int, want: tuple[int, int]
) -> None:
    from mailauth_audit.bulk.runner import per_worker_options
    from mailauth_audit.options import AuditOptions, Limits

    options = AuditOptions(
        limits=Limits(max_concurrent_domains=concurrency, max_dns_in_flight=in_flight)
    )
    limits = per_worker_options(options, processes).limits
    assert (limits.max_concurrent_domains, limits.max_dns_in_flight) == want
    assert limits.dns_timeout == options.limits.dns_timeout  # the rest is untouched


def test_the_event_loop_does_not_change_the_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvloop where installed, asyncio on request (MAILAUTH_AUDIT_LOOP=asyncio): same lines."""
    from fixture_zone import FIXTURE_DOMAINS

    from mailauth_audit.bulk import runtime as runner

    used: list[str] = []
    real_runner = asyncio.Runner

    def spy_runner(*args: object, loop_factory: object = None) -> asyncio.Runner:
        used.append("asyncio" if loop_factory is None else getattr(loop_factory, "__module__", ""))
        return real_runner(loop_factory=loop_factory)  # type: ignore[arg-type]

    monkeypatch.setattr(runner.asyncio, "Runner", spy_runner)
    entries, _ = read_entries(FIXTURE_DOMAINS)
    lines = {}
    for loop in ("asyncio", "default"):
        if loop == "asyncio":
            monkeypatch.setenv(runner.LOOP_ENV, "asyncio")
        else:
            monkeypatch.delenv(runner.LOOP_ENV, raising=False)
        out = tmp_path / loop
        run_bulk(entries, BulkConfig(output_dir=out, progress=False, resolver_factory=_static))
        lines[loop] = sorted((out / "results.jsonl").read_text().splitlines())
    assert lines["asyncio"] == lines["default"]
    assert len(lines["asyncio"]) == len(FIXTURE_DOMAINS)
    assert used[0] == "asyncio"
    if sys.platform != "win32":  # uvloop is a dependency everywhere else
        assert used[1].startswith("uvloop")


def test_resumed_lines_from_before_the_not_graded_rule_lose_their_grade() -> None:
    # Given a results line written before schema 1.2 (grade A despite DMARC in error), When
    # --resume digests it, Then it counts as not graded, like a fresh run would count it
    line = {
        "domain": "old.example",
        "status": "completed",
        "checks": {
            "spf": {"status": "pass", "result": {"record": "v=spf1 -all", "dns_lookups": 0}},
            "dmarc": {"status": "error", "error": {"reason": "dns_servfail"}},
        },
        "findings": [],
        "score": {"score": 100, "grade": "A", "complete": False},
    }
    d = digest(line)
    assert d.grade is None and d.score is None and d.provisional_score == 100
    assert d.grade_bucket == "not_graded"
    s = BulkSummary()
    s.add(d)
    s.add(digest({**line, "domain": "bad name", "status": "invalid", "checks": {}}))
    summary = s.to_json()
    assert summary["grades"] == {"invalid": 1, "not_graded": 1}
    assert summary["domains_not_graded"] == 1


# --- the index lists every domain, page by page ---------------------------------------------


def _many_zone(n: int) -> str:
    lines = [
        "$ORIGIN many.",
        "$TTL 300",
        "@ IN SOA ns1.many. hostmaster.many. 1 3600 600 86400 300",
        "@ IN NS ns1.many.",
        "ns1 IN A 192.0.2.1",
        "mx IN A 192.0.2.25",
    ]
    for i in range(n):
        lines.append(f"d{i} IN MX 10 mx.many.")
        if i % 3:
            lines.append(f'd{i} IN TXT "v=spf1 mx -all"')
    return "\n".join(lines) + "\n"


def test_index_lists_every_domain_on_pages_of_200_and_resume_keeps_the_links(
    tmp_path: Path,
) -> None:
    # Given 450 domains audited with --html-pages, When the run ends, Then index.html,
    # index-2.html and index-3.html list 200, 200 and 50 domains, each linked to its page,
    # and a --resume that audits nothing more rewrites the same pages and headline
    import re

    from mailauth_audit.bulk.index import INDEX_PAGE_SIZE

    n = 450
    zone = _many_zone(n)
    names = [f"d{i}.many" for i in range(n)]
    entries, stats = read_entries(names)
    out = tmp_path / "run"

    def static() -> CachingResolver:
        return CachingResolver(StaticResolver(zone, origin="many"))

    def run(resume: bool) -> None:
        config = BulkConfig(
            output_dir=out, progress=False, resolver_factory=static, html_pages=True, resume=resume
        )
        assert run_bulk(entries, config, input_stats=stats).complete

    def listed() -> list[list[str]]:
        pages = []
        for name in ("index.html", "index-2.html", "index-3.html"):
            text = (out / name).read_text()
            assert f"{n} domains audited" in text and "The whole run" in text
            for other in ("index.html", "index-2.html", "index-3.html"):
                if other != name:
                    assert f'href="{other}"' in text, (name, other)
            pages.append(re.findall(r'href="domains/(d\d+\.many)\.html"', text))
        assert not (out / "index-4.html").exists()
        return pages

    run(resume=False)
    first = listed()
    assert INDEX_PAGE_SIZE == 200 and [len(p) for p in first] == [200, 200, 50]
    assert sorted(d for p in first for d in p) == sorted(names)
    for d in names[:5]:
        assert (out / "domains" / f"{d}.html").exists()
    run(resume=True)
    assert listed() == first
