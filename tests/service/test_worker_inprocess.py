"""On SQLite `serve` needs no worker: the job manager runs the same chunk code in its own
event loop (chunk after chunk), against nsd; a job cancelled before it runs audits nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from fixture_zone import ZONE
from sqlalchemy import select

from mailauth_audit.model import CheckId
from mailauth_audit.options import AuditOptions, QueueLimits
from mailauth_audit.service.jobs import JobManager
from mailauth_audit.store.schema import audits, service_chunks
from mailauth_audit.store.store import open_store

pytestmark = pytest.mark.nsd

DOMAINS = ["good.example", "nomail.example", "weak.example", "broken.example", "implicit.example"]


def test_in_process_jobs_run_every_chunk_and_cancel(
    nsd_session_server: Callable[..., tuple[str, int]], tmp_path: Path
) -> None:
    host, port = nsd_session_server({"example": ZONE})
    store = open_store(str(tmp_path / "audits.db"))
    options = AuditOptions(
        checks=frozenset({CheckId.MX, CheckId.SPF, CheckId.DMARC}),
        nameservers=(f"{host}:{port}",),
    )
    manager = JobManager(store, options, queue_limits=QueueLimits(chunk_size=2))

    async def scenario() -> tuple[dict[str, object], dict[str, object]]:
        job = await manager.submit(DOMAINS, None)
        await asyncio.gather(*manager.tasks)
        done = (await manager.get(job.id)).document()  # type: ignore[union-attr]
        # a second job, cancelled before its task first runs: no chunk is audited
        other = await manager.submit(DOMAINS, None)
        cancelled = await manager.cancel(other.id)
        await asyncio.gather(*manager.tasks)
        assert cancelled is not None
        return done, (await manager.get(other.id)).document()  # type: ignore[union-attr]

    try:
        done, cancelled = asyncio.run(scenario())
        assert done["status"] == "done" and done["recorded"] == len(DOMAINS), done
        assert cancelled["status"] == "cancelled", cancelled
        with store.transaction(write=False) as conn:
            stored = list(conn.execute(select(audits.c.run_id, audits.c.domain)))
            chunks = list(conn.execute(select(service_chunks.c.job_id, service_chunks.c.status)))
        first = sorted(d for run, d in stored if run == done["id"])
        assert first == sorted(DOMAINS)  # every domain once
        assert not [d for run, d in stored if run == cancelled["id"]]
        assert sorted(s for j, s in chunks if j == done["id"]) == ["done"] * 3
        assert sorted(s for j, s in chunks if j == cancelled["id"]) == ["cancelled"] * 3
        # a new process finds both jobs in the store, in the same state
        again = JobManager(store, options)
        found = asyncio.run(again.get(int(done["id"])))  # type: ignore[call-overload]
        assert found is not None and found.status == "done" and found.recorded == len(DOMAINS)
    finally:
        store.close()
