"""A probe that could not be completed is "could not check" with its own reason: a 421 from a
rate-limited MX must never read as "no STARTTLS" (the check's status is error, not fail)."""

from __future__ import annotations

import pytest

from mailauth_audit.engine.outcome import outcome_from_exception
from mailauth_audit.errors import (
    ProbeConnectionRefused,
    ProbeError,
    ProbeFailure,
    ProbeReplyTooLarge,
    ProbeTemporarilyUnavailable,
    ProbeTimeout,
    ProbeTlsHandshakeFailed,
)
from mailauth_audit.model import CheckId, CheckStatus, ErrorReason


def test_every_probe_failure_is_an_error_reason() -> None:
    for failure in ProbeFailure:
        assert ErrorReason(failure.value).value == failure.value


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (ProbeConnectionRefused("mx.test", "127.0.0.1", 25), ErrorReason.CONNECTION_REFUSED),
        (ProbeTimeout("mx.test", "127.0.0.1", 25, stage="banner"), ErrorReason.PROBE_TIMEOUT),
        (ProbeTlsHandshakeFailed("mx.test", "::1", 25), ErrorReason.TLS_HANDSHAKE_FAILED),
        (ProbeReplyTooLarge("mx.test", "127.0.0.1", 25), ErrorReason.REPLY_TOO_LARGE),
    ],
)
def test_probe_errors_map_to_their_reason(exc: ProbeError, reason: ErrorReason) -> None:
    outcome = outcome_from_exception(CheckId.MX, exc)
    assert outcome.status is CheckStatus.ERROR
    assert outcome.error is not None and outcome.error.reason is reason
    assert outcome.error.message.startswith("could not check: ")
    assert "mx.test" in outcome.error.message


def test_a_421_is_temporarily_unavailable_not_a_bug() -> None:
    exc = ProbeTemporarilyUnavailable(
        "mx.test", "127.0.0.1", 25, stage="banner", code=421, text="4.7.0 too many connections"
    )
    outcome = outcome_from_exception(CheckId.MX, exc)
    assert outcome.error is not None
    assert outcome.error.reason is ErrorReason.TEMPORARILY_UNAVAILABLE
    assert "421" in outcome.error.message
