#!/usr/bin/env python3
"""How many queries/s, and how much CPU per query, each DNS client costs us.

    python benchmarks/resolver.py [--domains 2000] [--queries 20000] [--concurrency 200]
                                  [--runs 3] [--port 5300] [--bench-dir DIR]

Generates a realistic zone with the shared bench's gen_zone.py into a temporary folder,
serves it with its serve.sh (nsd on 127.0.0.1:PORT, its own pid file; stopped at the end),
then replays the zone's queries.txt (the questions an ideal auditor asks) through:

  dnspython   dns.asyncquery.udp + dns.message.from_wire (what DnspythonResolver would cost)
  aiodns      c-ares through aiodns (skipped when not installed)
  wire        mailauth_audit's WireResolver (full parse into Answer, CNAME chains followed)
  caching     CachingResolver(WireResolver): the same, plus the run-wide cache bookkeeping

each with CONCURRENCY queries in flight, and prints queries/s and CPU microseconds per query
(process CPU time, user + system; the server runs in another process). Only loopback.
The bench folder defaults to $BENCH_DIR, else ../shared/bench beside the repository.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailauth_audit.options import Limits
from mailauth_audit.resolver.base import RRType
from mailauth_audit.resolver.caching import CachingResolver
from mailauth_audit.resolver.wire import WireResolver

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(os.environ.get("BENCH_DIR", ROOT.parent / "shared" / "bench"))

Query = tuple[str, str]


def load_queries(path: Path, limit: int) -> list[Query]:
    out: list[Query] = []
    with path.open() as f:
        for line in f:
            name, rdtype = line.split()
            if rdtype in RRType.__members__:
                out.append((name, rdtype))
            if len(out) >= limit:
                break
    return out


async def bounded(queries: list[Query], conc: int, one: Callable[[Query], Awaitable[bool]]) -> int:
    """Run `one` over queries with `conc` workers; return how many failed."""
    it = iter(queries)
    errors = 0

    async def worker() -> None:
        nonlocal errors
        for q in it:
            if not await one(q):
                errors += 1

    await asyncio.gather(*(worker() for _ in range(conc)))
    return errors


async def run_dnspython(queries: list[Query], port: int, conc: int) -> int:
    import dns.asyncquery
    import dns.flags
    import dns.message

    async def one(q: Query) -> bool:
        msg = dns.message.make_query(q[0], q[1], use_edns=0, payload=1232)
        try:
            reply = await dns.asyncquery.udp(msg, "127.0.0.1", port=port, timeout=2.0)
            if reply.flags & dns.flags.TC:
                await dns.asyncquery.tcp(msg, "127.0.0.1", port=port, timeout=2.0)
        except Exception:
            return False
        return True

    return await bounded(queries, conc, one)


async def run_aiodns(queries: list[Query], port: int, conc: int) -> int:
    import aiodns

    resolver = aiodns.DNSResolver(nameservers=[f"127.0.0.1:{port}"], timeout=2.0, tries=1)

    async def one(q: Query) -> bool:
        try:
            await resolver.query_dns(q[0], q[1])
        except aiodns.error.DNSError as exc:
            # ARES_ENODATA (1) and ARES_ENOTFOUND (4) are answers, not failures
            return bool(exc.args) and exc.args[0] in (1, 4)
        return True

    try:
        return await bounded(queries, conc, one)
    finally:
        resolver.cancel()


async def run_wire(queries: list[Query], port: int, conc: int, cache: bool = False) -> int:
    limits = Limits(dns_timeout=2.0, dns_attempts=1, max_dns_in_flight=max(conc, 1))
    wire = WireResolver([("127.0.0.1", port)], limits=limits)
    resolver = CachingResolver(wire) if cache else wire

    async def one(q: Query) -> bool:
        try:
            await resolver.resolve(q[0], RRType[q[1]])
        except Exception:
            return False
        return True

    try:
        return await bounded(queries, conc, one)
    finally:
        await resolver.aclose()


CLIENTS: dict[str, Callable[[list[Query], int, int], Awaitable[int]]] = {
    "dnspython": run_dnspython,
    "aiodns": run_aiodns,
    "wire": run_wire,
    "caching": lambda qs, port, conc: run_wire(qs, port, conc, cache=True),
}


def measure(name: str, queries: list[Query], port: int, conc: int) -> dict[str, float]:
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    errors = asyncio.run(CLIENTS[name](queries, port, conc))
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return {"qps": len(queries) / wall, "cpu_us": 1e6 * cpu / len(queries), "errors": errors}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--domains", type=int, default=2000)
    ap.add_argument("--queries", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--port", type=int, default=5300)
    ap.add_argument("--bench-dir", default=str(BENCH))
    ap.add_argument("--clients", default=",".join(CLIENTS))
    a = ap.parse_args()
    bench = Path(a.bench_dir)
    clients = [c for c in a.clients.split(",") if c]
    if "aiodns" in clients:
        try:
            import aiodns  # noqa: F401
        except ImportError:
            print("aiodns not installed: skipped", file=sys.stderr)
            clients.remove("aiodns")
    with tempfile.TemporaryDirectory(prefix="resolver-bench-") as tmp:
        data = Path(tmp) / "data"
        subprocess.run(
            [sys.executable, str(bench / "gen_zone.py"), str(a.domains), "--out", str(data)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        env = {**os.environ, "PORT": str(a.port), "STATE": str(Path(tmp) / "state")}
        serve = ["bash", str(bench / "serve.sh")]
        subprocess.run([*serve, "start", str(data)], check=True, env=env)
        try:
            queries = load_queries(data / "queries.txt", a.queries)
            print(
                f"{len(queries)} queries from {a.domains} domains, "
                f"{a.concurrency} in flight, {a.runs} runs (median)"
            )
            print(f"{'client':<10} {'queries/s':>10} {'CPU us/query':>13} {'errors':>7}")
            for name in clients:
                runs = [measure(name, queries, a.port, a.concurrency) for _ in range(a.runs)]
                qps = statistics.median(r["qps"] for r in runs)
                cpu = statistics.median(r["cpu_us"] for r in runs)
                errors = max(int(r["errors"]) for r in runs)
                print(f"{name:<10} {qps:>10,.0f} {cpu:>13.1f} {errors:>7}", flush=True)
        finally:
            subprocess.run([*serve, "stop"], env=env, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
