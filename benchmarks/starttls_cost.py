"""What one MX costs to test: the stdlib-ssl prober the starttls check uses, against sslyze.

    python benchmarks/starttls_cost.py --repeat 20
    python benchmarks/starttls_cost.py --sslyze-python /path/to/venv/bin/python   # with sslyze

One aiosmtpd with STARTTLS on 127.0.0.101 (a trustme certificate) counts the connections it
accepts. The stdlib side is `AsyncSmtpProber` (banner, EHLO, STARTTLS, handshake, chain)
plus the second probe capped at TLS 1.1, as the check runs them, uncached. The sslyze side
(run with a Python that has sslyze installed, e.g. a venv: its pins on `cryptography` may
not match ours) scans the same server with SMTP STARTTLS for what the check reports:
certificate_info, the TLS 1.0/1.1/1.2/1.3 cipher suites and elliptic_curves. Printed per MX:
wall seconds, CPU seconds of the measuring process, and TCP connections made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from probe_fleet import Fleet, fleet_address, fleet_host  # noqa: E402

SSLYZE_SCAN = r"""
import json, sys, time, resource
from sslyze import (Scanner, ServerScanRequest, ServerNetworkLocation, ScanCommand,
                    ServerNetworkConfiguration, ProtocolWithOpportunisticTlsEnum)
host, address, port, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
commands = {ScanCommand.CERTIFICATE_INFO, ScanCommand.TLS_1_0_CIPHER_SUITES,
            ScanCommand.TLS_1_1_CIPHER_SUITES, ScanCommand.TLS_1_2_CIPHER_SUITES,
            ScanCommand.TLS_1_3_CIPHER_SUITES, ScanCommand.ELLIPTIC_CURVES}
walls, cpus = [], []
for _ in range(repeat):
    r0 = resource.getrusage(resource.RUSAGE_SELF); t0 = time.perf_counter()
    scanner = Scanner()
    scanner.queue_scans([ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=host, port=port, ip_address=address),
        network_configuration=ServerNetworkConfiguration(
            tls_server_name_indication=host,
            tls_opportunistic_encryption=ProtocolWithOpportunisticTlsEnum.SMTP),
        scan_commands=commands)])
    for result in scanner.get_results():
        assert result.scan_result is not None, result.connectivity_error_trace
    walls.append(time.perf_counter() - t0)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpus.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
print(json.dumps({"walls": walls, "cpus": cpus}))
"""


async def _stdlib(
    address: str, host: str, port: int, repeat: int
) -> tuple[list[float], list[float]]:
    import ssl

    from mailauth_audit.errors import ProbeTlsHandshakeFailed
    from mailauth_audit.options import ProbeLimits
    from mailauth_audit.probes import AsyncSmtpProber

    walls, cpus = [], []
    for _ in range(repeat):
        main = AsyncSmtpProber(ProbeLimits(), ca_file=None)
        legacy = AsyncSmtpProber(ProbeLimits(), max_tls_version=ssl.TLSVersion.TLSv1_1)
        c0, t0 = time.process_time(), time.perf_counter()
        result = await main.probe(host, address, port)
        assert result.tls is not None
        with contextlib.suppress(ProbeTlsHandshakeFailed):
            await legacy.probe(host, address, port)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return walls, cpus


def _line(name: str, walls: list[float], cpus: list[float], connections: int, n: int) -> str:
    return (
        f"  {name:<8} wall {statistics.median(walls) * 1000:8.1f} ms   CPU "
        f"{statistics.median(cpus) * 1000:8.1f} ms   connections {connections / n:6.1f}  per MX"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--sslyze-python", help="a Python interpreter with sslyze installed")
    a = ap.parse_args()
    import socket

    with socket.socket() as s:
        s.bind((fleet_address(0), 0))
        port = int(s.getsockname()[1])
    host, address = fleet_host(0).rstrip("."), fleet_address(0)
    with tempfile.TemporaryDirectory() as tmp, Fleet(1, port, Path(tmp)) as fleet:
        walls, cpus = asyncio.run(_stdlib(address, host, port, a.repeat))
        stdlib = _line("stdlib", walls, cpus, fleet.connections[0], a.repeat)
        print(f"one MX on {address}:{port}, {a.repeat} repetitions (medians):")
        print(stdlib)
        if a.sslyze_python:
            fleet.reset()
            out = subprocess.run(
                [a.sslyze_python, "-c", SSLYZE_SCAN, host, address, str(port), str(a.repeat)],
                capture_output=True,
                text=True,
                check=True,
                env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
            )
            got = json.loads(out.stdout.strip().splitlines()[-1])
            print(_line("sslyze", got["walls"], got["cpus"], fleet.connections[0], a.repeat))


if __name__ == "__main__":
    main()
