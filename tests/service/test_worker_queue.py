"""Jobs over the task queue: `serve` on PostgreSQL under uvicorn queues chunks, two
`worker` processes audit them against nsd. Every domain is stored exactly once per job
whatever happens to the workers (SIGKILL mid-chunk, SIGTERM) or to PostgreSQL (a restart
mid-job); a cancelled job runs no further chunk; `--qps` holds across both workers,
counted at a relay in front of nsd."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from worker_fleet import (
    ORIGIN,
    CountingRelay,
    Fleet,
    domain_names,
    kill,
    require_postgres,
    restart_postgres,
    wait_for,
    zone_text,
)

from mailauth_audit.store.schema import audits, service_chunks
from mailauth_audit.store.store import Store, open_store
from mailauth_audit.store.tokens import TokenScope, create_token

pytestmark = pytest.mark.nsd

COUNT = 3000
CHUNK = 100


@pytest.fixture(scope="module")
def pg() -> Iterator[object]:
    require_postgres()
    from pgserver import PostgresServer

    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def fleet(
    pg: object,
    nsd_session_server: Callable[..., tuple[str, int]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Fleet]:
    host, port = nsd_session_server({ORIGIN: zone_text(COUNT)})
    url = pg.new_database()  # type: ignore[attr-defined]
    store = open_store(url)
    try:
        token = create_token(store, "queue-tests", TokenScope.ADMIN)[1]
    finally:
        store.close()
    fleet = Fleet(url, f"{host}:{port}", tmp_path_factory.mktemp("fleet"), token=token)
    fleet.start_serve(CHUNK)
    try:
        yield fleet
    finally:
        fleet.stop()


@pytest.fixture
def store(fleet: Fleet) -> Iterator[Store]:
    opened = open_store(fleet.store_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(autouse=True)
def _workers_stopped(fleet: Fleet) -> Iterator[None]:
    yield
    fleet.stop_workers()


def stored_domains(store: Store, job_id: int) -> list[str]:
    with store.transaction(write=False) as conn:
        query = select(audits.c.domain).where(audits.c.run_id == job_id)
        return [str(d) for d in conn.execute(query).scalars()]


def assert_exactly_once(store: Store, job_id: int, domains: list[str]) -> None:
    stored = stored_domains(store, job_id)
    assert len(stored) == len(set(stored)), "a domain was stored twice"
    missing, extra = set(domains) - set(stored), set(stored) - set(domains)
    assert not missing and not extra, (sorted(missing)[:5], sorted(extra)[:5])


def chunk_runs(store: Store, job_id: int) -> dict[int, tuple[str, int]]:
    with store.transaction(write=False) as conn:
        rows = conn.execute(
            select(service_chunks.c.seq, service_chunks.c.status, service_chunks.c.runs).where(
                service_chunks.c.job_id == job_id
            )
        )
        return {int(r.seq): (str(r.status), int(r.runs)) for r in rows}


def doing(store: Store) -> int:
    """Chunks some worker holds now."""
    with store.transaction(write=False) as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'")
            ).scalar_one()
        )


def started_chunks(log: str, job_id: int) -> list[int]:
    return [
        int(line.split(f"chunk {job_id}/")[1].split()[0])
        for line in log.splitlines()
        if f"chunk {job_id}/" in line and " started " in line
    ]


def test_two_workers_audit_a_3000_domain_job_each_domain_once(fleet: Fleet, store: Store) -> None:
    domains = domain_names(COUNT)
    fleet.start_worker("a")
    fleet.start_worker("b")
    job_id = fleet.submit(domains)
    done = fleet.wait_status(job_id, ("done", "failed"), 120)
    assert done["status"] == "done", done
    assert done["total"] == COUNT and done["recorded"] == COUNT
    assert_exactly_once(store, job_id, domains)
    ran_a, ran_b = started_chunks(fleet.log("a"), job_id), started_chunks(fleet.log("b"), job_id)
    assert ran_a and ran_b, "both workers take chunks"
    # every chunk ran (a chunk may run twice when a loaded machine delays a heartbeat past
    # --stalled-after: the second run audits only what the first had not recorded)
    assert set(ran_a + ran_b) == set(range(COUNT // CHUNK))
    with fleet.client() as c:  # 3,000 reports decoded and encoded again: slow when loaded
        lines = c.get(f"/v1/audits/{job_id}/results", timeout=300).text.splitlines()
    assert len(lines) == COUNT


def test_a_worker_killed_mid_chunk_has_its_chunk_retried(fleet: Fleet, store: Store) -> None:
    # Given a worker held to 8 questions/s, so a chunk of 100 domains takes tens of seconds
    domains = domain_names(400)
    fleet.start_worker("k1", "--qps", "8")
    job_id = fleet.submit(domains)
    # When k1 is killed with SIGKILL as soon as it has recorded part of its chunk
    wait_for(lambda: bool(started_chunks(fleet.log("k1"), job_id)), 60, "k1 took no chunk")
    victim = started_chunks(fleet.log("k1"), job_id)[0]
    wait_for(lambda: bool(stored_domains(store, job_id)), 60, "nothing recorded")
    kill(fleet.workers.pop("k1"))
    assert chunk_runs(store, job_id)[victim] == ("queued", 1)  # killed mid-chunk
    fleet.start_worker("k2", "--qps", "200")
    # Then the chunk goes back (k1's heartbeat stops), k2 runs it again, and every domain
    # is stored once
    done = fleet.wait_status(job_id, ("done", "failed"), 90)
    assert done["status"] == "done", done
    assert chunk_runs(store, job_id)[victim] == ("done", 2)
    assert victim in started_chunks(fleet.log("k2"), job_id)
    assert_exactly_once(store, job_id, domains)


def test_cancelled_job_runs_no_further_chunk(fleet: Fleet, store: Store) -> None:
    domains = domain_names(1000)
    # slow enough (a chunk of 100 domains takes tens of seconds) that the cancel, sent as
    # soon as chunk 0 has recorded something, lands while chunk 0 still runs
    fleet.start_worker("c1", "--qps", "8")
    job_id = fleet.submit(domains)
    wait_for(lambda: bool(stored_domains(store, job_id)), 60, "nothing recorded")
    with fleet.client() as c:
        r = c.post(f"/v1/audits/{job_id}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    # the running chunk stops (procrastinate aborts it, or it sees the job cancelled);
    # no chunk is started after it
    wait_for(lambda: doing(store) == 0, 30, "the running chunk did not stop")
    time.sleep(1.0)  # a chunk started now would show in the log and in the store
    runs = chunk_runs(store, job_id)
    started = started_chunks(fleet.log("c1"), job_id)
    # the chunk running when the cancel came is chunk 0, or chunk 1 when chunk 0 had just
    # ended (a chunk's results are written as it goes, the last batch as it ends)
    assert started in ([0], [0, 1]), (started, runs)
    assert runs[started[-1]] == ("cancelled", 1), runs
    assert all(runs[seq] == ("done", 1) for seq in started[:-1]), runs
    assert all(
        status == "cancelled" and n == 0 for seq, (status, n) in runs.items() if seq not in started
    ), runs
    # what was recorded stays; nothing beyond the chunks started
    assert 0 < len(stored_domains(store, job_id)) <= CHUNK * len(started)
    assert fleet.status(job_id)["status"] == "cancelled"
    with fleet.client() as c:
        assert c.post("/v1/audits/999999/cancel").status_code == 404


def test_sigterm_finishes_or_releases_the_chunk_and_exits_0(fleet: Fleet, store: Store) -> None:
    domains = domain_names(300)
    fleet.start_worker("t1", "--qps", "50", "--shutdown-timeout", "0.5", "--log-format", "json")
    job_id = fleet.submit(domains)
    wait_for(lambda: bool(stored_domains(store, job_id)), 60, "nothing recorded")
    proc = fleet.workers.pop("t1")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    log = fleet.log("t1")
    assert "stop requested" in log and "t1 stopped" in log
    # --log-format json: every line one JSON object (as `serve`'s, through the same handler)
    records = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert records and all(isinstance(r, dict) and "message" in r for r in records)
    # the chunk it held is back in the queue (not "doing" with a dead worker): a new worker
    # takes it at once, long before a stalled-chunk sweep could
    assert doing(store) == 0
    fleet.start_worker("t2")
    done = fleet.wait_status(job_id, ("done", "failed"), 60)
    assert done["status"] == "done", done
    assert_exactly_once(store, job_id, domains)


def test_qps_holds_across_two_workers(
    fleet: Fleet, store: Store, nsd_session_server: Callable[..., tuple[str, int]]
) -> None:
    host, port = nsd_session_server({ORIGIN: zone_text(COUNT)})
    relay = CountingRelay((host, port))
    qps = 100
    try:
        domains = domain_names(900)[300:900]
        for name in ("q1", "q2"):
            fleet.start_worker(name, "--qps", str(qps), nameserver=relay.address)
        job_id = fleet.submit(domains)
        done = fleet.wait_status(job_id, ("done", "failed"), 90)
    finally:
        relay.close()
    assert done["status"] == "done", done
    assert started_chunks(fleet.log("q1"), job_id) and started_chunks(fleet.log("q2"), job_id)
    sent = len(relay.times)
    span = relay.times[-1] - relay.times[0]
    assert sent > 3 * qps  # enough questions for the budget to matter
    # the bucket's bound: at most qps * (T + 2 * lease) in any window of T seconds
    assert relay.max_in_window(1.0) <= qps * 1.25 + 2, relay.max_in_window(1.0)
    assert sent <= qps * (span + 0.25) + 2, (sent, span)


def test_workers_reconnect_after_a_postgres_restart(fleet: Fleet, store: Store, pg: object) -> None:
    domains = domain_names(COUNT)[1000:1600]
    fleet.start_worker("r1", "--qps", "100")
    fleet.start_worker("r2", "--qps", "100")
    job_id = fleet.submit(domains)
    wait_for(lambda: len(stored_domains(store, job_id)) >= CHUNK, 60, "no chunk recorded")
    restart_postgres(pg)  # type: ignore[arg-type]
    done = fleet.wait_status(job_id, ("done", "failed"), 90)
    assert done["status"] == "done", done
    assert_exactly_once(store, job_id, domains)
    assert all(p.poll() is None for p in fleet.workers.values()), "a worker died"
    with store.transaction(write=False) as conn:
        assert conn.execute(select(func.count()).select_from(audits)).scalar_one() > 0


def test_chunk_logs_name_the_job(tmp_path: Path) -> None:
    log = "x worker a: chunk 7/3 started (run 1, 100 domains to audit, 0 recorded)\n"
    assert started_chunks(log, 7) == [3]
