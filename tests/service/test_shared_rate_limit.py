"""A token's rate limit holds across `serve` processes: two real servers on one PostgreSQL
database, a token's requests spread over both (concurrently) get 429 at the shared limit,
not at twice it. The bucket is a store row taken in one locking statement (ratelimit.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from dnsservers import free_port
from pgserver import PostgresServer
from serve_process import serve_process

from mailauth_audit.store.store import open_store
from mailauth_audit.store.tokens import TokenScope, create_token

BURST = 12


def test_two_serve_processes_share_a_tokens_bucket(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = postgres_server.new_database()
    store = open_store(url)
    try:
        token = create_token(store, "ci", TokenScope.READ)[1]
        other = create_token(store, "other", TokenScope.READ)[1]
    finally:
        store.close()
    flags = [
        *("--nameserver", f"127.0.0.1:{free_port()}", "--no-scheduler"),
        *("--rate-burst", str(BURST)),
        *("--rate-per-second", "0.01"),  # no refill during the test, however slow the machine
    ]
    with ExitStack() as stack, ThreadPoolExecutor(2) as starting:  # both start at once
        a, b = starting.map(
            lambda name: stack.enter_context(serve_process(url, *flags, log=tmp_path / name)),
            ["a.log", "b.log"],
        )
        clients = [a.client(token), b.client(token)]

        def get(i: int) -> tuple[int, int]:
            return i % 2, clients[i % 2].get("/v1/schedules").status_code

        try:
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(get, range(4 * BURST)))
            with a.client(other) as c:
                assert c.get("/v1/schedules").status_code == 200  # its own bucket
        finally:
            for c in clients:
                c.close()
    codes = [code for _, code in answers]
    assert set(codes) == {200, 429}, codes
    assert codes.count(200) == BURST, codes  # per-process buckets would allow 2 x BURST
    assert {server for server, code in answers if code == 200} == {0, 1}  # both served some
