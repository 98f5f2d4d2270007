"""Alert delivery: a signed webhook against a real HTTP server on loopback, email against a
real aiosmtpd; each event once per channel; failures retried with backoff, recorded, bounded."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from alert_servers import WebhookServer
from history_zones import BEFORE, KEY_1024, audit
from sqlalchemy import select

from mailauth_audit.options import StoreLimits
from mailauth_audit.store.deliver import (
    EVENT_HEADER,
    SIGNATURE_HEADER,
    deliver_events,
    email_target,
)
from mailauth_audit.store.schema import deliveries
from mailauth_audit.store.store import Store, open_store
from mailauth_audit.store.views import list_events

SECRET = "s3cret-from-the-environment"


def _store_with_events(url: str, limits: StoreLimits | None = None) -> Store:
    store = open_store(url, limits)
    store.record_run(audit(BEFORE))
    store.record_run(audit(dict(BEFORE, dmarc="v=DMARC1; p=none", dkim={"s1": KEY_1024})))
    return store


def _delivery_rows(store: Store) -> list[Any]:
    with store.transaction() as conn:
        return list(conn.execute(select(deliveries)))


def test_webhook_is_signed_and_each_event_sent_once(store_url: str) -> None:
    store = _store_with_events(store_url)
    found = list_events(store)
    assert found
    with WebhookServer("ok") as hook:
        outcomes = deliver_events(store, found, webhook=hook.url, webhook_secret=SECRET)
        assert [o.status for o in outcomes] == ["delivered"] * len(found)
        assert len(hook.received) == len(found)
        for headers, body in hook.received:
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            assert headers[SIGNATURE_HEADER.lower()] == expected
            doc = json.loads(body)
            assert headers[EVENT_HEADER.lower()] == doc["event_key"]
            assert doc["event"]["domain"] == "shop.example"
        # a second delivery of the same events sends nothing new
        assert deliver_events(store, list_events(store), webhook=hook.url) == []
        assert len(hook.received) == len(found)
    assert SECRET not in repr(_delivery_rows(store))
    store.close()


def test_a_failing_webhook_is_retried_with_backoff_then_recorded_failed(store_url: str) -> None:
    limits = StoreLimits(webhook_attempts=3, webhook_backoff=0.5)
    store = _store_with_events(store_url, limits)
    found = list_events(store)[:1]
    waits: list[float] = []
    with WebhookServer("error") as hook:
        [outcome] = deliver_events(store, found, webhook=hook.url, sleep=waits.append)
        assert len(hook.received) == 3
        assert (outcome.status, outcome.attempts, outcome.error) == ("failed", 3, "HTTP 500")
        assert waits == [0.5, 1.0]
        [row] = _delivery_rows(store)
        assert (row.status, row.attempts) == ("failed", 3)
        # the next delivery tries it again, and records its success
        hook.behaviour = "ok"
        [again] = deliver_events(store, found, webhook=hook.url)
    assert again.status == "delivered"
    [row] = _delivery_rows(store)
    assert (row.status, row.attempts) == ("delivered", 4)
    store.close()


def test_a_webhook_that_times_out_does_not_hold_the_delivery_up(store_url: str) -> None:
    limits = StoreLimits(webhook_attempts=2, webhook_timeout=0.5, webhook_backoff=0.1)
    store = _store_with_events(store_url, limits)
    found = list_events(store)[:2]
    start = time.monotonic()
    with WebhookServer("slow", delay=10) as hook:
        outcomes = deliver_events(store, found, webhook=hook.url)
    elapsed = time.monotonic() - start
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert all("Timeout" in (o.error or "") for o in outcomes)
    assert elapsed < 15  # 2 events x 2 attempts x 0.5 s, and the server's 10 s never waited for
    store.close()


def test_an_unreachable_webhook_is_recorded_failed(store_url: str) -> None:
    store = _store_with_events(store_url, StoreLimits(webhook_attempts=2, webhook_backoff=0.1))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
        outcomes = deliver_events(store, list_events(store)[:1], webhook=url)
    assert outcomes[0].status == "failed" and "ConnectError" in (outcomes[0].error or "")
    store.close()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_inbox() -> Any:
    inbox = _Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_email_goes_through_the_projects_smtp_sender_once(
    store_url: str, smtp_inbox: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp_inbox
    store = _store_with_events(store_url)
    found = list_events(store)
    target = email_target(
        "127.0.0.1", port, "plain", None, "audit@shop.example", ("ops@shop.example",)
    )
    outcomes = deliver_events(store, found, email=target)
    assert {o.status for o in outcomes} == {"delivered"} and len(outcomes) == len(found)
    [(sender, rcpts, data)] = inbox.messages
    assert sender == "audit@shop.example" and rcpts == ["ops@shop.example"]
    body = message_from_bytes(data).get_payload(decode=True).decode()
    assert "dmarc.policy_weakened" in body
    assert deliver_events(store, list_events(store), email=target) == []
    assert len(inbox.messages) == 1
    store.close()
