"""CachingResolver and RateLimitedResolver with the DO and CD bits: separate cache entries,
the bits passed on, the answer's flags and server handed out unchanged. Pure: no network."""

from __future__ import annotations

import asyncio

from mailauth_audit.resolver.base import Answer, ExtendedError, Provenance, Rcode, RRType
from mailauth_audit.resolver.caching import CachingResolver
from mailauth_audit.resolver.ratelimit import RateLimitedResolver


class FlagResolver:
    """Answers with AD when asked with DO, and records every call with its bits."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, RRType, bool, bool]] = []

    async def resolve(
        self,
        name: str,
        rdtype: RRType,
        *,
        dnssec_ok: bool = False,
        checking_disabled: bool = False,
    ) -> Answer:
        self.calls.append((name, rdtype, dnssec_ok, checking_disabled))
        await asyncio.sleep(0.01)  # in flight long enough for identical questions to join
        return Answer(
            name,
            rdtype,
            Rcode.NOERROR,
            ("192.0.2.1",),
            ttl=60,
            provenance=Provenance(
                "192.0.2.53:53",
                authenticated_data=dnssec_ok and not checking_disabled,
                checking_disabled=checking_disabled,
                extended_errors=(ExtendedError(3, "stale"),),
            ),
        )

    async def aclose(self) -> None:
        return None


class PlainResolver:
    """An inner resolver written before the bits existed: two positional arguments only."""

    def __init__(self) -> None:
        self.calls = 0

    async def resolve(self, name: str, rdtype: RRType) -> Answer:
        self.calls += 1
        return Answer(name, rdtype, Rcode.NOERROR, ("192.0.2.1",), (), 60)

    async def aclose(self) -> None:
        return None


def test_each_combination_of_bits_is_its_own_entry() -> None:
    inner = FlagResolver()
    cache = CachingResolver(inner)
    combos = [(False, False), (True, False), (False, True), (True, True)]

    async def go() -> list[Answer]:
        out = []
        for _ in range(2):
            for do, cd in combos:
                out.append(
                    await cache.resolve("A.test.", RRType.A, dnssec_ok=do, checking_disabled=cd)
                )
        return out

    answers = asyncio.run(go())
    assert inner.calls == [("a.test", RRType.A, do, cd) for do, cd in combos]
    assert answers[:4] == answers[4:]
    assert [a.authenticated_data for a in answers[:4]] == [False, True, False, False]
    assert [a.checking_disabled for a in answers[:4]] == [False, False, True, True]
    assert {a.server for a in answers} == {"192.0.2.53:53"}
    assert {a.extended_errors for a in answers} == {(ExtendedError(3, "stale"),)}
    assert cache.stats.hits == 4


def test_coalesced_dnssec_questions_share_one_query() -> None:
    inner = FlagResolver()
    cache = CachingResolver(inner)

    async def go() -> list[Answer]:
        return await asyncio.gather(
            *(cache.resolve("a.test", RRType.TLSA, dnssec_ok=True) for _ in range(5))
        )

    answers = asyncio.run(go())
    assert len(inner.calls) == 1 and cache.stats.coalesced == 4
    assert all(a.authenticated_data for a in answers)


def test_a_plain_inner_resolver_is_called_as_before() -> None:
    inner = PlainResolver()
    cache = CachingResolver(RateLimitedResolver(inner, 1000))

    async def go() -> Answer:
        await cache.resolve("a.test", RRType.A)
        return await cache.resolve("a.test", RRType.A)

    answer = asyncio.run(go())
    assert inner.calls == 1
    assert (answer.authenticated_data, answer.server, answer.signatures) == (False, "", ())


def test_the_rate_limiter_passes_the_bits_on() -> None:
    inner = FlagResolver()
    limited = RateLimitedResolver(inner, 1000)
    answer = asyncio.run(
        limited.resolve("a.test", RRType.DS, dnssec_ok=True, checking_disabled=True)
    )
    assert inner.calls == [("a.test", RRType.DS, True, True)]
    assert answer.checking_disabled
