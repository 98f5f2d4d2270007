"""Every record type `RRType` names, asked from nsd on loopback with WireResolver and from the
same zone text with StaticResolver: both give the same typed values, flags and TTLs."""

from __future__ import annotations

import asyncio

import dns.rdata
import dns.rdtypes.ANY.CAA
import dns.rdtypes.ANY.SOA
import dns.rdtypes.ANY.TLSA
import dns.rdtypes.IN.HTTPS
import dns.rdtypes.IN.SVCB
import pytest

from mailauth_audit.options import Limits
from mailauth_audit.resolver.base import Answer, Rcode, RRType
from mailauth_audit.resolver.static import StaticResolver
from mailauth_audit.resolver.wire import WireResolver

TLSA = "3 1 1 " + "ab" * 32
DS = "2371 13 2 " + "cd" * 32
DNSKEY = (
    "257 3 13 "
    "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
)

ZONE = f"""\
$ORIGIN types.test.
$TTL 300
@        IN SOA ns1.types.test. hostmaster.types.test. 42 3600 900 604800 120
@        IN NS  ns1
@        IN NS  ns2.other.test.
ns1      IN A   127.0.0.1
@        IN CAA 0 issue "ca.example.net"
@        IN CAA 128 iodef "mailto:security@types.test"
@        IN DNSKEY {DNSKEY}
child    IN NS  ns1
child    IN DS  {DS}
_25._tcp.mx IN TLSA {TLSA}
_25._tcp.mx IN TLSA 2 0 1 {"ef" * 32}
svc      IN SVCB 1 pool.types.test. alpn="h2,h3" port=8443
www      IN HTTPS 1 . alpn=h2 ipv4hint=192.0.2.10
alias    IN CNAME _25._tcp.mx
"""

REVERSE = """\
$ORIGIN 2.0.192.in-addr.arpa.
$TTL 600
@        IN SOA ns1.types.test. hostmaster.types.test. 1 3600 900 604800 60
@        IN NS  ns1.types.test.
10       IN PTR www.types.test.
"""

ZONES = {"types.test": ZONE, "2.0.192.in-addr.arpa": REVERSE}
FAST = Limits(dns_timeout=2.0, dns_attempts=2)


def rd(rdtype: str, text: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text("IN", rdtype, text)


CASES = [
    ("types.test", RRType.NS, {"ns1.types.test", "ns2.other.test"}),
    (
        "types.test",
        RRType.SOA,
        {rd("SOA", "ns1.types.test. hostmaster.types.test. 42 3600 900 604800 120")},
    ),
    (
        "types.test",
        RRType.CAA,
        {
            rd("CAA", '0 issue "ca.example.net"'),
            rd("CAA", '128 iodef "mailto:security@types.test"'),
        },
    ),
    ("types.test", RRType.DNSKEY, {rd("DNSKEY", DNSKEY)}),
    ("child.types.test", RRType.DS, {rd("DS", DS)}),
    ("_25._tcp.mx.types.test", RRType.TLSA, {rd("TLSA", TLSA), rd("TLSA", "2 0 1 " + "ef" * 32)}),
    ("svc.types.test", RRType.SVCB, {rd("SVCB", '1 pool.types.test. alpn="h2,h3" port=8443')}),
    ("www.types.test", RRType.HTTPS, {rd("HTTPS", "1 . alpn=h2 ipv4hint=192.0.2.10")}),
    ("10.2.0.192.in-addr.arpa", RRType.PTR, {"www.types.test"}),
]


def ask_both(address: tuple[str, int], name: str, rdtype: RRType) -> tuple[Answer, Answer]:
    async def go() -> tuple[Answer, Answer]:
        resolver = WireResolver([address], limits=FAST)
        try:
            wire = await resolver.resolve(name, rdtype)
        finally:
            await resolver.aclose()
        static = StaticResolver(ZONE + REVERSE)
        return wire, await static.resolve(name, rdtype)

    return asyncio.run(go())


@pytest.fixture
def nsd(nsd_session_server) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    return nsd_session_server(ZONES)


@pytest.mark.nsd
@pytest.mark.parametrize(("name", "rdtype", "records"), CASES, ids=[c[1].name for c in CASES])
def test_wire_and_static_give_the_same_typed_records(nsd, name, rdtype, records) -> None:  # type: ignore[no-untyped-def]
    wire, static = ask_both(nsd, name, rdtype)
    for answer in (wire, static):
        assert answer.rcode is Rcode.NOERROR
        assert set(answer.records) == records
        assert not answer.authenticated_data  # nobody validated anything
        assert answer.extended_errors == ()
    assert wire.ttl == static.ttl
    assert wire.server == "{}:{}".format(*nsd)
    assert static.server == "static"


@pytest.mark.nsd
def test_values_are_dnspythons_typed_classes(nsd: tuple[str, int]) -> None:
    wire, _ = ask_both(nsd, "_25._tcp.mx.types.test", RRType.TLSA)
    usages = sorted(r.usage for r in wire.rdata())  # type: ignore[attr-defined]
    assert usages == [2, 3]
    assert all(isinstance(r, dns.rdtypes.ANY.TLSA.TLSA) for r in wire.records)
    (https,) = ask_both(nsd, "www.types.test", RRType.HTTPS)[0].records
    assert isinstance(https, dns.rdtypes.IN.HTTPS.HTTPS)
    (soa,) = ask_both(nsd, "types.test", RRType.SOA)[0].records
    assert isinstance(soa, dns.rdtypes.ANY.SOA.SOA) and soa.serial == 42


@pytest.mark.nsd
def test_a_cname_chain_ends_in_typed_records(nsd: tuple[str, int]) -> None:
    wire, static = ask_both(nsd, "alias.types.test", RRType.TLSA)
    for answer in (wire, static):
        assert answer.cname_chain == ("_25._tcp.mx.types.test",)
        assert set(answer.records) == CASES[5][2]


@pytest.mark.nsd
def test_nodata_for_a_new_type_is_a_value(nsd: tuple[str, int]) -> None:
    wire, static = ask_both(nsd, "svc.types.test", RRType.TLSA)
    for answer in (wire, static):
        assert answer.nodata and answer.ttl == 120


def test_static_resolver_names_its_zone_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "types.zone"
    path.write_text(ZONE)
    answer = asyncio.run(StaticResolver.from_file(path).resolve("types.test", RRType.CAA))
    assert answer.server == f"zone-file:{path}"
    assert not answer.authenticated_data


def test_static_resolver_answers_a_signed_zone_text_with_its_rrsigs() -> None:
    # RRSIGs over several types at one name: kept apart by the type they cover
    sig = "{} 13 2 300 20300101000000 20200101000000 2371 types.test. " + "x" * 86 + "=="
    text = ZONE + "".join(f"@ IN RRSIG {sig.format(t)}\n" for t in ("SOA", "NS", "CAA"))
    static = StaticResolver(text)

    async def go() -> tuple[Answer, Answer, Answer]:
        return (
            await static.resolve("types.test", RRType.CAA, dnssec_ok=True),
            await static.resolve("types.test", RRType.CAA),
            await static.resolve("types.test", RRType.RRSIG),
        )

    signed, plain, sigs = asyncio.run(go())
    assert [s.type_covered for s in signed.signatures] == [RRType.CAA]  # type: ignore[union-attr]
    assert not signed.authenticated_data
    assert plain.signatures == ()
    assert sorted(s.type_covered for s in sigs.records) == sorted(  # type: ignore[union-attr]
        [RRType.SOA, RRType.NS, RRType.CAA]
    )
