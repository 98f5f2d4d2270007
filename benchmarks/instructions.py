"""Instructions per audited domain, counted by valgrind's callgrind: a figure that does not
move with the machine's load, for comparing two versions of the code.

    python benchmarks/instructions.py [--count 5000] [--domains 300] [--port 5302]
        [--root CHECKOUT] [--legacy-selectors] [--plain]

Wall-clock and CPU-time figures on a shared 2-core machine vary by ±20 % from one minute to
the next; instruction counts repeat to within a fraction of a percent. What is counted: the
bulk worker's in-process path (Auditor.audit_stream + make_item, as in `bulk`) over DOMAINS
domains of a generated zone served by nsd on loopback, minus the same run over 10 domains
(imports and start-up), divided by DOMAINS - 10. Kernel work (the sockets) is not counted.
Needs valgrind (Debian package `valgrind`). `--plain` runs the stock asyncio loop with the
default GC thresholds, which older versions of the code can be measured with too.
`--root` measures another checkout of the code with this same harness (e.g. the commit a
change started from). `--legacy-selectors` probes only the built-in DKIM selector list, as
versions before the date-style and provider selectors did: a like-for-like figure for the
per-domain code path. DNS queries per domain are counted by the server (nsd's own counters)
over an uninstrumented run of the same workload, so they hold for any version of the code.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(os.environ.get("BENCH_DIR", ROOT.parent / "shared" / "bench"))

WORKLOAD = """
import asyncio, dataclasses, sys
sys.path.insert(0, {root!r})
from mailauth_audit.bulk import runner
from mailauth_audit.options import AuditOptions, DEFAULT_DKIM_SELECTORS, Limits
# callgrind runs the code ~50 times slower: no DNS retry and no per-domain budget may fire
# (a domain cut short by its budget would count as cheaper), in any version of the code
have = {{f.name for f in dataclasses.fields(Limits)}}
slow = dict(dns_timeout=600.0, domain_timeout=36000.0)
limits = Limits(**{{k: v for k, v in slow.items() if k in have}})
domains = [line.strip() for line in open({domains!r}) if line.strip()][:{n}]
if {legacy}:  # the built-in list only: no provider or date-style selectors
    sel = dict(selectors=DEFAULT_DKIM_SELECTORS, use_default_selectors=False)
else:
    sel = {{}}
if {checks!r}:  # like for like with versions that had fewer checks
    from mailauth_audit.model import CheckId
    sel["checks"] = frozenset(CheckId(c) for c in {checks!r}.split(","))
async def main():
    auditor, resolver = runner._make_auditor(
        AuditOptions(nameservers=("127.0.0.1:{port}",), limits=limits, **sel), None, None)
    async for report in auditor.audit_stream(domains):
        runner.make_item(report)
    await resolver.aclose()
if {plain}:  # stock asyncio, default GC: comparable with versions that had neither
    asyncio.run(main())
else:  # as a bulk worker runs
    runner._tune_gc()
    runner._run_loop(main())
"""


def count(python: str, script: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", python, str(script)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )


def server_queries(env: dict[str, str]) -> int:
    out = subprocess.run(
        ["bash", str(BENCH / "serve.sh"), "stats"], env=env, capture_output=True, text=True
    ).stdout
    m = re.search(r"^num\.queries=(\d+)", out, re.M)
    if not m:
        raise SystemExit("no query count from the bench server (serve.sh stats)")
    return int(m.group(1))


def queries(python: str, script: Path, env: dict[str, str]) -> int:
    """DNS queries the server answered for one uninstrumented run of the workload."""
    before = server_queries(env)
    subprocess.run(
        [python, str(script)],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return server_queries(env) - before


def total(out: Path) -> int:
    m = re.search(r"^(?:summary|totals): (\d+)", out.read_text(errors="replace"), re.M)
    if not m:
        raise SystemExit(f"no instruction total in {out}")
    return int(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=5000, help="domains in the generated zone")
    ap.add_argument("--domains", type=int, default=300, help="domains audited under callgrind")
    ap.add_argument("--port", type=int, default=5302)
    ap.add_argument(
        "--plain",
        action="store_true",
        help="stock asyncio loop and default GC thresholds, not the bulk workers' settings",
    )
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose code is measured")
    ap.add_argument(
        "--legacy-selectors",
        action="store_true",
        help="probe only the built-in DKIM selector list (no provider or date-style names)",
    )
    ap.add_argument(
        "--checks",
        default="",
        help="comma-separated checks to run (default: all the measured code has); "
        "mx,spf,dkim,dmarc compares like for like with 0.1.0 and 0.2.0",
    )
    ap.add_argument(
        "--keep",
        type=Path,
        help="copy the callgrind outputs here (for callgrind_annotate --inclusive=yes)",
    )
    a = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    # the real interpreter, not a wrapper script (valgrind would count the wrapper)
    python = os.path.realpath(sys.executable)
    data = Path(tempfile.gettempdir()) / f"mailauth-bench-{a.count}"
    if not (data / "bench.zone").exists():
        subprocess.run(
            [sys.executable, str(BENCH / "gen_zone.py"), str(a.count), "--out", str(data)],
            check=True,
        )
    env = {**os.environ, "PORT": str(a.port)}
    subprocess.run(["bash", str(BENCH / "serve.sh"), "start", str(data)], check=True, env=env)
    work = Path(tempfile.mkdtemp(prefix="mailauth-callgrind-"))
    try:
        sizes = (10, a.domains + 10)
        for n in sizes:
            (work / f"audit{n}.py").write_text(
                WORKLOAD.format(
                    root=str(a.root.resolve()),
                    domains=str(data / "domains.txt"),
                    n=n,
                    port=a.port,
                    plain=a.plain,
                    legacy=a.legacy_selectors,
                    checks=a.checks,
                )
            )
        # first, alone on the server: the same workloads uninstrumented, counted by nsd
        asked = {n: queries(python, work / f"audit{n}.py", env) for n in sizes}
        procs = []
        for n in sizes:
            out = work / f"callgrind.{n}.out"
            procs.append((n, out, count(python, work / f"audit{n}.py", out)))
        totals = {}
        for n, out, proc in procs:
            _, err = proc.communicate()
            if proc.returncode != 0:
                raise SystemExit(f"valgrind failed:\n{err[-2000:]}")
            totals[n] = total(out)
            if a.keep:
                a.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(out, a.keep / out.name)
    finally:
        subprocess.run(["bash", str(BENCH / "serve.sh"), "stop"], env=env, check=False)
        shutil.rmtree(work, ignore_errors=True)
    base, big = totals[10], totals[a.domains + 10]
    per_domain = (big - base) / a.domains
    per_query = (asked[a.domains + 10] - asked[10]) / a.domains
    print(
        f"instructions per domain: {per_domain / 1e6:.2f} M  ({a.domains} domains; "
        f"start-up and 10 domains: {base / 1e6:.0f} M)  root={a.root.resolve()}"
        f"{'  legacy selectors' if a.legacy_selectors else ''}"
        f"{f'  checks {a.checks}' if a.checks else ''}"
    )
    print(f"DNS queries per domain (server-counted): {per_query:.2f}")


if __name__ == "__main__":
    main()
