"""Every input the fuzz harness (`python -m tests.fuzz`) found to break a parser's promise,
minimised, with the bound or the typed result it must now give."""

from __future__ import annotations

import time

import pytest

from mailauth_audit.messages.hygiene import from_addresses
from mailauth_audit.messages.model import EnvelopeSource
from mailauth_audit.messages.verify import Envelope, verify_message_sync
from mailauth_audit.resolver.static import StaticResolver

from .targets import TARGETS

NO_ENVELOPE = Envelope(None, None, None, EnvelopeSource.GIVEN)
EMPTY_ZONE = ""


# found by the `message` target: the standard library's address parser recurses once per
# nested comment, so a From value of a thousand "(" raised RecursionError out of
# check_hygiene, and verify_message (and so the receive server) crashed on the message
NESTED_COMMENT_FROM = b"From: " + b"(" * 5000 + b"\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nx"


@pytest.mark.parametrize("depth", [1000, 5000, 50_000])
def test_from_with_deeply_nested_comments_has_no_address(depth: int) -> None:
    assert from_addresses(["(" * depth + "a@example.test"]) == []
    assert from_addresses(["a (" + "(" * depth + ") <a@example.test>"]) == []


def test_from_with_a_few_nested_comments_still_parses() -> None:
    assert from_addresses(["a ((x) y) <a@example.test>"]) == ["a@example.test"]


def test_verify_reports_a_from_of_nested_comments_instead_of_crashing() -> None:
    started = time.monotonic()
    report = verify_message_sync(NESTED_COMMENT_FROM, StaticResolver(EMPTY_ZONE), NO_ENVELOPE)
    assert time.monotonic() - started < 5
    assert report.parsed
    assert report.hygiene is not None and report.hygiene.from_domain is None
    assert "message.from_without_domain" in {f.code for f in report.findings}


def test_message_target_accepts_the_nested_comment_from() -> None:
    TARGETS["message"].make_run()(NESTED_COMMENT_FROM)
