"""Hostile SPF trees against nsd on loopback: bounded time, memory, tree and report size.

The attack: one root record includes the same 50 KB record 200 times, and that record holds
3,600 `a:` terms. Only ~210 queries are asked, but drawing every term of every include would
make 720,000 tree nodes (before the term cap: 29 s, 2.75 GB and a 511 MB JSON report).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mailauth_audit.options import Limits

INCLUDES = 200
A_TERMS = 3600
# One domain's JSON line (all checks) and its HTML page, worst case: the tree holds at most
# max_spf_terms nodes of ~300 JSON bytes plus max_spf_tree_chars of text; every finding's
# texts are clipped. Measured: ~0.6 MB for the line.
LINE_BOUND = 1_000_000
PAGE_BOUND = 2_000_000
MEMORY_LIMIT = 1 << 30  # address space of the auditing process; the attack needed 2.75 GB


def _quoted(text: str) -> str:
    """TXT RDATA in RFC 3597 generic form: nsd's zone reader takes at most 64 quoted
    strings per record, but one generic RDATA element of any length up to 65,535 bytes."""
    data = text.encode()
    wire = b"".join(
        bytes([len(c)]) + c for c in (data[i : i + 255] for i in range(0, len(data), 255))
    )
    return f"\\# {len(wire)} {wire.hex()}"


def hostile_zone(includes: int = INCLUDES, a_terms: int = A_TERMS) -> str:
    big = "v=spf1 " + " ".join(f"a:{i}.sb.test" for i in range(a_terms)) + " -all"
    root = "v=spf1 " + " ".join("include:b.sb.test" for _ in range(includes)) + " -all"
    return textwrap.dedent(
        f"""\
        $ORIGIN sb.test.
        $TTL 300
        @ IN SOA ns1 hostmaster 1 3600 600 86400 300
        @ IN NS ns1
        ns1 IN A 127.0.0.1
        @ IN TXT {_quoted(root)}
        b IN TXT {_quoted(big)}
        0 IN A 192.0.2.1
        """
    )


@pytest.fixture(scope="module")
def bomb_ns(nsd_session_server: Callable[..., tuple[str, int]]) -> str:
    zone = hostile_zone()
    assert len(zone) > 2 * 50_000  # the included record is over 50 KB (hex-encoded here)
    host, port = nsd_session_server({"sb.test": zone})
    return f"{host}:{port}"


_AUDIT = """
import asyncio, json, resource, sys, time, tracemalloc
from mailauth_audit.asyncapi import audit_domain
from mailauth_audit.options import AuditOptions
from mailauth_audit.report.serialize import domain_json_line

resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
tracemalloc.start()
start = time.monotonic()
options = AuditOptions(nameservers=({ns!r},), use_default_selectors=False)
report = asyncio.run(audit_domain("sb.test", options))
line = domain_json_line(report)
elapsed = time.monotonic() - start
peak = tracemalloc.get_traced_memory()[1]
json.dump({{"seconds": elapsed, "peak": peak, "line": len(line),
            "queries": report.dns_queries, "doc": json.loads(line)}}, sys.stdout)
"""


def _audit_in_child(ns: str, timeout: float = 120) -> dict[str, Any]:
    """Audit in a child process with its address space capped: a tree that grows without
    bound dies there (MemoryError) instead of taking the test machine with it."""
    code = _AUDIT.format(limit=MEMORY_LIMIT, ns=ns)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def _nodes(node: dict[str, Any]) -> int:
    return 1 + sum(_nodes(c) for c in node["children"])


def test_one_record_included_200_times_is_drawn_within_the_term_cap(bomb_ns: str) -> None:
    out = _audit_in_child(bomb_ns)
    spf = out["doc"]["checks"]["spf"]
    tree = spf["result"]["tree"]
    limits = Limits()

    assert _nodes(tree) <= limits.max_spf_terms
    assert spf["result"]["complete"] is False
    codes = [f["code"] for f in spf["findings"]]
    assert "spf.tree_truncated" in codes
    truncated = next(f for f in spf["findings"] if f["code"] == "spf.tree_truncated")
    assert "not drawn" in truncated["detail"]
    # the terms not drawn are still counted: the count is a lower bound, far over 10
    assert spf["result"]["dns_lookups"] >= INCLUDES + limits.max_spf_terms
    assert "spf.lookup_limit_exceeded" in codes
    # the include that was drawn shows its record clipped, with a marker and its `all`
    first = tree["children"][0]
    assert first["status"] == "ok" and len(first["record"]) < 2 * limits.max_spf_text_chars
    assert "characters not shown" in first["record"] and first["record"].endswith(" -all")

    assert out["line"] < LINE_BOUND, out["line"]
    assert out["peak"] < 200 * 2**20, out["peak"]  # traced Python memory
    assert out["seconds"] < 30, out["seconds"]  # ~2 s unloaded (tracemalloc slows it)
    assert out["queries"] < 300
    for finding in out["doc"]["findings"]:
        assert len(json.dumps(finding)) < 8 * limits.max_spf_text_chars + 4096


def test_a_tiny_term_cap_still_counts_every_lookup_it_does_not_draw() -> None:
    """Pure: the cap cuts drawing, not counting; the root's own lookups stay exact."""
    import asyncio

    from mailauth_audit.checks.base import CheckContext, EvaluationContext
    from mailauth_audit.checks.spf import SpfCheck
    from mailauth_audit.options import AuditOptions
    from mailauth_audit.resolver.static import StaticResolver

    zone = hostile_zone(includes=5, a_terms=40)
    options = AuditOptions(limits=Limits(max_spf_terms=10))
    ctx = CheckContext(domain="sb.test", resolver=StaticResolver(zone), options=options)
    result = asyncio.run(SpfCheck().collect(ctx))
    assert result.tree is not None and not result.complete
    assert sum(1 for _ in result.tree.walk()) == 10
    assert result.tree.lookups == 5
    assert result.dns_lookups == 5 + 40  # the first include drawn in part, the rest counted
    findings = SpfCheck().evaluate(result, EvaluationContext(domain="sb.test", options=options))
    assert "spf.tree_truncated" in [f.code for f in findings]


def test_bulk_line_and_html_page_of_the_hostile_domain_are_bounded(
    bomb_ns: str, tmp_path: Path
) -> None:
    src = tmp_path / "list.txt"
    src.write_text("sb.test\n")
    out = tmp_path / "out"

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    proc = subprocess.run(
        [
            *(sys.executable, "-m", "mailauth_audit", "bulk", str(src), "-o", str(out)),
            *("--nameserver", bomb_ns, "--checks", "spf", "--no-progress", "--html-pages"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "NO_COLOR": "1"},
        preexec_fn=limit_memory,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = (out / "results.jsonl").read_bytes().splitlines()
    assert len(lines) == 1 and len(lines[0]) < LINE_BOUND, len(lines[0])
    doc = json.loads(lines[0])
    assert "spf.tree_truncated" in [f["code"] for f in doc["checks"]["spf"]["findings"]]
    pages = list(out.rglob("*.html"))
    assert pages
    for page in pages:
        assert page.stat().st_size < PAGE_BOUND, (page, page.stat().st_size)
