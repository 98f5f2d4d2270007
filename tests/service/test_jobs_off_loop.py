"""On SQLite `serve` audits a job in a child process, not on the loop that serves requests:
audits are recorded while serve's loop is blocked on purpose, status requests are answered
while the job runs, and cancel, shutdown and a crashed child each end the job with a status.

The jobs ask a nameserver that reads queries and never answers (every domain waits for
its DNS timeout), with few domains at a time: a job that is still running when the test
looks, whatever the machine's load.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_app import make_store
from sqlalchemy import func, select
from starlette.testclient import TestClient

from mailauth_audit.options import AuditOptions, Limits, QueueLimits, ServiceLimits
from mailauth_audit.service.app import create_app
from mailauth_audit.service.jobs import JobManager
from mailauth_audit.store.schema import audits, service_chunks
from mailauth_audit.store.store import Store, open_store

DOMAINS = [f"d{i}.example" for i in range(300)]
QUICK = QueueLimits(cancel_poll_interval=0.2, progress_interval=0.2, record_interval=0.1)


@pytest.fixture
def silent_options() -> Iterator[AuditOptions]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        host, port = sock.getsockname()
        yield AuditOptions(
            nameservers=(f"{host}:{port}",),
            limits=Limits(
                dns_timeout=0.3, dns_attempts=1, domain_timeout=5, max_concurrent_domains=5
            ),
        )


def recorded(store: Store, job_id: int) -> int:
    with store.transaction(write=False) as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(audits).where(audits.c.run_id == job_id)
            ).scalar_one()
        )


def wait_for_children(deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while multiprocessing.active_children():
        assert time.monotonic() < end, multiprocessing.active_children()
        time.sleep(0.05)


def test_audits_are_recorded_while_serves_loop_is_blocked(
    silent_options: AuditOptions, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(str(tmp_path / "audits.db"))
    manager = JobManager(store, silent_options, queue_limits=QUICK)

    async def scenario() -> tuple[int, int]:
        job = await manager.submit(DOMAINS, None)
        while job.status == "queued":  # the job's task has started its child
            await asyncio.sleep(0)
        # Given serve's loop blocked on purpose (no await: nothing of it runs)
        # When the store is watched from this thread alone
        # Then audits appear in it: something other than this loop audits them
        deadline = time.monotonic() + 60
        while (count := recorded(store, job.id)) == 0:
            assert time.monotonic() < deadline, "nothing recorded while the loop was blocked"
            time.sleep(0.05)
        await manager.cancel(job.id)
        await asyncio.gather(*manager.tasks)
        return job.id, count

    try:
        with caplog.at_level(logging.INFO, logger="mailauth_audit.service"):
            job_id, count = asyncio.run(scenario())
        assert count > 0
        pids = [
            int(r.getMessage().rsplit(" ", 1)[1])
            for r in caplog.records
            if r.getMessage().startswith(f"job {job_id}: chunks audited by process")
        ]
        assert pids and pids[0] != os.getpid(), pids
        wait_for_children()
    finally:
        store.close()


def test_status_is_answered_while_a_job_runs_and_cancel_stops_it(
    silent_options: AuditOptions, tmp_path: Path
) -> None:
    store, tokens = make_store(tmp_path / "audits.db")
    limits = ServiceLimits(rate_per_second=1e5, rate_burst=10**5)
    manager = JobManager(store, silent_options, limits, queue_limits=QUICK)
    read = {"Authorization": f"Bearer {tokens['read']}"}
    write = {"Authorization": f"Bearer {tokens['write']}"}
    try:
        with TestClient(create_app(store, manager)) as client:
            r = client.post("/v1/audits", json={"domains": DOMAINS}, headers=write)
            assert r.status_code == 202, r.text
            path = f"/v1/audits/{r.json()['id']}"
            # the job's progress comes from the store, where the child records
            deadline = time.monotonic() + 60
            while (doc := client.get(path, headers=read).json())["recorded"] == 0:
                assert time.monotonic() < deadline, doc
                time.sleep(0.1)
            for _ in range(10):
                started = time.monotonic()
                doc = client.get(path, headers=read).json()
                assert time.monotonic() - started < 5.0
                assert doc["status"] == "running", doc  # answered during the audit
            assert doc["audited"] >= doc["recorded"] > 0
            r = client.post(f"{path}/cancel", headers=write)
            assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
            wait_for_children()  # the child saw the cancel in the store and ended
            doc = client.get(path, headers=read).json()
            assert doc["status"] == "cancelled" and doc["recorded"] < len(DOMAINS), doc
        with store.transaction(write=False) as conn:
            chunks = list(conn.execute(select(service_chunks.c.status)).scalars())
        assert "cancelled" in chunks  # the second chunk was never started
    finally:
        store.close()


def test_shutdown_interrupts_and_a_dead_child_fails_the_job(
    silent_options: AuditOptions, tmp_path: Path
) -> None:
    store = open_store(str(tmp_path / "audits.db"))
    manager = JobManager(store, silent_options, queue_limits=QUICK)

    async def started() -> tuple[int, int]:
        job = await manager.submit(DOMAINS, None)
        while job.status == "queued":
            await asyncio.sleep(0)
        (child,) = multiprocessing.active_children()
        assert child.pid is not None and child.pid != os.getpid()
        return job.id, child.pid

    async def scenario() -> tuple[int, int, str | None, str | None, str | None, str | None]:
        # a child killed (the OOM killer, a crash): the job fails with a reason
        crashed, pid = await started()
        os.kill(pid, signal.SIGKILL)
        await asyncio.gather(*manager.tasks)
        dead = await manager.get(crashed)
        # serve stopping: a SIGTERM to the whole group does not end the child (serve
        # decides); the lifespan's close kills it and the job is "interrupted"
        stopped, pid = await started()
        os.kill(pid, signal.SIGTERM)
        await asyncio.sleep(0.5)
        assert manager.jobs[stopped].status == "running"
        await manager.aclose()
        gone = await manager.get(stopped)
        assert dead is not None and gone is not None
        return crashed, stopped, dead.status, dead.error, gone.status, gone.error

    try:
        crashed, stopped, dead_status, dead_error, gone_status, gone_error = asyncio.run(scenario())
        assert dead_status == "failed" and dead_error is not None, dead_error
        assert "exit code -9" in dead_error, dead_error
        assert gone_status == "interrupted", gone_error
        assert not multiprocessing.active_children()
        # what the store says after a restart agrees
        again = JobManager(store, silent_options)
        jobs = asyncio.run(_statuses(again, (crashed, stopped)))
        assert jobs == ["failed", "interrupted"], jobs
    finally:
        store.close()


async def _statuses(manager: JobManager, ids: tuple[int, ...]) -> list[str | None]:
    out = []
    for job_id in ids:
        job = await manager.get(job_id)
        out.append(None if job is None else job.status)
    return out
