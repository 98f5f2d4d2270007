"""The AD bit, RRSIGs and Extended DNS Errors end to end: WireResolver against a validating
unbound in front of a zone signed with ldns-signzone in nsd (tests/dnssec_servers.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import dns.rdata
import pytest
from dnssec_servers import ORIGIN, TLSA_DATA, DnssecLab

from mailauth_audit.errors import DnsServfail
from mailauth_audit.options import Limits
from mailauth_audit.resolver.base import Answer, RRType, TxtRecord
from mailauth_audit.resolver.caching import CachingResolver
from mailauth_audit.resolver.wire import WireResolver

FAST = Limits(dns_timeout=3.0, dns_attempts=2)
T = TypeVar("T")


def run(resolver: WireResolver, ask: Callable[[WireResolver], Awaitable[T]]) -> T:
    async def go() -> T:
        try:
            return await ask(resolver)
        finally:
            await resolver.aclose()

    return asyncio.run(go())


def wire(address: tuple[str, int]) -> WireResolver:
    return WireResolver([address], limits=FAST)


def test_secure_answer_through_the_validator_has_ad_and_its_rrsigs(dnssec_lab: DnssecLab) -> None:
    host, port = dnssec_lab.validator
    answer = run(
        wire(dnssec_lab.validator), lambda r: r.resolve(ORIGIN, RRType.TXT, dnssec_ok=True)
    )
    assert answer.records == (TxtRecord((b"v=spf1 -all",)),)
    assert answer.authenticated_data
    assert not answer.checking_disabled
    assert answer.server == f"{host}:{port}"
    assert answer.extended_errors == ()
    assert [sig.type_covered for sig in answer.signatures] == [RRType.TXT]  # type: ignore[union-attr]
    assert answer.signatures[0].signer.to_text() == ORIGIN + "."  # type: ignore[union-attr]


def test_the_same_answer_straight_from_nsd_has_no_ad(dnssec_lab: DnssecLab) -> None:
    host, port = dnssec_lab.authoritative
    answer = run(
        wire(dnssec_lab.authoritative), lambda r: r.resolve(ORIGIN, RRType.TXT, dnssec_ok=True)
    )
    assert answer.records == (TxtRecord((b"v=spf1 -all",)),)
    assert not answer.authenticated_data  # an authoritative server does not validate
    assert len(answer.signatures) == 1  # but does send the RRSIG
    assert answer.server == f"{host}:{port}"


def test_without_do_no_rrsigs_and_no_ad(dnssec_lab: DnssecLab) -> None:
    # RFC 6840 §5.8: a validator sets AD for a query with neither DO nor AD set only if it
    # wants to; unbound does not, so a check that needs AD must ask with dnssec_ok
    answer = run(wire(dnssec_lab.validator), lambda r: r.resolve(ORIGIN, RRType.TXT))
    assert answer.records == (TxtRecord((b"v=spf1 -all",)),)
    assert answer.signatures == ()
    assert not answer.authenticated_data


def test_tlsa_is_validated_and_typed(dnssec_lab: DnssecLab) -> None:
    name = f"_25._tcp.mx1.{ORIGIN}"
    answer = run(wire(dnssec_lab.validator), lambda r: r.resolve(name, RRType.TLSA, dnssec_ok=True))
    assert answer.records == (dns.rdata.from_text("IN", "TLSA", TLSA_DATA),)
    assert answer.authenticated_data
    assert answer.ttl == 300


def test_dnskey_and_soa_are_typed_and_validated(dnssec_lab: DnssecLab) -> None:
    async def both(r: WireResolver) -> tuple[Answer, Answer]:
        key = await r.resolve(ORIGIN, RRType.DNSKEY, dnssec_ok=True)
        soa = await r.resolve(ORIGIN, RRType.SOA, dnssec_ok=True)
        return key, soa

    key, soa = run(wire(dnssec_lab.validator), both)
    assert key.authenticated_data and soa.authenticated_data
    assert key.records == (
        dns.rdata.from_text("IN", "DNSKEY", dnssec_lab.trust_anchor.split(None, 3)[3]),
    )
    assert soa.records[0].serial == 1  # type: ignore[union-attr]


def test_bogus_answer_is_servfail_with_the_validators_extended_error(
    dnssec_lab: DnssecLab,
) -> None:
    name = f"bogus.{ORIGIN}"
    with pytest.raises(DnsServfail) as caught:
        run(wire(dnssec_lab.validator), lambda r: r.resolve(name, RRType.TXT, dnssec_ok=True))
    errors = caught.value.extended_errors  # type: ignore[attr-defined]
    assert [e.info_code for e in errors] == [6]  # RFC 8914 §4.7: DNSSEC Bogus
    assert errors[0].text  # unbound says why


def test_checking_disabled_gets_the_bogus_data_without_ad(dnssec_lab: DnssecLab) -> None:
    name = f"bogus.{ORIGIN}"
    answer = run(
        wire(dnssec_lab.validator),
        lambda r: r.resolve(name, RRType.TXT, dnssec_ok=True, checking_disabled=True),
    )
    assert answer.records == (TxtRecord((b"tampered",)),)
    assert answer.checking_disabled
    assert not answer.authenticated_data


def test_the_cache_keeps_dnssec_questions_apart_and_passes_flags_through(
    dnssec_lab: DnssecLab,
) -> None:
    inner = wire(dnssec_lab.validator)
    cache = CachingResolver(inner)
    host, port = dnssec_lab.validator

    async def go() -> list[Answer]:
        try:
            return [
                await cache.resolve(ORIGIN, RRType.TXT),
                await cache.resolve(ORIGIN, RRType.TXT, dnssec_ok=True),
                await cache.resolve(ORIGIN, RRType.TXT, dnssec_ok=True),
                await cache.resolve(ORIGIN, RRType.TXT),
                await cache.resolve(ORIGIN, RRType.TXT, checking_disabled=True),
            ]
        finally:
            await cache.aclose()

    plain, signed, signed_again, plain_again, unchecked = asyncio.run(go())
    assert cache.stats.upstream_queries == 3
    assert signed_again is signed and plain_again is plain
    assert signed.authenticated_data and signed.signatures
    assert not plain.authenticated_data and not plain.signatures
    assert unchecked.checking_disabled
    assert {a.server for a in (plain, signed, unchecked)} == {f"{host}:{port}"}
