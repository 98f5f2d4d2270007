"""The scheduler: two schedulers sharing a store (each its own engine, thread and event
loop, racing on every tick) fire each tick once, on SQLite and PostgreSQL; jobs are
submitted through JobManager.submit; ticks before a schedule's last change, disabled
schedules and missed ticks behave as documented."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from service_app import offline_options
from sqlalchemy import func, select

from mailauth_audit.options import ServiceLimits
from mailauth_audit.service.jobs import JobManager, ServiceBusy
from mailauth_audit.service.schedules_loop import FiredTick, Scheduler
from mailauth_audit.service.schedules_store import (
    ScheduleInput,
    create_schedule,
    last_due,
    ticks_of,
    update_schedule,
)
from mailauth_audit.store.schema import runs, schedule_ticks
from mailauth_audit.store.store import Store, open_store

LIMITS = ServiceLimits()
T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)  # after any schedule created today


def _schedule(store: Store, name: str = "every-minute", cron: str = "* * * * *") -> int:
    given = ScheduleInput(name=name, cron=cron, domains=("shop.example",), checks=("mx",))
    return create_schedule(store, given, LIMITS).id


def _count(store: Store, table: object) -> int:
    with store.transaction(write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _scheduler_thread(
    url: str, moments: list[datetime], barrier: threading.Barrier, out: list[FiredTick]
) -> None:
    """One scheduler as a second `serve` process would run it: its own engine and loop."""
    store = open_store(url)

    async def main() -> None:
        manager = JobManager(store, offline_options(), LIMITS)
        scheduler = Scheduler(store, manager.submit, LIMITS)
        try:
            for moment in moments:
                await asyncio.to_thread(barrier.wait)  # both race for the same tick
                out.extend(await scheduler.tick(moment))
        finally:
            await manager.aclose()

    try:
        asyncio.run(main())
    finally:
        store.close()


def test_two_schedulers_fire_each_tick_once(store_url: str) -> None:
    store = open_store(store_url)
    try:
        _schedule(store)
        _schedule(store, "every-two", "*/2 * * * *")
        # each scheduler looks 3 times a minute for 5 minutes
        moments = [T0 + timedelta(seconds=20 * i) for i in range(15)]
        barrier = threading.Barrier(2, timeout=60)
        fired: tuple[list[FiredTick], list[FiredTick]] = ([], [])
        threads = [
            threading.Thread(target=_scheduler_thread, args=(store_url, moments, barrier, out))
            for out in fired
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
        everything = fired[0] + fired[1]
        keys = [(f.schedule_id, f.tick_at) for f in everything]
        assert len(keys) == len(set(keys))  # no tick fired twice
        assert len(keys) == 5 + 3  # minutes 0..4, and 0, 2, 4
        assert all(f.run_id is not None and f.error is None for f in everything)
        assert _count(store, schedule_ticks) == 8
        assert _count(store, runs) == 8  # one job (a store run) per tick
    finally:
        store.close()


def test_a_tick_before_the_last_change_never_fires(tmp_path: object) -> None:
    store = open_store(str(tmp_path) + "/a.db")  # type: ignore[operator]
    try:
        schedule_id = _schedule(store, cron="0 * * * *")
        now = datetime.now(UTC)
        submitted: list[tuple[str, ...]] = []

        class Job:
            id = 7

        async def submit(domains: object, checks: object) -> Job:
            submitted.append(tuple(domains))  # type: ignore[arg-type]
            return Job()

        scheduler = Scheduler(store, submit, LIMITS)
        # the due tick of `now` is before the schedule was made: nothing fires
        assert asyncio.run(scheduler.tick(now)) == []
        # the next hour fires once, however often the scheduler looks
        later = last_due("0 * * * *", now) + timedelta(hours=1, seconds=5)
        first = asyncio.run(scheduler.tick(later))
        assert [(f.run_id, f.error) for f in first] == [(7, None)]
        assert asyncio.run(scheduler.tick(later + timedelta(seconds=30))) == []
        # a scheduler that was down for a day fires the missed tick once, not 24 times
        day = later + timedelta(days=1)
        assert len(asyncio.run(Scheduler(store, submit, LIMITS).tick(day))) == 1
        assert submitted == [("shop.example",)] * 2
        # disabled: no tick
        update_schedule(store, schedule_id, ScheduleInput(enabled=False))
        assert asyncio.run(scheduler.tick(day + timedelta(hours=1))) == []
    finally:
        store.close()


def test_a_busy_service_records_why_the_tick_did_not_run(tmp_path: object) -> None:
    store = open_store(str(tmp_path) + "/a.db")  # type: ignore[operator]
    try:
        schedule_id = _schedule(store)

        async def busy(domains: object, checks: object) -> object:
            raise ServiceBusy("100 jobs are queued or running")

        fired = asyncio.run(Scheduler(store, busy, LIMITS).tick(T0))
        assert fired[0].run_id is None and "ServiceBusy" in (fired[0].error or "")
        assert ticks_of(store, schedule_id)[0]["error"] == fired[0].error
    finally:
        store.close()


def test_scheduler_loop_runs_in_the_lifespan_and_stops_with_it(tmp_path: object) -> None:
    from starlette.testclient import TestClient

    from mailauth_audit.service.app import create_app

    store = open_store(str(tmp_path) + "/a.db")  # type: ignore[operator]
    try:
        _schedule(store)
        limits = ServiceLimits(scheduler_interval=0.05)
        manager = JobManager(store, offline_options(), limits)
        ticked = threading.Event()

        class Watched(Scheduler):
            async def tick(self, now: datetime | None = None) -> list[FiredTick]:
                fired = await super().tick(T0)
                if fired:
                    ticked.set()
                return fired

        app = create_app(store, manager, scheduler=Watched(store, manager.submit, limits))
        with TestClient(app):
            assert ticked.wait(30)
        assert _count(store, schedule_ticks) == 1
    finally:
        store.close()


@pytest.mark.parametrize("cron", ["*/5 * * * *", "0 3 * * 1", "@daily"])
def test_last_due_is_at_or_before_now(cron: str) -> None:
    now = datetime(2030, 6, 3, 3, 0, 0, tzinfo=UTC)  # a Monday, 03:00
    due = last_due(cron, now)
    assert due <= now and due.tzinfo is not None
    assert last_due(cron, due) == due


def test_a_fired_schedule_sends_its_jobs_drift_events_to_its_webhook(tmp_path: object) -> None:
    from alert_servers import WebhookServer
    from history_zones import BEFORE, KEY_1024, audit

    from mailauth_audit.report.codec import to_json
    from mailauth_audit.store.record import RunInfo, utc_text

    store = open_store(str(tmp_path) + "/a.db")  # type: ignore[operator]
    try:
        store.record_run(audit(BEFORE))
        weakened = audit(dict(BEFORE, dmarc="v=DMARC1; p=none", dkim={"s1": KEY_1024}))
        with WebhookServer("ok") as hook:
            given = ScheduleInput(
                name="hooked", cron="* * * * *", domains=("shop.example",), webhooks=(hook.url,)
            )
            create_schedule(store, given, LIMITS)

            class Job:
                id = 0

            async def submit(domains: object, checks: object) -> Job:
                # the job: one run recording the weakened zone's audit (drift events)
                run_id, started = store.start_run(RunInfo("api", utc_text(), "test"))
                store.record_documents(run_id, started, [to_json(weakened.domains[0])])
                Job.id = run_id
                return Job()

            states = iter(["running", "done"])

            async def job_state(run_id: int) -> str | None:
                return next(states, "done")

            limits = ServiceLimits(scheduler_interval=0.01)

            async def main() -> None:
                scheduler = Scheduler(store, submit, limits, job_state=job_state)
                await scheduler.tick(T0)
                await asyncio.wait_for(asyncio.gather(*scheduler._deliveries), 30)

            asyncio.run(main())
            codes = sorted(json.loads(body)["event"]["code"] for _, body in hook.received)
        assert "dmarc.policy_weakened" in codes and "dkim.key_shortened" in codes, codes
    finally:
        store.close()
