"""The scheduler `serve` runs in its lifespan (unless `--no-scheduler`): fires due schedules.

Every `ServiceLimits.scheduler_interval` seconds it looks at the enabled schedules; for each,
the latest cron time at or before now is its due tick. A tick is fired by the scheduler
whose claim (schedule_ticks row) is inserted first, so any number of schedulers sharing a
store fire it once. A tick missed while no scheduler ran fires once when one next runs; the
ones before it are not replayed (a week offline does not queue a week of audits). Ticks
before a schedule's creation or last update never fire.

Firing submits a job through JobManager.submit, as a POST /v1/audits does. When the job
has finished, the drift events it raised go to the schedule's targets through the code
`alerts` uses (store/deliver.py): each webhook (signed with $MAILAUTH_AUDIT_WEBHOOK_SECRET)
and one message to the schedule's email addresses through the relay `serve --smtp` names
(AUTH password from $MAILAUTH_AUDIT_SMTP_PASSWORD). Deliveries run in a small thread pool of
their own, so a dead endpoint holds neither the event loop nor the threads requests use;
what failed is tried again `ServiceLimits.alert_attempts` times with doubling pauses (only
events not yet delivered on a channel are sent), and every outcome is recorded in the
store, where `alerts --webhook/--email` can send the rest later.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select

from ..model import CheckId
from ..options import ServiceLimits
from ..store.connect import StoreError
from ..store.deliver import (
    SMTP_PASSWORD_ENV,
    WEBHOOK_SECRET_ENV,
    DeliveryOutcome,
    EmailTarget,
    deliver_events,
)
from ..store.schema import audits, events
from ..store.store import Store
from ..store.views import StoredEvent
from .schedules_store import Schedule, claim_tick, last_due, list_schedules, note_tick

__all__ = ["FiredTick", "JobState", "Scheduler", "Submit"]

log = logging.getLogger("mailauth_audit.service.scheduler")


class _Submitted(Protocol):
    id: int


Submit = Callable[[Sequence[str], frozenset[CheckId] | None], Awaitable[_Submitted]]
JobState = Callable[[int], Awaitable[str | None]]  # a job's status, None when unknown


@dataclass(frozen=True)
class FiredTick:
    schedule_id: int
    tick_at: datetime
    run_id: int | None  # None: the job could not be submitted (error says why)
    error: str | None


class Scheduler:
    def __init__(
        self,
        store: Store,
        submit: Submit,
        limits: ServiceLimits,
        *,
        job_state: JobState | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        mail: EmailTarget | None = None,
    ) -> None:
        """`mail`: the relay and sender of `serve --smtp/--mail-from` (its recipients are
        each schedule's addresses); None: email targets are left to `alerts --email`."""
        self.store = store
        self.submit = submit
        self.limits = limits
        self.job_state = job_state
        self.clock = clock
        self.mail = mail
        self._seen: dict[int, datetime] = {}  # schedule -> the last tick this process tried
        self._deliveries: set[asyncio.Task[None]] = set()
        self._pool: ThreadPoolExecutor | None = None  # made at the first delivery

    async def run(self) -> None:
        """Until cancelled; a pass that fails (store down) is logged and tried again."""
        while True:
            try:
                await self.tick()
            except StoreError as exc:
                log.warning("scheduler: the store cannot be read now: %s", exc)
            await asyncio.sleep(self.limits.scheduler_interval)

    async def tick(self, now: datetime | None = None) -> list[FiredTick]:
        """One pass: claim and fire every due tick this process has not tried yet."""
        moment = now or self.clock()
        fired: list[FiredTick] = []
        for schedule in await asyncio.to_thread(list_schedules, self.store, enabled_only=True):
            due = last_due(schedule.cron, moment)
            if due < datetime.fromisoformat(schedule.updated_at.replace("Z", "+00:00")):
                continue
            if self._seen.get(schedule.id) == due:
                continue
            tick_id = await asyncio.to_thread(claim_tick, self.store, schedule.id, due)
            self._seen[schedule.id] = due
            if tick_id is None:
                continue  # another scheduler fired it
            fired.append(await self._fire(schedule, tick_id, due))
        return fired

    async def _fire(self, schedule: Schedule, tick_id: int, due: datetime) -> FiredTick:
        checks = frozenset(CheckId(c) for c in schedule.checks) if schedule.checks else None
        try:
            job = await self.submit(schedule.domains, checks)
        except Exception as exc:  # ServiceBusy, StoreError: the tick records why, the loop goes on
            error = f"{type(exc).__name__}: {exc}"
            log.warning("schedule %s: tick %s not fired: %s", schedule.name, due, error)
            await asyncio.to_thread(note_tick, self.store, tick_id, run_id=None, error=error)
            return FiredTick(schedule.id, due, None, error)
        await asyncio.to_thread(note_tick, self.store, tick_id, run_id=job.id, error=None)
        log.info("schedule %s: tick %s fired as audit %s", schedule.name, due, job.id)
        if (schedule.webhooks or schedule.emails) and self.job_state is not None:
            task = asyncio.create_task(self._deliver_when_done(schedule, job.id))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        return FiredTick(schedule.id, due, job.id, None)

    async def _deliver_when_done(self, schedule: Schedule, run_id: int) -> None:
        assert self.job_state is not None
        while (await self.job_state(run_id)) in ("queued", "running"):
            await asyncio.sleep(self.limits.scheduler_interval)
        try:
            found = await asyncio.to_thread(_events_of_run, self.store, run_id)
        except StoreError as exc:
            log.warning("schedule %s: events of audit %s not read: %s", schedule.name, run_id, exc)
            return
        if not found:
            return
        if schedule.emails and self.mail is None:
            log.warning(
                "schedule %s: %d events not mailed: serve has no --smtp (alerts --email can)",
                schedule.name,
                len(found),
            )
        if self._pool is None:
            self._pool = ThreadPoolExecutor(2, thread_name_prefix="alert-delivery")
        loop = asyncio.get_running_loop()
        attempts = self.limits.alert_attempts
        for attempt in range(1, attempts + 1):
            failed = await loop.run_in_executor(self._pool, self._deliver, schedule, found)
            if not failed:
                return
            if attempt < attempts:
                pause = self.limits.alert_backoff * 2 ** (attempt - 1)
                log.info(
                    "schedule %s: %d deliveries failed, again in %g s", schedule.name, failed, pause
                )
                await asyncio.sleep(pause)
        log.warning(
            "schedule %s: %d deliveries still failed after %d tries (recorded; alerts "
            "--webhook/--email can send them)",
            schedule.name,
            failed,
            attempts,
        )

    def _deliver(self, schedule: Schedule, found: list[StoredEvent]) -> int:
        """One try at every target of `schedule` (in a pool thread); the failures counted."""
        env = os.environ
        channels: list[dict[str, Any]] = [
            {"webhook": url, "webhook_secret": env.get(WEBHOOK_SECRET_ENV) or None}
            for url in schedule.webhooks
        ]
        if schedule.emails and self.mail is not None:
            target = replace(self.mail, recipients=schedule.emails)
            channels.append({"email": target, "smtp_password": env.get(SMTP_PASSWORD_ENV) or None})
        failed = 0
        for channel in channels:
            try:
                outcomes: list[DeliveryOutcome] = deliver_events(self.store, found, **channel)
            except StoreError as exc:
                log.warning("schedule %s: deliveries not recorded: %s", schedule.name, exc)
                failed += 1
                continue
            except Exception:  # a target's fault (a refused setting) must not end the others'
                log.exception("schedule %s: delivery failed", schedule.name)
                failed += 1
                continue
            bad = [o for o in outcomes if o.status != "delivered"]
            failed += len(bad)
            log.info(
                "schedule %s: %d events to %s, %d failed%s",
                schedule.name,
                len(outcomes),
                "email" if "email" in channel else "a webhook",
                len(bad),
                f" ({bad[0].error})" if bad else "",
            )
        return failed

    async def aclose(self) -> None:
        for task in list(self._deliveries):
            task.cancel()
        if self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _events_of_run(store: Store, run_id: int) -> list[StoredEvent]:
    with store.transaction(write=False) as conn:
        rows = conn.execute(
            select(events)
            .join(audits, audits.c.id == events.c.audit_id)
            .where(audits.c.run_id == run_id)
            .order_by(events.c.id)
        )
        found: list[dict[str, Any]] = [dict(r._mapping) for r in rows]
    return [StoredEvent(**{k: e[k] for k in StoredEvent.__dataclass_fields__}) for e in found]
