"""A job outlives the process that ran it: after a restart its status comes from the store
(done when its run finished, interrupted when it did not), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from mailauth_audit.options import AuditOptions, ServiceLimits
from mailauth_audit.service.jobs import Job, JobManager
from mailauth_audit.store.record import RunInfo, utc_text
from mailauth_audit.store.store import open_store


def test_a_job_is_found_in_the_store_after_a_restart(store_url: str) -> None:
    store = open_store(store_url)
    try:
        info = RunInfo(
            kind="api",
            started_at=utc_text(),
            tool_version="test",
            provenance={"domains": 3, "checks": ["mx", "spf"]},
        )
        unfinished, _ = store.start_run(info)
        finished, _ = store.start_run(info)
        store.finish_run(finished)
        manager = JobManager(store, AuditOptions())  # a new process: nothing in memory

        async def look() -> tuple[Job | None, Job | None, Job | None]:
            return (
                await manager.get(unfinished),
                await manager.get(finished),
                await manager.get(finished + 100),
            )

        stopped, done, missing = asyncio.run(look())
        assert missing is None
        assert stopped is not None and done is not None
        assert stopped.document()["status"] == "interrupted"
        assert stopped.document()["error"]
        assert done.document()["status"] == "done"
        assert done.document()["total"] == 3
        assert done.document()["checks"] == ["mx", "spf"]
    finally:
        store.close()


def test_finished_jobs_in_memory_are_bounded() -> None:
    manager = JobManager(None, AuditOptions(), ServiceLimits(max_pending_jobs=2))  # type: ignore[arg-type]
    for i in range(5):
        manager.jobs[i] = Job(i, ("a.example",), ("mx",), utc_text(), status="done")
    manager.jobs[5] = Job(5, ("a.example",), ("mx",), utc_text(), status="running")
    manager._forget_finished()
    assert sorted(manager.jobs) == [3, 4, 5]  # the newest finished ones, and the running one
