"""Hostile DNS answers and hostile local input: each reported for what it is, in bounded time.

Every server here is a `FaultServer` thread on loopback (tests/dnsservers.py) that sends what a
broken or hostile nameserver sends. The rule under test: a broken answer is "could not check"
with a precise reason (never "record missing"), a truncated answer is fetched over TCP, and
nothing waits longer than the attempts x timeout the user allowed.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dnsservers import TCP_ONLY_TEXT, FaultServer

from mailauth_audit.errors import (
    ConfigurationError,
    DnsProtocolError,
    DnsRefused,
    DnsTimeout,
    ResolverError,
)
from mailauth_audit.options import Limits
from mailauth_audit.resolver.base import Answer, RRType, TxtRecord
from mailauth_audit.resolver.static import StaticResolver
from mailauth_audit.resolver.wire import WireResolver

# generous: the machine is shared; the bound under test is attempts x timeout
SLACK = 5.0

FaultFactory = Callable[..., FaultServer]


def ask(resolver: WireResolver, name: str = "x.test", rdtype: RRType = RRType.TXT) -> Answer:
    async def go() -> Answer:
        try:
            # a hang shows up as a TimeoutError from here, not as a stuck test run
            return await asyncio.wait_for(resolver.resolve(name, rdtype), 30)
        finally:
            await resolver.aclose()

    return asyncio.run(go())


def timed_error(resolver: WireResolver) -> tuple[ResolverError, float]:
    started = time.monotonic()
    with pytest.raises(ResolverError) as info:
        ask(resolver)
    return info.value, time.monotonic() - started


# --- item 12: broken answers are not "record missing" ---------------------------------------


def test_extended_rcode_badvers_is_a_protocol_error(fault_server: FaultFactory) -> None:
    # Given a server whose header says NOERROR but whose OPT record says BADVERS
    server = fault_server("badvers")
    resolver = WireResolver([server.address], limits=Limits(dns_timeout=2.0, dns_attempts=3))
    error, elapsed = timed_error(resolver)
    assert type(error) is DnsProtocolError
    assert "BADVERS" in error.detail
    assert elapsed < SLACK  # an answer ends it: no timeout is waited out
    assert server.udp_queries == 1


def test_truncated_answer_over_tcp_is_a_protocol_error(fault_server: FaultFactory) -> None:
    # Given TC over UDP, then an empty answer over TCP that is itself marked TC
    server = fault_server("tcp-truncated")
    resolver = WireResolver([server.address], limits=Limits(dns_timeout=2.0, dns_attempts=3))
    error, elapsed = timed_error(resolver)
    assert type(error) is DnsProtocolError
    assert "TCP" in error.detail and "truncated" in error.detail
    assert elapsed < SLACK
    assert (server.udp_queries, server.tcp_queries) == (1, 1)


# --- item 13: the right reason, and the retries that were missing ---------------------------


def test_tcp_that_never_answers_is_a_timeout_and_is_retried(fault_server: FaultFactory) -> None:
    # Given TC over UDP, then a TCP server that takes the query and never answers
    server = fault_server("tcp-silent")
    resolver = WireResolver([server.address], limits=Limits(dns_timeout=0.3, dns_attempts=2))
    error, elapsed = timed_error(resolver)
    assert type(error) is DnsTimeout
    assert (server.udp_queries, server.tcp_queries) == (2, 2)  # every attempt tried TCP
    assert resolver.stats.timeouts == 2
    assert 0.5 < elapsed < 0.6 + SLACK


@pytest.mark.parametrize(
    ("behaviour", "error_type", "edns_retry"),
    [("refused-no-question", DnsRefused, False), ("formerr-no-question", DnsProtocolError, True)],
)
def test_error_reply_without_a_question_is_taken_at_once(
    fault_server: FaultFactory, behaviour: str, error_type: type, edns_retry: bool
) -> None:
    # Given a server that answers with the query's id, an error rcode and QDCOUNT=0
    server = fault_server(behaviour)
    resolver = WireResolver([server.address], limits=Limits(dns_timeout=3.0, dns_attempts=3))
    error, elapsed = timed_error(resolver)
    assert type(error) is error_type
    assert elapsed < 2.5  # well under one 3 s timeout: the reply was read, not waited out
    # FORMERR is asked once more without EDNS, REFUSED is final for the server
    assert server.udp_queries == (2 if edns_retry else 1)


def test_truncated_answer_with_partial_records_is_fetched_over_tcp(
    fault_server: FaultFactory,
) -> None:
    # Given TC over UDP with ANCOUNT=3 and the message cut inside the second record
    server = fault_server("truncated-partial")
    resolver = WireResolver([server.address], limits=Limits(dns_timeout=2.0, dns_attempts=1))
    answer = ask(resolver)
    assert answer.records == (TxtRecord((TCP_ONLY_TEXT,)),)
    assert (server.udp_queries, server.tcp_queries) == (1, 1)
    assert resolver.stats.truncated == 1


def test_formerr_to_edns_is_asked_again_without_edns(fault_server: FaultFactory) -> None:
    # Given a server that answers FORMERR to any query with an OPT record
    server = fault_server("formerr-to-edns")
    resolver = WireResolver([server.address], limits=Limits(dns_timeout=2.0, dns_attempts=1))
    answer = ask(resolver)
    assert answer.records == (TxtRecord((TCP_ONLY_TEXT,)),)
    assert (server.udp_queries, server.edns_queries) == (2, 1)

    # and the server is remembered as one without EDNS: the next question goes without it
    async def again() -> Answer:
        try:
            await resolver.resolve("y.test", RRType.TXT)
            return await resolver.resolve("z.test", RRType.TXT)
        finally:
            await resolver.aclose()

    assert asyncio.run(again()).records == (TxtRecord((TCP_ONLY_TEXT,)),)
    assert (server.udp_queries, server.edns_queries) == (4, 1)


def test_formerr_without_edns_too_is_a_protocol_error(fault_server: FaultFactory) -> None:
    server = fault_server("formerr")
    resolver = WireResolver([server.address], limits=Limits(dns_timeout=2.0, dns_attempts=3))
    error, elapsed = timed_error(resolver)
    assert type(error) is DnsProtocolError and "FORMERR" in error.detail
    assert (server.udp_queries, server.edns_queries) == (2, 1)
    assert elapsed < SLACK


# --- the same cases end to end: `check` exits 3 with the reason, never "missing" -------------


def cli(*args: str, timeout: float = 60, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("badvers", "dns_protocol_error"),
        ("tcp-truncated", "dns_protocol_error"),
        ("refused-no-question", "dns_refused"),
        ("formerr-no-question", "dns_protocol_error"),
        ("tcp-silent", "dns_timeout"),
    ],
)
def test_check_reports_the_reason_and_exits_3(
    fault_server: FaultFactory, tmp_path: Path, behaviour: str, reason: str
) -> None:
    host, port = fault_server(behaviour).address
    out = tmp_path / "report.json"
    started = time.monotonic()
    res = cli(
        "check",
        "--nameserver",
        f"{host}:{port}",
        "--timeout",
        "0.5",
        "--retries",
        "1",
        "--format",
        "json",
        "-o",
        str(out),
        "x.test",
    )
    elapsed = time.monotonic() - started
    assert res.returncode == 3, res.stderr
    domain = json.loads(out.read_text())["domains"][0]
    for check in domain["checks"].values():
        assert check["status"] == "error", check
        # the probe checks need the MX hosts: they name the MX check's reason as theirs
        if check["error"]["reason"] == "dependency_failed":
            assert f"({reason})" in check["error"]["message"]
        else:
            assert check["error"]["reason"] == reason
    assert domain["findings"] == []  # never spf.missing, dmarc.missing
    # a chain of dependent questions, each within 2 attempts x 0.5 s, plus start-up
    assert elapsed < 30


@pytest.mark.parametrize("behaviour", ["truncated-partial", "formerr-to-edns"])
def test_check_reads_the_record_a_fallback_brings(
    fault_server: FaultFactory, tmp_path: Path, behaviour: str
) -> None:
    host, port = fault_server(behaviour).address
    out = tmp_path / "report.json"
    res = cli(
        "check",
        "--nameserver",
        f"{host}:{port}",
        "--timeout",
        "0.5",
        "--checks",
        "spf",
        "--format",
        "json",
        "-o",
        str(out),
        "x.test",
    )
    assert res.returncode == 0, res.stderr
    spf = json.loads(out.read_text())["domains"][0]["checks"]["spf"]
    assert spf["status"] != "error", spf
    assert spf["result"]["record"] == TCP_ONLY_TEXT.decode()
    assert "spf.missing" not in {f["code"] for f in spf["findings"]}


# --- item 15: local input -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "1e400", "0", "-1"])
def test_non_finite_or_non_positive_timeout_is_a_usage_error(value: str) -> None:
    started = time.monotonic()
    res = cli("check", "--nameserver", "127.0.0.1:9", "--timeout", value, "x.test", timeout=30)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "--timeout" in res.stderr
    assert "Traceback" not in res.stderr
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("value", [math.nan, math.inf, 0.0, -1.0])
def test_library_rejects_a_timeout_that_cannot_end(value: float) -> None:
    with pytest.raises(ConfigurationError, match="dns_timeout"):
        WireResolver([("127.0.0.1", 53)], limits=Limits(dns_timeout=value))


def _limit_memory() -> None:
    # protects the machine if the bound is missing: the unbounded read fails, not the host
    cap = 2 << 30
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def test_zone_file_from_dev_zero_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    err_path = tmp_path / "stderr"
    started = time.monotonic()
    with err_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mailauth_audit", "check", "--zone-file", "/dev/zero", "x.test"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=_limit_memory,
        )
        # wait4 gives this child's own peak resident size (KiB on Linux)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - started
    stderr = err_path.read_text(errors="replace")
    assert proc.returncode == 2, stderr[-2000:]
    assert "larger than" in stderr and "64 MiB" in stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert elapsed < 30
    # the 64 MiB cap plus the interpreter, not the whole of /dev/zero
    assert usage.ru_maxrss < 600 * 1024


def test_zone_file_size_limit_is_a_named_bound(tmp_path: Path) -> None:
    zone = tmp_path / "big.zone"
    zone.write_text('x.test. 300 IN TXT "v=spf1 -all"\n' * 100)
    with pytest.raises(ConfigurationError, match="larger than"):
        StaticResolver.from_file(zone, max_bytes=1000)
    assert StaticResolver.from_file(zone, max_bytes=zone.stat().st_size).queries == 0
    assert Limits().max_zone_file_bytes == 64 * 1024 * 1024


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("0.5", True),
        ("2", True),
        ("10", True),
        ("0.01", False),
        ("11", False),
        ("nan", False),
        ("inf", False),
        ("-inf", False),
        ("", False),
        ("two", False),
    ],
)
def test_finite_positive_float_type(text: str, accepted: bool) -> None:
    import click

    from mailauth_audit.cli.common import FinitePositiveFloat

    kind = FinitePositiveFloat(min=0.05, max=10)
    if accepted:
        assert kind.convert(text, None, None) == float(text)
    else:
        with pytest.raises(click.BadParameter):
            kind.convert(text, None, None)
