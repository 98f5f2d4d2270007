"""Hostile TLSA RRsets against the DANE check: garbage rdata ends in a typed error, wrong-
length data in a precise finding, thousands of records are cut at Limits.max_tlsa_records
and said to be; all in bounded time, over a real UDP/TCP server (tests/hostile/dane_servers)."""

from __future__ import annotations

import asyncio
import time

from dane_servers import HostileTlsaServer

from mailauth_audit.asyncapi import audit_domain
from mailauth_audit.checks.dane import DaneResult
from mailauth_audit.model import CheckId, CheckStatus, DomainReport, ErrorReason
from mailauth_audit.options import AuditOptions, Limits

DOMAIN = "hostile.test"
GOOD = bytes([3, 1, 1]) + bytes(range(32))


def audit(server: HostileTlsaServer) -> tuple[DomainReport, float]:
    options = AuditOptions(
        checks=frozenset({CheckId.DANE}),
        nameservers=(server.address,),
        limits=Limits(dns_timeout=2.0, dns_attempts=1),
    )
    started = time.monotonic()
    report = asyncio.run(audit_domain(DOMAIN, options))
    return report, time.monotonic() - started


def test_garbage_tlsa_rdata_is_a_typed_error_in_bounded_time() -> None:
    # Given a TLSA record of two bytes (the three fixed octets do not even fit)
    with HostileTlsaServer([b"\x03\x01"]) as server:
        report, seconds = audit(server)
    outcome = report.checks[CheckId.DANE]
    # Then the check says it could not read the answer, and why; never "not deployed"
    assert outcome.status is CheckStatus.ERROR
    assert outcome.error is not None
    assert outcome.error.reason is ErrorReason.DNS_PROTOCOL_ERROR
    assert "TLSA" in outcome.error.message
    assert seconds < 10


def test_wrong_length_association_data_is_a_typed_error_naming_it() -> None:
    # Given a `3 1 1` record with one byte where SHA-256 needs 32, beside a good one
    with HostileTlsaServer([bytes([3, 1, 1, 0]), GOOD]) as server:
        report, seconds = audit(server)
    outcome = report.checks[CheckId.DANE]
    assert outcome.error is not None
    assert outcome.error.reason is ErrorReason.DNS_PROTOCOL_ERROR
    assert "length inconsistent with matching type" in outcome.error.message
    assert seconds < 10


def test_hundreds_of_tlsa_records_are_cut_at_the_limit_and_said() -> None:
    # Given 800 distinct TLSA records (over TCP: far past a UDP answer, within 64 KiB)
    records = [bytes([3, 1, 1]) + i.to_bytes(32, "big") for i in range(800)]
    with HostileTlsaServer(records) as server:
        report, seconds = audit(server)
    outcome = report.checks[CheckId.DANE]
    result = outcome.result
    assert isinstance(result, DaneResult)
    host = result.hosts[0]
    limit = Limits().max_tlsa_records
    assert len(host.records) == limit and host.records_not_checked == 800 - limit
    assert "dane.records_not_checked" in {f.code for f in outcome.findings}
    assert seconds < 20
