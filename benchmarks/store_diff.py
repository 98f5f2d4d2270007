"""`diff --run A --run B` of two large runs: two runs of COUNT domain-audits each, built
cheaply, then the diff timed (target: 100,000 domains in at most 10 s).

    python benchmarks/store_diff.py [--count 100000] [--changed 0.05]
        [--backend sqlite|postgresql|both] [--query-noise]

How the runs are built: TEMPLATES bench-zone domains (../shared/bench/gen_zone.py) are
audited once in this process (answers from the zone file, no network) into bulk results
lines; each line is then copied under COUNT new domain names (every occurrence of the
template's name replaced), and the copies are recorded through the store API
(Store.record_documents, the path `bulk --store` and `history import` take) as run A. Run B
holds the same documents except for a CHANGED share, whose copies come from another
template (other records, findings, grade): those are the domains the diff must report.
Then `mailauth-audit diff --run A --run B -f text|json|html -o FILE` is run as a user runs
it (a fresh process, so the figure includes start-up and rendering; text shows the first
StoreLimits.run_diff_details changed domains in detail, JSON and HTML every one), and
diff_runs() alone is timed too; wall and CPU seconds both (on a machine shared with other
work, wall time is mostly waiting). --query-noise adds run C, run B with every query count
one higher, as two live runs differ: no unchanged domain shares a blob with run A.

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
    templates: list[tuple[str, str]], count: int, changed: set[int], shift: int, noise: int = 0
) -> Iterator[dict[str, object]]:
    for i in range(count):
        t = i % len(templates)
        if i in changed:
            t = (t + shift) % len(templates)
        name, line = templates[t]
        doc = json.loads(line.replace(name, f"n{i:06d}.bench"))
        if noise and isinstance(doc.get("dns_queries"), int):
            doc["dns_queries"] += noise  # another run's cache: same report, another count
        yield doc


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


def cli(url: str, runs: tuple[int, int], fmt: str, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of `mailauth-audit diff --run A --run B -f FMT -o OUT`."""
    start, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    command = ["diff", "--run", str(runs[0]), "--run", str(runs[1]), "--store", url]
    subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *command, "-f", fmt, "-o", str(out)],
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - children.ru_utime + after.ru_stime - children.ru_stime


def timed_diff(url: str, runs: tuple[int, int], label: str, work: Path) -> None:
    store = open_store(url)
    start, cpu = time.perf_counter(), time.process_time()
    d = diff_runs(store, *runs)
    api_s, api_cpu = time.perf_counter() - start, time.process_time() - cpu
    store.close()
    print(
        f"  {label}: {len(d.changes):,} changed ({d.worse:,} worse, {d.better:,} better), "
        f"{d.unchanged:,} unchanged; diff_runs (every diff read) {api_s:.1f} s "
        f"({api_cpu:.1f} s CPU)",
        flush=True,
    )
    for fmt in ("text", "json", "html"):
        wall, cpu_s = cli(url, runs, fmt, work / f"diff.{fmt}")
        size = (work / f"diff.{fmt}").stat().st_size
        print(
            f"    diff --run {runs[0]} --run {runs[1]} -f {fmt:<4}: {wall:5.1f} s "
            f"({cpu_s:.1f} s CPU), {size / 1e6:.1f} MB",
            flush=True,
        )


def measure(backend: str, url: str, a: argparse.Namespace, templates, work: Path) -> None:  # type: ignore[no-untyped-def]
    store = open_store(url)
    rng = random.Random(13)
    changed = set(rng.sample(range(a.count), int(a.count * a.changed)))
    run_a, rec_a = record_run(store, copies(templates, a.count, set(), 0), f"{backend}-a")
    run_b, rec_b = record_run(store, copies(templates, a.count, changed, 7), f"{backend}-b")
    run_c = None
    if a.query_noise:
        noisy = copies(templates, a.count, changed, 7, noise=1)
        run_c, _ = record_run(store, noisy, f"{backend}-c")
    store.close()
    print(
        f"{backend}: 2 x {a.count:,} domain-audits (recorded in {rec_a:.0f} s and {rec_b:.0f} s;"
        f" the database server's CPU not counted); target <= 10 s",
        flush=True,
    )
    timed_diff(url, (run_a, run_b), "A -> B (unchanged domains share blobs)", work)
    if run_c is not None:
        timed_diff(url, (run_a, run_c), "A -> C (B with every query count + 1)", work)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--changed", type=float, default=0.05, help="share of domains changed")
    ap.add_argument("--templates", type=int, default=300)
    ap.add_argument("--data", type=Path, help="a gen_zone.py folder (default: generate)")
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument(
        "--query-noise",
        action="store_true",
        help="also record run C: run B with every domain's query count one higher (as two "
        "live runs differ: no unchanged domain shares a blob), and diff A with C",
    )
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
