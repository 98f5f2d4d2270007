"""The probe scenario of benchmarks/bulk.py: the bench zone's domains pointed at a loopback
fleet of STARTTLS-capable MX servers, audited with and without probes.

- `fleet_zone(data, out, size)`: a copy of the generated zone whose every MX record (except
  null MX) names one of `size` fleet hosts mxNN.fleet.bench (chosen by a hash of the owner,
  so a domain keeps its hosts), each with one address 127.0.0.(101+NN);
- `Fleet(size, port)`: that many aiosmtpd servers with STARTTLS (a trustme CA; its PEM file
  is passed to the audit with --ca-file), one per address, all on one port, counting the
  connections each accepts;
- `probe_figures(out, fleet)`: probes made (from the servers' side), distinct addresses
  contacted, probe requests (the per-domain MX addresses in results.jsonl) and the cache hit
  rate.

A run with probes makes two connections per fleet address: the probe and one handshake
offering at most TLS 1.1 (refused by these servers). Everything stays on 127.0.0.0/8.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import ssl
import threading
import zlib
from pathlib import Path
from typing import Any

FLEET_DOMAIN = "fleet.bench."
_MX_LINE = re.compile(
    r"^(?P<owner>\S+)(?P<mid>\s+\d+\s+IN\s+MX\s+)(?P<pref>\d+)\s+(?P<target>\S+)\s*$"
)


def fleet_host(n: int) -> str:
    return f"mx{n:02d}.{FLEET_DOMAIN}"


def fleet_address(n: int) -> str:
    return f"127.0.0.{101 + n}"


def fleet_zone(data: Path, out: Path, size: int) -> Path:
    """A gen_zone.py folder in `out` with the MX records rewritten (see the module doc)."""
    out.mkdir(parents=True, exist_ok=True)
    seen: dict[str, int] = {}
    lines = []
    for line in (data / "bench.zone").read_text().splitlines():
        m = _MX_LINE.match(line)
        if m and m["target"] != ".":
            owner = m["owner"].lower()
            k = seen.get(owner, 0)
            seen[owner] = k + 1
            n = (zlib.crc32(owner.encode()) + k) % size
            line = f"{m['owner']}{m['mid']}{m['pref']} {fleet_host(n)}"
        lines.append(line)
    for n in range(size):
        lines.append(f"{fleet_host(n)}\t3600\tIN\tA\t{fleet_address(n)}")
    (out / "bench.zone").write_text("\n".join(lines) + "\n")
    for name in ("domains.txt", "truth.jsonl", "manifest.json"):
        if (data / name).exists():
            (out / name).write_bytes((data / name).read_bytes())
    return out


class Fleet:
    """`size` aiosmtpd servers with STARTTLS on 127.0.0.101.. and one port."""

    def __init__(self, size: int, port: int, folder: Path) -> None:
        import trustme
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP

        # a refused TLS 1.1 attempt is expected here: aiosmtpd would log a traceback for each
        logging.getLogger("mail.log").setLevel(logging.CRITICAL)
        self.size, self.port = size, port
        self.connections = [0] * size
        self._lock = threading.Lock()
        ca = trustme.CA()
        self.ca_file = str(folder / "fleet-ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        fleet = self

        class _Sink:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                return "250 OK"

        class _Counted(SMTP):  # type: ignore[misc]
            def __init__(self, index: int, *args: Any, **kwargs: Any) -> None:
                with fleet._lock:
                    fleet.connections[index] += 1
                super().__init__(*args, **kwargs)

        class _Controller(Controller):  # type: ignore[misc]
            def __init__(self, index: int, *args: Any, **kwargs: Any) -> None:
                self.index = index
                super().__init__(*args, **kwargs)

            def factory(self) -> SMTP:
                return _Counted(self.index, self.handler, **self.SMTP_kwargs)

        self._controllers = []
        for n in range(size):
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert(fleet_host(n).rstrip(".")).configure_cert(ctx)
            c = _Controller(
                n,
                _Sink(),
                hostname=fleet_address(n),
                port=port,
                tls_context=ctx,
                ident=fleet_host(n).rstrip("."),
            )
            self._controllers.append(c)

    def __enter__(self) -> Fleet:
        for c in self._controllers:
            c.start()
        self.reset()  # each controller's own start-up check connected once
        return self

    def __exit__(self, *exc: object) -> None:
        for c in self._controllers:
            c.stop()

    def reset(self) -> None:
        with self._lock:
            self.connections = [0] * self.size


def _results(out: Path) -> Any:
    plain = out / "results.jsonl"
    opener = open if plain.exists() else gzip.open
    return opener(plain if plain.exists() else out / "results.jsonl.gz", "rt")


def probe_figures(out: Path, fleet: Fleet) -> dict[str, Any]:
    requests = 0
    statuses: dict[str, int] = {}
    with _results(out) as fh:
        for line in fh:
            doc = json.loads(line)
            check = (doc.get("checks") or {}).get("starttls") or {}
            statuses[check.get("status", "?")] = statuses.get(check.get("status", "?"), 0) + 1
            for host in (check.get("result") or {}).get("hosts", ()):
                requests += sum(1 for a in host["addresses"] if not a.get("not_probed"))
    connections = sum(fleet.connections)
    probes = connections // 2  # a probe and a TLS 1.1 attempt per (host, address)
    return {
        "connections": connections,
        "probes": probes,
        "addresses_contacted": sum(1 for c in fleet.connections if c),
        "probe_requests": requests,
        "cache_hit_rate": round(1 - probes / requests, 4) if requests else None,
        "starttls_status": statuses,
    }
