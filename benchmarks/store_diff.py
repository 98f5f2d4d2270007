"""`diff --run A --run B` of two large runs: two runs of COUNT domain-audits each, built
cheaply, then the diff timed (target: 100,000 domains in at most 10 s).

    python benchmarks/store_diff.py [--count 100000] [--changed 0.05]
        [--backend sqlite|postgresql|both]

How the runs are built: TEMPLATES bench-zone domains (../shared/bench/gen_zone.py) are
audited once in this process (answers from the zone file, no network) into bulk results
lines; each line is then copied under COUNT new domain names (every occurrence of the
template's name replaced), and the copies are recorded through the store API
(Store.record_documents, the path `bulk --store` and `history import` take) as run A. Run B
holds the same documents except for a CHANGED share, whose copies come from another
template (other records, findings, grade): those are the domains the diff must report.
Then `mailauth-audit diff --run A --run B -f json -o FILE` is run as a user runs it (a fresh
process, so the figure includes start-up and rendering), and diff_runs() alone is timed too;
wall and CPU seconds both (on a machine shared with other work, wall time is mostly waiting).

PostgreSQL: a throwaway server started like the tests do (tests/store/pgserver.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "store"))
BENCH = Path(os.environ.get("BENCH_DIR", ROOT.parent / "shared" / "bench"))

from mailauth_audit.bulk.inputs import read_entries  # noqa: E402
from mailauth_audit.bulk.runner import BulkConfig, run_bulk  # noqa: E402
from mailauth_audit.resolver.static import StaticResolver  # noqa: E402
from mailauth_audit.store.record import RunInfo  # noqa: E402
from mailauth_audit.store.rundiff import diff_runs  # noqa: E402
from mailauth_audit.store.store import Store, open_store  # noqa: E402

BATCH = 1000  # documents per transaction, as `history import` records them


def template_lines(data: Path, count: int, work: Path) -> list[tuple[str, str]]:
    """(domain, results line) of the first `count` bench domains, audited in-process."""
    zone = (data / "bench.zone").read_text()
    domains = (data / "domains.txt").read_text().split()[:count]
    entries, _ = read_entries([d + "\n" for d in domains])
    out = work / "templates"
    run_bulk(
        entries,
        BulkConfig(output_dir=out, progress=False, resolver_factory=lambda: StaticResolver(zone)),
    )
    lines = []
    for line in (out / "results.jsonl").read_text().splitlines():
        doc = json.loads(line)
        if doc.get("status") == "completed":
            lines.append((doc["domain"], line))
    return lines


def copies(
    templates: list[tuple[str, str]], count: int, changed: set[int], shift: int
) -> Iterator[dict[str, object]]:
    for i in range(count):
        t = i % len(templates)
        if i in changed:
            t = (t + shift) % len(templates)
        name, line = templates[t]
        yield json.loads(line.replace(name, f"n{i:06d}.bench"))


def record_run(store: Store, docs: Iterator[dict[str, object]], label: str) -> tuple[int, float]:
    start = time.perf_counter()
    run_id, started = store.start_run(
        RunInfo("import", time.strftime("%Y-%m-%dT%H:%M:%SZ"), "bench", run_key=label)
    )
    batch: list[dict[str, object]] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) == BATCH:
            store.record_documents(run_id, started, batch)
            batch = []
    if batch:
        store.record_documents(run_id, started, batch)
    store.finish_run(run_id)
    return run_id, time.perf_counter() - start


def measure(backend: str, url: str, a: argparse.Namespace, templates, work: Path) -> None:  # type: ignore[no-untyped-def]
    store = open_store(url)
    rng = random.Random(13)
    changed = set(rng.sample(range(a.count), int(a.count * a.changed)))
    run_a, rec_a = record_run(store, copies(templates, a.count, set(), 0), f"{backend}-a")
    run_b, rec_b = record_run(store, copies(templates, a.count, changed, 7), f"{backend}-b")
    start, cpu = time.perf_counter(), time.process_time()
    d = diff_runs(store, run_a, run_b)
    api_s, api_cpu = time.perf_counter() - start, time.process_time() - cpu
    store.close()
    out = work / f"diff-{backend}.json"
    start, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mailauth_audit",
            "diff",
            "--run",
            str(run_a),
            "--run",
            str(run_b),
            "--store",
            url,
            "-f",
            "json",
            "-o",
            str(out),
        ],
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
    )
    cli_s = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cli_cpu = after.ru_utime - children.ru_utime + after.ru_stime - children.ru_stime
    print(
        f"{backend:<10} 2 x {a.count:,} domain-audits (recorded in {rec_a:.0f} s and "
        f"{rec_b:.0f} s): diff --run A --run B {cli_s:.1f} s as a command "
        f"({cli_cpu:.1f} s CPU; the database server's not counted), diff_runs {api_s:.1f} s "
        f"({api_cpu:.1f} s CPU); target <= 10 s; {len(d.changes):,} changed "
        f"({d.worse:,} worse, {d.better:,} better), {d.unchanged:,} unchanged",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--changed", type=float, default=0.05, help="share of domains changed")
    ap.add_argument("--templates", type=int, default=300)
    ap.add_argument("--data", type=Path, help="a gen_zone.py folder (default: generate)")
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="store-diff-"))
    server = None
    try:
        data = a.data or work / "data"
        if not (data / "bench.zone").exists():
            subprocess.run(
                [sys.executable, str(BENCH / "gen_zone.py"), str(a.templates), "--out", str(data)],
                check=True,
                capture_output=True,
            )
        templates = template_lines(data, a.templates, work)
        if a.backend in ("sqlite", "both"):
            measure("sqlite", str(work / "audits.db"), a, templates, work)
        if a.backend in ("postgresql", "both"):
            from pgserver import PostgresServer

            server = PostgresServer().start()
            measure("postgresql", server.new_database(), a, templates, work)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
