"""The HTTPS fetcher records each connection's key-exchange group, read from that
connection's own handshake messages (probes/handshake.py), as the SMTP probe does: against
two real nginx servers on 127.0.0.1 offering different groups, fetched concurrently through
one fetcher (one shared TLS context), each result carries its own server's group."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from https_servers import POLICY_PATH, NginxPolicyServer, Site

from mailauth_audit.options import ProbeLimits
from mailauth_audit.probes.https import HttpxHttpsFetcher
from mailauth_audit.probes.results import HttpsFetchResult

POLICY = b"version: STSv1\nmode: testing\nmx: mx.a.test\nmax_age: 86400\n"
HOST = "mta-sts.a.test"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, NginxPolicyServer]]:
    started: dict[str, NginxPolicyServer] = {}
    try:
        for curve in ("X25519", "secp384r1"):
            folder = tmp_path_factory.mktemp(f"nginx-{curve}")
            started[curve] = NginxPolicyServer.start(
                folder, {"a.test": Site(POLICY)}, ecdh_curve=curve
            )
        yield started
    finally:
        for server in started.values():
            server.stop()


def fetch_all(
    servers: dict[str, NginxPolicyServer], rounds: int
) -> list[tuple[str, HttpsFetchResult]]:
    async def run() -> list[tuple[str, HttpsFetchResult]]:
        # one fetcher for both servers: the TLS context (and its message hook) is shared
        fetcher = HttpxHttpsFetcher(ProbeLimits(), ca_file=servers["X25519"].ca_file)
        try:
            jobs = [
                (curve, fetcher.fetch(HOST, "127.0.0.1", POLICY_PATH, server.port))
                for _ in range(rounds)
                for curve, server in servers.items()
            ]
            got = await asyncio.gather(*(job for _, job in jobs))
            return [(curve, result) for (curve, _), result in zip(jobs, got, strict=True)]
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


def test_each_fetch_records_its_own_connections_group(
    servers: dict[str, NginxPolicyServer],
) -> None:
    results = fetch_all(servers, rounds=4)
    assert len(results) == 8
    for curve, result in results:
        assert result.status == 200 and result.body == POLICY
        assert result.tls.version in ("TLSv1.3", "TLSv1.2")
        assert result.tls.cipher and result.tls.cipher != "unknown"
        assert (result.tls.group, result.tls.group_bits) == (
            curve,
            {"X25519": 253, "secp384r1": 384}[curve],
        ), result.tls
