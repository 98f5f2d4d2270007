"""Pure parts of the probes: reply lines, EHLO keywords, name matching, content types,
limits and error reasons. No I/O."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailauth_audit.errors import (
    ProbeConnectionRefused,
    ProbeError,
    ProbeFailure,
    ProbeTemporarilyUnavailable,
    ProbeTimeout,
)
from mailauth_audit.model import ErrorReason
from mailauth_audit.options import ProbeLimits
from mailauth_audit.probes import CertificateSummary, SmtpReply
from mailauth_audit.probes.base import check_target, split_content_type
from mailauth_audit.probes.certs import hostname_matches
from mailauth_audit.probes.smtp import parse_ehlo_reply, parse_reply_line


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"220 mx.example.com ESMTP\r\n", (220, True, "mx.example.com ESMTP")),
        (b"250-PIPELINING\r\n", (250, False, "PIPELINING")),
        (b"250\r\n", (250, True, "")),
        (b"421 busy\n", (421, True, "busy")),
        (b"220 caf\xc3\xa9\r\n", (220, True, "café")),
        (b"220 \xff\r\n", (220, True, "\ufffd")),
    ],
)
def test_reply_lines(raw: bytes, expected: tuple[int, bool, str]) -> None:
    assert parse_reply_line(raw) == expected


@pytest.mark.parametrize("raw", [b"hello\r\n", b"22\r\n", b"2200 x\r\n", b"120 x\r\n", b"\r\n"])
def test_bad_reply_lines(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_reply_line(raw)


@given(st.binary(max_size=200))
def test_reply_line_parser_never_crashes(raw: bytes) -> None:
    try:
        code, _, text = parse_reply_line(raw + b"\r\n")
    except ValueError:
        return
    assert 200 <= code <= 599 and isinstance(text, str)


def test_ehlo_keywords() -> None:
    reply = SmtpReply(250, ("mx hello [192.0.2.1]", "size 1000", " STARTTLS ", "AUTH PLAIN LOGIN"))
    greeting, extensions = parse_ehlo_reply(reply)
    assert greeting == "mx hello [192.0.2.1]"
    assert extensions == (("SIZE", "1000"), ("STARTTLS", ""), ("AUTH", "PLAIN LOGIN"))


def _summary(dns: tuple[str, ...] = (), ips: tuple[str, ...] = (), cn: str | None = None):
    now = datetime.now(UTC)
    return CertificateSummary(
        subject="",
        issuer="",
        dns_names=dns,
        ip_addresses=ips,
        common_name=cn,
        not_before=now,
        not_after=now,
        key_type="ec",
        key_bits=256,
        curve="secp256r1",
        signature_algorithm="ecdsa-with-SHA256",
        serial_number="1",
        sha256_fingerprint="00",
        self_issued=False,
    )


@pytest.mark.parametrize(
    ("names", "host", "matches"),
    [
        (("mx.example.com",), "mx.example.com", True),
        (("MX.Example.COM.",), "mx.example.com.", True),
        (("*.example.com",), "mx.example.com", True),
        (("*.example.com",), "a.b.example.com", False),  # one label only
        (("*.example.com",), "example.com", False),
        (("*.com",), "example.com", False),  # never a bare suffix
        (("m*.example.com",), "mx.example.com", False),  # partial wildcards not honoured
        (("other.example.com",), "mx.example.com", False),
        ((), "mx.example.com", False),
    ],
)
def test_dns_name_matching(names: tuple[str, ...], host: str, matches: bool) -> None:
    assert hostname_matches(_summary(dns=names), host) is matches


def test_common_name_only_without_dns_names() -> None:
    assert hostname_matches(_summary(cn="mx.example.com"), "mx.example.com")
    assert not hostname_matches(
        _summary(dns=("a.example.com",), cn="mx.example.com"), "mx.example.com"
    )


def test_address_literals_match_ip_entries_only() -> None:
    assert hostname_matches(_summary(ips=("192.0.2.1",)), "192.0.2.1")
    assert hostname_matches(_summary(ips=("2001:db8::1",)), "[2001:db8:0::1]")
    assert not hostname_matches(_summary(dns=("192.0.2.1",)), "192.0.2.1")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text/plain", ("text/plain", None)),
        ('Text/Plain; Charset="UTF-8"', ("text/plain", "utf-8")),
        ("text/plain; format=flowed; charset=us-ascii", ("text/plain", "us-ascii")),
        (None, (None, None)),
        ("", (None, None)),
    ],
)
def test_content_type(value: str | None, expected: tuple[str | None, str | None]) -> None:
    assert split_content_type(value) == expected


@pytest.mark.parametrize(
    ("host", "address", "port"),
    [("mx.example.com", "mx.example.com", 25), ("mx", "192.0.2.1", 0), ("a b", "192.0.2.1", 25)],
)
def test_targets_refused(host: str, address: str, port: int) -> None:
    with pytest.raises(ValueError):
        check_target(host, address, port)


def test_target_address_is_canonical() -> None:
    assert check_target("mx", "[2001:DB8:0::1]", 25) == "2001:db8::1"


def test_limits_defaults_and_validation() -> None:
    limits = ProbeLimits()
    assert limits.max_body_bytes == 64 * 1024 and limits.max_connections_per_address == 1
    for name in ("connect_timeout", "smtp_total_timeout", "https_total_timeout"):
        for bad in (0, -1, math.inf, math.nan):
            with pytest.raises(ValueError, match=name):
                ProbeLimits(**{name: bad})
    for name in ("max_reply_lines", "max_body_bytes", "max_connections_per_address"):
        with pytest.raises(ValueError, match=name):
            ProbeLimits(**{name: 0})
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.max_body_bytes = 1  # type: ignore[misc]


def test_probe_errors_say_could_not_test() -> None:
    err = ProbeTemporarilyUnavailable("mx", "192.0.2.1", 25, stage="banner", code=421, text="busy")
    assert "421 busy" in str(err) and "mx [192.0.2.1]:25" in str(err)
    assert err.failure is ProbeFailure.TEMPORARILY_UNAVAILABLE
    # every probe failure is an error reason of its own: "could not test", never "missing"
    assert err.reason is ErrorReason.TEMPORARILY_UNAVAILABLE
    assert ProbeConnectionRefused("mx", "192.0.2.1", 25).reason is ErrorReason.CONNECTION_REFUSED
    assert isinstance(ProbeTimeout("mx", "192.0.2.1", 25), ProbeError)
    assert len({e.value for e in ProbeFailure}) == len(ProbeFailure)
