"""What recording the TLS key-exchange group costs per MX, four ways.

    python benchmarks/tls_group_cost.py --repeat 20                      # aiosmtpd
    python benchmarks/tls_group_cost.py --repeat 20 --postfix            # Postfix (root)
    PYTHONPATH=.:/path/to/nassl python benchmarks/tls_group_cost.py      # with nassl modes

Modes, each as the starttls check would run it for one MX address (uncached, plus the second
probe capped at TLS 1.1 that the check always makes):

- `plain`: `AsyncSmtpProber` without the handshake observer (the probe before the group
  was recorded: no group).
- `stdlib`: `AsyncSmtpProber` as it is (it records the group from the handshake it made,
  where the ssl module lets it observe the ServerHello / ServerKeyExchange).
- `+nassl`: the same, then one more connection (banner, EHLO, STARTTLS) whose handshake is
  made by nassl's SslClient, in a thread, only to read `get_ephemeral_key()`.
- `nassl`: the STARTTLS probe made by nassl instead of the stdlib (in a thread: nassl's
  client drives a blocking socket), then the stdlib TLS 1.1 probe.

Printed per MX: wall and CPU milliseconds (medians), TCP connections, and the group each
mode reported, so that a difference between the clients shows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from mailauth_audit.errors import ProbeTlsHandshakeFailed  # noqa: E402
from mailauth_audit.options import ProbeLimits  # noqa: E402
from mailauth_audit.probes import AsyncSmtpProber  # noqa: E402
from mailauth_audit.probes.certs import TrustStore, summarize_certificate  # noqa: E402
from mailauth_audit.probes.handshake import HandshakeObserver  # noqa: E402

Target = tuple[str, str, int, Callable[[], int]]  # host, address, port, connections so far


def _reply(f: object) -> bytes:
    while True:
        line = f.readline()  # type: ignore[attr-defined]
        if not line or line[3:4] != b"-":
            return bytes(line)


def nassl_starttls(host: str, address: str, port: int, trust: TrustStore) -> tuple[str, str]:
    """(cipher, group) of a STARTTLS handshake made by nassl; the chain is judged as the
    stdlib probe judges it, so that both modes do the same work."""
    from nassl.ephemeral_key_info import DhEphemeralKeyInfo, EcDhEphemeralKeyInfo
    from nassl.ssl_client import OpenSslVerifyEnum, SslClient

    sock = socket.create_connection((address, port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as asyncio sets it
    f = sock.makefile("rb")
    _reply(f)
    sock.sendall(b"EHLO bench.invalid\r\n")
    _reply(f)
    sock.sendall(b"STARTTLS\r\n")
    assert _reply(f).startswith(b"220")
    client = SslClient(
        underlying_socket=sock, ssl_verify=OpenSslVerifyEnum.NONE, server_name_indication=host
    )
    try:
        client.do_handshake()
        chain = [ssl.PEM_cert_to_DER_cert(pem) for pem in client.get_received_chain()]
        trust.verify(tuple(chain))
        for der in chain:
            summarize_certificate(der)
        key = client.get_ephemeral_key()
        if isinstance(key, EcDhEphemeralKeyInfo):
            group = key.curve_name
        elif isinstance(key, DhEphemeralKeyInfo):
            group = f"DH {key.size}"
        else:
            group = "none"
        client.write(b"EHLO bench.invalid\r\n")
        client.read(4096)
        return client.get_current_cipher_name(), group
    finally:
        client.shutdown()


async def run_mode(
    mode: str, target: Target, repeat: int
) -> tuple[list[float], list[float], int, str]:
    host, address, port, connections = target
    walls, cpus = [], []
    before = connections()
    group = ""
    # one prober pair per run, as the Auditor has: the trust store is loaded once
    main = AsyncSmtpProber(ProbeLimits())
    legacy = AsyncSmtpProber(ProbeLimits(), max_tls_version=ssl.TLSVersion.TLSv1_1)
    trust = main.trust
    attach = HandshakeObserver.attach
    if mode == "plain":
        HandshakeObserver.attach = staticmethod(lambda ctx: None)  # type: ignore[method-assign]
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        if mode == "nassl":
            group = (await asyncio.to_thread(nassl_starttls, host, address, port, trust))[1]
        else:
            result = await main.probe(host, address, port)
            assert result.tls is not None
            group = str(result.tls.group)
            if mode == "+nassl":
                group += (
                    " / nassl "
                    + (await asyncio.to_thread(nassl_starttls, host, address, port, trust))[1]
                )
        with contextlib.suppress(ProbeTlsHandshakeFailed):
            await legacy.probe(host, address, port)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    HandshakeObserver.attach = attach  # type: ignore[method-assign]
    return walls, cpus, connections() - before, group


@contextlib.contextmanager
def aiosmtpd_target() -> Iterator[Target]:
    from probe_fleet import Fleet, fleet_address, fleet_host

    with socket.socket() as s:
        s.bind((fleet_address(0), 0))
        port = int(s.getsockname()[1])
    with tempfile.TemporaryDirectory() as tmp, Fleet(1, port, Path(tmp)) as fleet:
        yield fleet_host(0).rstrip("."), fleet_address(0), port, lambda: fleet.connections[0]


@contextlib.contextmanager
def postfix_target() -> Iterator[Target]:
    import trustme
    from mailservers import postfix_mx

    with postfix_mx(trustme.CA(), host="mx.example.test") as mx:
        log = mx.log

        def connections() -> int:  # smtpd logs one "connect from" per accepted connection
            return log.read_text(errors="replace").count(": connect from") if log.exists() else 0

        yield mx.host, mx.address, mx.port, connections


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--postfix", action="store_true", help="measure against Postfix (root)")
    ap.add_argument("--rounds", type=int, default=1, help="modes interleaved this many times")
    a = ap.parse_args()
    try:
        import nassl  # noqa: F401

        modes = ["plain", "stdlib", "+nassl", "nassl"]
    except ImportError:
        modes = ["plain", "stdlib"]
        print("nassl not importable: only the stdlib modes are measured")
    with postfix_target() if a.postfix else aiosmtpd_target() as target:
        print(
            f"{'Postfix' if a.postfix else 'aiosmtpd'} on {target[1]}:{target[2]}, "
            f"{a.rounds} x {a.repeat} repetitions (medians, per MX):"
        )
        figures: dict[str, tuple[list[float], list[float], int, str]] = {}
        for mode in modes:
            asyncio.run(run_mode(mode, target, 2))  # warm-up: imports, trust store
        for _ in range(a.rounds):  # interleaved, so that a change of load hits every mode
            for mode in modes:
                walls, cpus, conns, group = asyncio.run(run_mode(mode, target, a.repeat))
                w, c, n, _g = figures.get(mode, ([], [], 0, ""))
                figures[mode] = (w + walls, c + cpus, n + conns, group)
        for mode, (walls, cpus, conns, group) in figures.items():
            print(
                f"  {mode:<7} wall {statistics.median(walls) * 1000:7.1f} ms   CPU "
                f"{statistics.median(cpus) * 1000:6.1f} ms   connections "
                f"{conns / len(walls):4.1f}   group {group}"
            )


if __name__ == "__main__":
    main()
