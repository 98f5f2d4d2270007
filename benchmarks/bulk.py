"""Bulk audit benchmark: `mailauth-audit bulk` vs checkdmarc on the same generated zone.

    python benchmarks/bulk.py --count 10000 --runs 3            # the README figures
    python benchmarks/bulk.py --count 100000 --runs 1 --checkdmarc-count 0   # memory at 100k
    python benchmarks/bulk.py --count 10000 --runs 1 --root ../base   # another checkout's code
    python benchmarks/bulk.py --count 10000 --runs 1 --probe-fleet 20  # STARTTLS probes

With --probe-fleet N the zone's MX records are rewritten to N fleet hosts on 127.0.0.101..
served by N aiosmtpd servers with STARTTLS (benchmarks/probe_fleet.py); each run is then
made twice, with --no-probes and with probes (--allow-private-targets --smtp-port
--ca-file, one process: the probe cache is per process), and the probes made, the addresses
contacted and the cache hit rate are printed.

What it does (everything on loopback; nothing leaves the machine):
1. generates a zone of COUNT domains with ../shared/bench/gen_zone.py (unless --data has one),
2. serves it with ../shared/bench/serve.sh (nsd on 127.0.0.1:PORT) and stops it at the end,
3. runs `mailauth-audit bulk` RUNS times as a user would (a fresh process each time), and
   checkdmarc on the first --checkdmarc-count domains with ../shared/bench/cd_bench.py,
4. prints domains/s, CPU ms per domain (user+sys of the whole process tree), DNS queries per
   domain (our own count and the server's), peak RSS (the sum over the process tree, sampled
   every 20 ms), medians over the runs, and the ratio to checkdmarc,
5. checks a sample of our results against the generator's truth.jsonl (DMARC policy, DKIM
   key sizes, SPF over the lookup limit).

The machine is shared and noisy: compare figures from the same invocation, and prefer the
medians.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(os.environ.get("BENCH_DIR", ROOT.parent / "shared" / "bench"))
LINE_TARGET = 4096  # bytes per domain of a plain results line, default checks (issue 10)


def sh(*args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    res = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if check and res.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{res.stdout}\n{res.stderr}")
    return res.stdout


def server_queries(env: dict[str, str]) -> int | None:
    out = sh("bash", str(BENCH / "serve.sh"), "stats", env=env, check=False)
    m = re.search(r"^num\.queries=(\d+)", out, re.M)
    return int(m.group(1)) if m else None


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            m = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            total += int(m.group(1)) if m else 0
            for task in Path(f"/proc/{p}/task").iterdir():
                kids = (task / "children").read_text().split()
                stack.extend(int(k) for k in kids)
        except (OSError, ValueError):
            continue
    return total


def run_ours(
    domains: Path,
    port: int,
    processes: int,
    extra: list[str],
    env: dict[str, str],
    root: Path = ROOT,
) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    cmd = [
        sys.executable,
        "-m",
        "mailauth_audit",
        "bulk",
        str(domains),
        "-o",
        str(out),
        "--nameserver",
        f"127.0.0.1:{port}",
        "--processes",
        str(processes),
        "--no-progress",
        *extra,
    ]
    q0 = server_queries(env)
    before = os.times()
    t0 = time.perf_counter()
    # `python -m` imports from the working directory first: run in the checkout measured
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kb(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    after = os.times()
    q1 = server_queries(env)
    if proc.returncode not in (0, 3):
        raise SystemExit(f"bulk failed ({proc.returncode}):\n{err}")
    summary = json.loads((out / "summary.json").read_text())
    n = summary["domains"]
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    result = {
        "domains": n,
        "wall_s": round(wall, 2),
        "domains_per_s": round(n / wall, 1),
        "cpu_ms_per_domain": round(1000 * cpu / n, 3),
        "queries_per_domain": round(summary["dns_queries"] / n, 2),
        "server_queries_per_domain": round((q1 - q0) / n, 2) if q0 is not None and q1 else None,
        "peak_rss_mb": round(peak / 1024, 1),
        "domains_with_errors": summary["domains_with_errors"],
        "results_bytes_per_domain": round(results_bytes(out) / n, 1),
        **line_bytes(out, n),
        "out": str(out),
    }
    return result


def results_bytes(out: Path) -> int:
    """Size of the results file as written (compressed when --compress was given)."""
    for name in ("results.jsonl", "results.jsonl.gz", "results.jsonl.zst"):
        if (out / name).exists():
            return (out / name).stat().st_size
    return 0


def line_bytes(out: Path, n: int) -> dict[str, float | None]:
    """Bytes per domain of the results lines as written plain, with gzip and with zstd (the
    levels `bulk --compress` uses), whatever --compress this run was given."""
    raw = b"".join(_open_results(out, binary=True))
    figures: dict[str, float | None] = {
        "line_bytes_per_domain": round(len(raw) / n, 1),
        "line_gzip_bytes_per_domain": round(len(gzip.compress(raw, 6, mtime=0)) / n, 1),
        "line_zstd_bytes_per_domain": None,
        "line_format": json.loads(raw.split(b"\n", 1)[0]).get("line_format") if raw else None,
    }
    try:
        import zstandard
    except ImportError:
        return figures
    packed = zstandard.ZstdCompressor(level=10).compress(raw)  # bulk/folder.py ZSTD_LEVEL
    figures["line_zstd_bytes_per_domain"] = round(len(packed) / n, 1)
    return figures


def _open_results(out: Path, binary: bool = False) -> Any:
    if (out / "results.jsonl").exists():
        return open(out / "results.jsonl", "rb" if binary else "r")
    if (out / "results.jsonl.zst").exists():
        import io

        import zstandard

        data = (
            zstandard.ZstdDecompressor()
            .decompressobj()
            .decompress((out / "results.jsonl.zst").read_bytes())
        )
        return io.BytesIO(data) if binary else io.StringIO(data.decode())
    return gzip.open(out / "results.jsonl.gz", "rb" if binary else "rt")


def check_truth(out: Path, data: Path, sample: int) -> dict[str, Any]:
    """Agreement of our results with what the generator says it published."""
    truth = {}
    with (data / "truth.jsonl").open() as fh:
        for line in fh:
            t = json.loads(line)
            truth[t["domain"]] = t
    selectors = set(json.loads((data / "manifest.json").read_text())["selectors"])
    agree = {"dmarc_policy": [0, 0], "dkim_keys": [0, 0], "spf_over_limit": [0, 0]}
    mismatches: list[str] = []
    with _open_results(out) as fh:
        for k, line in enumerate(fh):
            if k >= sample:
                break
            doc = json.loads(line)
            t = truth.get(doc["domain"])
            if t is None or t.get("kind") != "domain" or doc["status"] != "completed":
                continue
            checks = doc["checks"]
            if t.get("dmarc") in ("none", "quarantine", "reject"):
                ok = (checks["dmarc"].get("result") or {}).get("policy") == t["dmarc"]
                agree["dmarc_policy"][0] += ok
                agree["dmarc_policy"][1] += 1
                if not ok:
                    mismatches.append(f"{doc['domain']} dmarc {t['dmarc']}")
            want = sorted(
                kind.split("+")[0]
                for sel, kind in t.get("dkim") or ()
                if sel in selectors and kind.split("+")[0] in ("rsa1024", "rsa2048", "ed25519")
            )
            got = sorted(
                f"{s['key_type']}{s['key_bits']}" if s["key_type"] == "rsa" else s["key_type"]
                for s in (checks["dkim"].get("result") or {}).get("selectors", ())
                # a line (format 4 and 5) leaves out false, null and zero values
                if s["status"] == "key"
                and s.get("key_bits")
                and not s.get("revoked")
                and not s.get("error")
            )
            if want:
                ok = want == got
                agree["dkim_keys"][0] += ok
                agree["dkim_keys"][1] += 1
                if not ok:
                    mismatches.append(f"{doc['domain']} dkim {want} vs {got}")
            # "ok" records with ESP includes may legitimately exceed 10 lookups (providers
            # nest deeply), so only provider-only "ok" records are expected within the limit
            if t.get("spf") == "too_many_lookups" or (t.get("spf") == "ok" and not t["spf_esps"]):
                over = (checks["spf"].get("result") or {}).get("dns_lookups", 0) > 10
                ok = over == (t["spf"] == "too_many_lookups")
                agree["spf_over_limit"][0] += ok
                agree["spf_over_limit"][1] += 1
                if not ok:
                    mismatches.append(f"{doc['domain']} spf {t['spf']}")
    return {k: f"{a}/{b}" for k, (a, b) in agree.items()} | {"mismatches": mismatches[:10]}


def run_checkdmarc(
    data: Path, count: int, port: int, procs: int, env: dict[str, str]
) -> dict[str, Any] | None:
    if count <= 0:
        return None
    out_file = Path(tempfile.mkdtemp(prefix="cd-bench-")) / "checkdmarc.jsonl"
    text = sh(
        sys.executable,
        str(BENCH / "cd_bench.py"),
        "--data",
        str(data),
        "--count",
        str(count),
        "--runs",
        "1",
        "--port",
        str(port),
        "--procs",
        str(procs),
        "--out",
        str(out_file),
        env=env,
    )
    return json.loads(text.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=10_000, help="domains in the generated zone")
    ap.add_argument("--data", type=Path, help="a gen_zone.py folder (default: generate)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--processes", type=int, default=2, help="our worker processes")
    ap.add_argument("--port", type=int, default=5300)
    ap.add_argument(
        "--checkdmarc-count",
        type=int,
        default=300,
        help="domains checkdmarc audits (it does ~22/s; 0 skips it)",
    )
    ap.add_argument("--truth-sample", type=int, default=2000)
    ap.add_argument("--keep", action="store_true", help="keep the report folders")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose code is measured")
    ap.add_argument(
        "--probe-fleet",
        type=int,
        default=0,
        metavar="N",
        help="the probe scenario: MX records pointed at N loopback STARTTLS servers",
    )
    ap.add_argument(
        "--store",
        choices=["sqlite", "postgresql"],
        default=None,
        help="the store scenario: runs with and without recording (benchmarks/bulk_store.py)",
    )
    ap.add_argument("extra", nargs="*", help="more options for `mailauth-audit bulk`")
    a = ap.parse_args()
    if a.probe_fleet:
        probe_scenario(a)
        return

    data = a.data or Path(tempfile.gettempdir()) / f"mailauth-bench-{a.count}"
    if not (data / "bench.zone").exists():
        print(f"generating {a.count} domains in {data}", flush=True)
        sh(sys.executable, str(BENCH / "gen_zone.py"), str(a.count), "--out", str(data))
    env = {**os.environ, "PORT": str(a.port)}
    status = sh("bash", str(BENCH / "serve.sh"), "status", env=env, check=False)
    if status.startswith("running"):
        raise SystemExit(
            f"a bench server already runs on port {a.port}: {status.strip()} "
            "(stop it with serve.sh stop, or pass --port)"
        )
    print(sh("bash", str(BENCH / "serve.sh"), "start", str(data), env=env).strip(), flush=True)
    if a.store:
        from bulk_store import store_scenario

        a.root = a.root.resolve()
        try:
            store_scenario(a, data, env, run_ours)
        finally:
            print(sh("bash", str(BENCH / "serve.sh"), "stop", env=env, check=False).strip())
        return
    try:
        runs = []
        for i in range(a.runs):
            r = run_ours(data / "domains.txt", a.port, a.processes, a.extra, env, a.root.resolve())
            runs.append(r)
            print(f"  ours run {i + 1}/{a.runs}: {json.dumps(r)}", flush=True)
        cd = run_checkdmarc(data, a.checkdmarc_count, a.port, 1, env)
        truth = check_truth(Path(runs[-1]["out"]), data, a.truth_sample)
    finally:
        print(sh("bash", str(BENCH / "serve.sh"), "stop", env=env, check=False).strip())
        if not a.keep:
            for r in runs:
                shutil.rmtree(r["out"], ignore_errors=True)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs if r[key] is not None)

    ours = {
        k: med(k)
        for k in (
            "domains_per_s",
            "cpu_ms_per_domain",
            "queries_per_domain",
            "server_queries_per_domain",
            "peak_rss_mb",
            "wall_s",
            "results_bytes_per_domain",
            "line_bytes_per_domain",
        )
    }
    print()
    print(
        f"mailauth-audit bulk, {runs[0]['domains']} domains, {a.processes} process(es), "
        f"median of {a.runs} runs:"
    )
    print(f"  domains/s               {ours['domains_per_s']:>10,.0f}   (target >= 1,000)")
    print(f"  CPU ms per domain       {ours['cpu_ms_per_domain']:>10.2f}")
    print(
        f"  DNS queries per domain  {ours['queries_per_domain']:>10.2f}   (server counted "
        f"{ours['server_queries_per_domain']}; target <= 15)"
    )
    print(f"  peak RSS (all procs)    {ours['peak_rss_mb']:>10.1f} MB")
    print(f"  results file bytes/domain {ours['results_bytes_per_domain']:>8,.0f}   (as written)")
    line, packed = ours["line_bytes_per_domain"], runs[-1]["line_gzip_bytes_per_domain"]
    zstd = runs[-1]["line_zstd_bytes_per_domain"]
    verdict = "met" if line <= LINE_TARGET else "NOT met"
    print(
        f"  line bytes/domain       {line:>10,.0f}   (line format {runs[-1]['line_format']}; "
        f"gzip {packed:,.0f}, zstd {'-' if zstd is None else f'{zstd:,.0f}'}; "
        f"target <= {LINE_TARGET:,} plain: {verdict})"
    )
    if cd is not None:
        print(f"checkdmarc {cd['checkdmarc']}, {cd['count']} domains, one process:")
        print(f"  domains/s               {cd['domains_per_s_median']:>10,.1f}")
        print(f"  CPU ms per domain       {cd['cpu_ms_per_domain_median']:>10.2f}")
        print(f"  DNS queries per domain  {cd['queries_per_domain_median']:>10.2f}")
        print(
            f"ratio (ours / checkdmarc): {ours['domains_per_s'] / cd['domains_per_s_median']:.1f}x"
            f" domains/s, {cd['cpu_ms_per_domain_median'] / ours['cpu_ms_per_domain']:.1f}x "
            f"less CPU, {cd['queries_per_domain_median'] / ours['queries_per_domain']:.1f}x "
            "fewer queries"
        )
    print(f"agreement with truth.jsonl (first {a.truth_sample} results): {json.dumps(truth)}")


def probe_scenario(a: argparse.Namespace) -> None:
    """Domains/s with and without probes, probes made, cache hit rate (module docstring)."""
    import socket

    from probe_fleet import Fleet, fleet_address, fleet_zone, probe_figures

    source = a.data or Path(tempfile.gettempdir()) / f"mailauth-bench-{a.count}"
    if not (source / "bench.zone").exists():
        print(f"generating {a.count} domains in {source}", flush=True)
        sh(sys.executable, str(BENCH / "gen_zone.py"), str(a.count), "--out", str(source))
    work = Path(tempfile.mkdtemp(prefix="probe-bench-"))
    data = fleet_zone(source, work / "data", a.probe_fleet)
    with socket.socket() as s:
        s.bind((fleet_address(0), 0))
        smtp_port = int(s.getsockname()[1])
    env = {**os.environ, "PORT": str(a.port)}
    print(sh("bash", str(BENCH / "serve.sh"), "start", str(data), env=env).strip(), flush=True)
    rows: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    try:
        with Fleet(a.probe_fleet, smtp_port, work) as fleet:
            probing = [
                "--allow-private-targets",
                "--smtp-port",
                str(smtp_port),
                "--ca-file",
                fleet.ca_file,
            ]
            for i in range(a.runs):
                # mx_identity is left out of both: its PTR questions are for 127.0.0.0/8,
                # which the bench's authoritative-only server refuses (could not check)
                checks = ["--checks", "mx,spf,dkim,dmarc,starttls"]
                for label, extra in (("no probes", ["--no-probes"]), ("probes", probing)):
                    extra = checks + extra
                    fleet.reset()
                    r = run_ours(data / "domains.txt", a.port, 1, extra + a.extra, env, a.root)
                    figures = probe_figures(Path(r["out"]), fleet) if label == "probes" else None
                    rows.append((label, r, figures))
                    print(f"  run {i + 1} {label}: {json.dumps(r)} {json.dumps(figures)}")
    finally:
        print(sh("bash", str(BENCH / "serve.sh"), "stop", env=env, check=False).strip())
        if not a.keep:
            for _, r, _ in rows:
                shutil.rmtree(r["out"], ignore_errors=True)
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"probe scenario: {rows[0][1]['domains']} domains, {a.probe_fleet} MX addresses")
    for label in ("no probes", "probes"):
        mine = [r for lab, r, _ in rows if lab == label]
        rate = statistics.median(r["domains_per_s"] for r in mine)
        print(f"  domains/s, {label:<10} {rate:>10,.0f}")
    figures = [f for lab, _, f in rows if lab == "probes" and f is not None][-1]
    print(
        f"  probes made per run     {figures['probes']:>10,}   (connections "
        f"{figures['connections']}: a probe and a TLS 1.1 attempt per address; distinct MX "
        f"addresses {a.probe_fleet}, contacted {figures['addresses_contacted']})"
    )
    print(
        f"  probe requests          {figures['probe_requests']:>10,}   (MX addresses of the "
        f"domains; cache hit rate {figures['cache_hit_rate']:.2%})"
    )
    print(f"  starttls outcomes       {json.dumps(figures['starttls_status'])}")


if __name__ == "__main__":
    main()
