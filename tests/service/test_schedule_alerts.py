"""A fired schedule delivers its job's drift events itself: a scheduler tick submits a real
job (audited against nsd on loopback, after a stored audit of a stronger zone), and when it
is done the events go to a real HTTP webhook and, through `serve --smtp`'s relay (the
sender `alerts --email` uses), to a real aiosmtpd. A failing target is tried again
(ServiceLimits.alert_attempts) and its failure recorded, while the event loop stays free."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from alert_servers import WebhookServer
from click.testing import CliRunner
from dnsservers import free_port
from history_zones import BEFORE, KEY_1024, audit, zone
from sqlalchemy import select

from mailauth_audit.cli.main import main
from mailauth_audit.options import AuditOptions, Limits, ServiceLimits, StoreLimits
from mailauth_audit.service.jobs import JobManager
from mailauth_audit.service.schedules_loop import Scheduler
from mailauth_audit.service.schedules_store import ScheduleInput, create_schedule
from mailauth_audit.store.deliver import email_target
from mailauth_audit.store.schema import deliveries
from mailauth_audit.store.store import open_store

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)  # after the schedule is created
WEAKENED = dict(BEFORE, dmarc="v=DMARC1; p=none", dkim={"s1": KEY_1024})


class RefusingOnceInbox:
    """aiosmtpd handler: refuses the first message (a permanent 554, which the sender does
    not retry itself), accepts the next ones."""

    def __init__(self) -> None:
        self.tries = 0
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tries += 1
        if self.tries == 1:
            return "554 5.7.1 not now"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_relay() -> Iterator[tuple[RefusingOnceInbox, int]]:
    inbox = RefusingOnceInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_a_scheduled_tick_mails_and_posts_its_jobs_drift_events(
    nsd_server: Callable[..., tuple[str, int]],
    smtp_relay: tuple[RefusingOnceInbox, int],
    tmp_path: Any,
) -> None:
    host, port = nsd_server({"example": zone(WEAKENED)})
    inbox, smtp_port = smtp_relay
    store = open_store(
        str(tmp_path / "audits.db"),
        StoreLimits(webhook_attempts=1, webhook_timeout=0.5, webhook_backoff=0.01),
    )
    store.record_run(audit(BEFORE))  # the stronger zone, audited earlier
    limits = ServiceLimits(scheduler_interval=0.05, alert_attempts=3, alert_backoff=0.05)
    options = AuditOptions(
        nameservers=(f"{host}:{port}",),
        selectors=("s1", "s2"),
        use_default_selectors=False,
        limits=Limits(dns_timeout=2, domain_timeout=30),
    )
    relay = email_target("127.0.0.1", smtp_port, "plain", None, "audit@shop.example", ())
    try:
        with WebhookServer("ok") as hook, WebhookServer("slow", delay=2.0) as dead:
            given = ScheduleInput(
                name="nightly",
                cron="* * * * *",
                domains=("shop.example",),
                webhooks=(hook.url, dead.url),
                emails=("ops@shop.example", "dns@shop.example"),
            )
            create_schedule(store, given, limits)
            lag = 0.0

            async def main() -> tuple[int, str | None]:
                nonlocal lag
                manager = JobManager(store, options, limits)

                async def job_state(job_id: int) -> str | None:
                    job = await manager.get(job_id)
                    return None if job is None else job.status

                scheduler = Scheduler(
                    store, manager.submit, limits, job_state=job_state, mail=relay
                )
                try:
                    [fired] = await scheduler.tick(T0)
                    assert fired.run_id is not None, fired.error
                    deliveries_done = asyncio.gather(*scheduler._deliveries)
                    while not deliveries_done.done():  # the loop answers while targets hang
                        before = time.monotonic()
                        await asyncio.sleep(0.01)
                        lag = max(lag, time.monotonic() - before - 0.01)
                    await asyncio.wait_for(deliveries_done, 60)
                    return fired.run_id, await job_state(fired.run_id)
                finally:
                    await scheduler.aclose()
                    await manager.aclose()

            _, state = asyncio.run(main())
            assert state == "done"
            posted = [json.loads(body)["event"]["code"] for _, body in hook.received]
            tried_dead = len(dead.received)
    finally:
        with store.transaction(write=False) as conn:
            rows = {r.channel: r for r in conn.execute(select(deliveries))}
        store.close()
    assert "dmarc.policy_weakened" in posted and "dkim.key_shortened" in posted, posted
    assert len(posted) == len(set(posted))  # the retries sent the webhook nothing twice
    # one message to both addresses, accepted at the second try (the first was refused)
    assert inbox.tries == 2
    [(sender, rcpts, data)] = inbox.messages
    assert sender == "audit@shop.example"
    assert rcpts == ["ops@shop.example", "dns@shop.example"]
    body = message_from_bytes(data).get_payload(decode=True).decode()
    assert "dmarc.policy_weakened" in body and "dkim.key_shortened" in body
    # every outcome is recorded per (event, channel): the dead webhook failed 3 times
    assert {rows[c].status for c in rows if c.startswith("email:")} == {"delivered"}
    assert rows[f"webhook:{hook.url}"].status == "delivered"
    dead_row = rows[f"webhook:{dead.url}"]
    assert dead_row.status == "failed" and dead_row.attempts == 3
    assert "Timeout" in (dead_row.last_error or "")
    assert tried_dead >= 3
    assert lag < 1.0, lag  # one try at the dead webhook blocks its thread 0.5 s per event


def test_serve_smtp_flags_are_checked_before_the_store_is_touched(tmp_path: Any) -> None:
    store = tmp_path / "audits.db"
    for flags, reason in [
        (("--smtp", "127.0.0.1:2525"), "--smtp and --mail-from go together"),
        (("--smtp-user", "audit"), "need --smtp and --mail-from"),
        (("--smtp", "relay:x", "--mail-from", "a@b.example"), "--smtp: not a port"),
    ]:
        result = CliRunner().invoke(main, ["serve", "--store", str(store), *flags])
        assert result.exit_code == 2, result.output
        assert reason in result.output
    assert not store.exists()
