"""WireResolver against real servers on loopback: nsd for answers, Python threads for faults."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable

import pytest

from mailauth_audit.errors import (
    DnsCnameLoop,
    DnsProtocolError,
    DnsRefused,
    DnsServfail,
    DnsTimeout,
    NetworkUnreachable,
)
from mailauth_audit.options import Limits
from mailauth_audit.resolver.base import Answer, MxRecord, Rcode, RRType, TxtRecord
from mailauth_audit.resolver.wire import WireResolver

BIG_STRINGS = tuple(bytes([0x61 + i]) * 255 for i in range(16))  # 16 x 255 = 4 KB of TXT

EXAMPLE_ZONE = (
    """\
$ORIGIN example.test.
$TTL 300
@        IN SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 120
@        IN NS  ns1
ns1      IN A   127.0.0.1
@        IN MX  10 mx1
@        IN MX  20 MX2.Other.Test.
@        IN TXT "v=spf1 -all"
mx1  600 IN A   192.0.2.1
mx1      IN A   192.0.2.2
mx1      IN AAAA 2001:db8::1
nullmx   IN MX  0 .
alias    IN CNAME mx1
alias2   IN CNAME alias
out      IN CNAME target.other.test.
dangling IN CNAME nothing.other.test.
loop1    IN CNAME loop2
loop2    IN CNAME loop1
weird    IN TXT "say \\"hi\\"; \\255\\000end" "second"
a.deep   IN A   192.0.2.9
"""
    + "big IN TXT "
    + " ".join(f'"{s.decode()}"' for s in BIG_STRINGS)
    + "\n"
    + "".join(f"c{i} IN CNAME c{i + 1}\n" for i in range(10))
    + "c10 IN A 192.0.2.10\n"
)

OTHER_ZONE = """\
$ORIGIN other.test.
$TTL 300
@        IN SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 60
@        IN NS  ns1.example.test.
target   IN A   198.51.100.5
"""

ZONES = {"example.test": EXAMPLE_ZONE, "other.test": OTHER_ZONE}
FAST = Limits(dns_timeout=1.0, dns_attempts=1)
TINY = Limits(dns_timeout=0.2, dns_attempts=1)


def ask(resolver: WireResolver, name: str, rdtype: RRType) -> Answer:
    async def go() -> Answer:
        try:
            return await resolver.resolve(name, rdtype)
        finally:
            await resolver.aclose()

    return asyncio.run(go())


@pytest.fixture
def nsd(nsd_session_server) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    return nsd_session_server(ZONES)


@pytest.fixture
def resolver(nsd: tuple[str, int]) -> WireResolver:
    return WireResolver([nsd], limits=FAST)


@pytest.mark.nsd
@pytest.mark.parametrize(
    ("name", "rdtype", "records", "ttl"),
    [
        ("mx1.example.test", RRType.A, {"192.0.2.1", "192.0.2.2"}, 300),
        ("MX1.Example.Test.", RRType.A, {"192.0.2.1", "192.0.2.2"}, 300),
        ("mx1.example.test", RRType.AAAA, {"2001:db8::1"}, 300),
        (
            "example.test",
            RRType.MX,
            {MxRecord(10, "mx1.example.test"), MxRecord(20, "mx2.other.test")},
            300,
        ),
        ("nullmx.example.test", RRType.MX, {MxRecord(0, "")}, 300),
        ("example.test", RRType.TXT, {TxtRecord((b"v=spf1 -all",))}, 300),
        ("example.test", RRType.NS, {"ns1.example.test"}, 300),
        ("alias.example.test", RRType.CNAME, {"mx1.example.test"}, 300),
    ],
)
def test_records_are_decoded(resolver, name, rdtype, records, ttl) -> None:  # type: ignore[no-untyped-def]
    answer = ask(resolver, name, rdtype)
    assert answer.rcode is Rcode.NOERROR
    assert answer.qname == name.rstrip(".").lower()
    assert set(answer.records) == records
    assert answer.cname_chain == ()
    assert answer.ttl == ttl


@pytest.mark.nsd
def test_ttl_is_the_minimum_of_the_rrset_and_chain(resolver: WireResolver) -> None:
    # mx1 A has TTLs 600 and 300 in the zone; nsd serves the RRset with one TTL, chain adds 300
    answer = ask(resolver, "alias2.example.test", RRType.A)
    assert answer.cname_chain == ("alias.example.test", "mx1.example.test")
    assert set(answer.records) == {"192.0.2.1", "192.0.2.2"}
    assert answer.ttl <= 300


@pytest.mark.nsd
def test_out_of_zone_cname_target_is_asked_again(resolver: WireResolver) -> None:
    answer = ask(resolver, "out.example.test", RRType.A)
    assert answer.rcode is Rcode.NOERROR
    assert answer.cname_chain == ("target.other.test",)
    assert answer.records == ("198.51.100.5",)
    assert answer.canonical_name == "target.other.test"


@pytest.mark.nsd
def test_cname_to_missing_name_is_nxdomain_with_the_chain(resolver: WireResolver) -> None:
    answer = ask(resolver, "dangling.example.test", RRType.TXT)
    assert answer.rcode is Rcode.NXDOMAIN
    assert answer.cname_chain == ("nothing.other.test",)
    assert answer.ttl == 60  # other.test's negative TTL: min(300, 60)


@pytest.mark.nsd
@pytest.mark.parametrize(
    ("name", "rcode"),
    [
        ("missing.example.test", Rcode.NXDOMAIN),
        ("mx1.example.test", Rcode.NOERROR),  # exists, but no TXT: NODATA
        ("deep.example.test", Rcode.NOERROR),  # empty non-terminal: NODATA
    ],
)
def test_nxdomain_and_nodata_are_values(resolver, name, rcode) -> None:  # type: ignore[no-untyped-def]
    answer = ask(resolver, name, RRType.TXT)
    assert answer.rcode is rcode
    assert answer.records == ()
    assert answer.empty
    assert answer.ttl == 120  # min(SOA TTL 300, SOA minimum 120)


@pytest.mark.nsd
def test_txt_keeps_quotes_and_non_utf8_bytes(resolver: WireResolver) -> None:
    answer = ask(resolver, "weird.example.test", RRType.TXT)
    assert answer.records == (TxtRecord((b'say "hi"; \xff\x00end', b"second")),)


@pytest.mark.nsd
def test_big_txt_is_fetched_over_tcp(resolver: WireResolver) -> None:
    answer = ask(resolver, "big.example.test", RRType.TXT)
    assert answer.records == (TxtRecord(BIG_STRINGS),)
    assert resolver.stats.truncated == 1
    assert resolver.stats.tcp_sent == 1


@pytest.mark.nsd
def test_cname_loop_raises(resolver: WireResolver) -> None:
    with pytest.raises(DnsCnameLoop) as info:
        ask(resolver, "loop1.example.test", RRType.A)
    assert "loop1.example.test -> loop2.example.test -> loop1.example.test" in info.value.detail


@pytest.mark.nsd
def test_cname_chain_longer_than_the_limit_raises(nsd: tuple[str, int]) -> None:
    # c0 -> c1 -> ... -> c10: ten hops
    assert ask(
        WireResolver([nsd], limits=Limits(max_cname_hops=10)), "c0.example.test", RRType.A
    ).records == ("192.0.2.10",)
    with pytest.raises(DnsCnameLoop):
        ask(WireResolver([nsd], limits=Limits(max_cname_hops=8)), "c0.example.test", RRType.A)


@pytest.mark.nsd
def test_many_concurrent_queries_are_each_matched_to_their_answer(nsd: tuple[str, int]) -> None:
    resolver = WireResolver([nsd], limits=Limits(dns_timeout=2.0, max_dns_in_flight=32))
    names = [
        ("mx1.example.test", RRType.A),
        ("example.test", RRType.MX),
        ("missing.example.test", RRType.A),
        ("weird.example.test", RRType.TXT),
    ] * 100

    async def go() -> list[Answer]:
        try:
            return await asyncio.gather(*(resolver.resolve(n, t) for n, t in names))
        finally:
            await resolver.aclose()

    answers = asyncio.run(go())
    for (name, rdtype), answer in zip(names, answers, strict=True):
        assert (answer.qname, answer.rdtype) == (name, rdtype)
    assert {a.rcode for a in answers[2::4]} == {Rcode.NXDOMAIN}
    assert resolver.stats.udp_sent == len(names)


@pytest.mark.nsd
def test_resolver_survives_a_new_event_loop(resolver: WireResolver) -> None:
    for _ in range(2):  # asyncio.run twice: sockets of the first loop must not be reused
        assert asyncio.run(resolver.resolve("mx1.example.test", RRType.AAAA)).records == (
            "2001:db8::1",
        )
    asyncio.run(resolver.aclose())


@pytest.mark.nsd
def test_unreachable_first_server_falls_over_to_the_next(
    nsd: tuple[str, int], closed_port: int
) -> None:
    resolver = WireResolver([("127.0.0.1", closed_port), nsd], limits=TINY)
    assert ask(resolver, "mx1.example.test", RRType.AAAA).records == ("2001:db8::1",)


# --- faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "error"),
    [
        ("servfail", DnsServfail),
        ("refused", DnsRefused),
        ("formerr", DnsProtocolError),
        ("malformed-truncated", DnsProtocolError),
        ("malformed-pointer-loop", DnsProtocolError),
        ("malformed-rdlength", DnsProtocolError),
        ("malformed-rdata-overrun", DnsProtocolError),
    ],
)
def test_fault_answers_raise_their_error(fault_server, behaviour, error) -> None:  # type: ignore[no-untyped-def]
    server = fault_server(behaviour)
    with pytest.raises(error) as info:
        ask(WireResolver([server.address], limits=TINY), "x.example.test", RRType.A)
    assert info.value.qname == "x.example.test"
    assert info.value.rdtype == "A"


class WitnessingSilentServer:
    """A loopback UDP server that never answers and, as each query arrives, notes what
    `witness()` says at that moment: the order of events, with no clock in it."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.address: tuple[str, int] = self.sock.getsockname()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, witness: Callable[[], int]) -> None:
        self._thread = threading.Thread(target=self._serve, args=(witness,), daemon=True)
        self._thread.start()

    def _serve(self, witness: Callable[[], int]) -> None:
        while not self._stop.is_set():
            try:
                self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            self.seen.append(witness())

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.sock.close()


def test_silent_server_times_out_after_every_attempt() -> None:
    timeout, attempts = 0.2, 3
    server = WitnessingSilentServer()
    resolver = WireResolver(
        [server.address], limits=Limits(dns_timeout=timeout, dns_attempts=attempts)
    )
    server.start(lambda: resolver.stats.timeouts)
    started = time.monotonic()
    try:
        with pytest.raises(DnsTimeout) as info:
            ask(resolver, "x.example.test", RRType.TXT)
        took = time.monotonic() - started
    finally:
        server.stop()
    # Each retry is sent only after the attempt before it was counted as timed out: when
    # query k (from 0) arrives, at least k timeouts have happened. (A server thread slowed
    # by the machine's load may see more, never fewer.)
    assert len(server.seen) == attempts
    assert all(seen >= k for k, seen in enumerate(server.seen)), server.seen
    assert resolver.stats.timeouts == attempts
    # Timers never fire early, so the whole wait is at least the attempts' timeouts; the
    # upper bound is generous (load only makes it later) and only says that it ends.
    assert attempts * timeout <= took < 10
    assert f"127.0.0.1:{server.address[1]}" in info.value.detail


def test_retries_rotate_over_nameservers(fault_server) -> None:  # type: ignore[no-untyped-def]
    silent_a, silent_b = fault_server("silent"), fault_server("silent")
    resolver = WireResolver(
        [silent_a.address, silent_b.address], limits=Limits(dns_timeout=0.1, dns_attempts=2)
    )
    with pytest.raises(DnsTimeout):
        ask(resolver, "x.example.test", RRType.A)
    assert (silent_a.udp_queries, silent_b.udp_queries) == (2, 2)


def test_closed_port_is_network_unreachable(closed_port: int) -> None:
    # The ICMP error ends it, not the timeout: with a 60 s timeout, ending at all within 10 s
    # can only be the error; and no attempt is counted as timed out.
    resolver = WireResolver([("127.0.0.1", closed_port)], limits=Limits(dns_timeout=60.0))
    started = time.monotonic()
    with pytest.raises(NetworkUnreachable) as info:
        ask(resolver, "x.example.test", RRType.A)
    assert time.monotonic() - started < 10
    assert resolver.stats.timeouts == 0
    assert f"nothing listening at 127.0.0.1:{closed_port}" in info.value.detail


def test_closed_port_and_silent_server_is_a_timeout(fault_server, closed_port) -> None:  # type: ignore[no-untyped-def]
    silent = fault_server("silent")
    resolver = WireResolver([("127.0.0.1", closed_port), silent.address], limits=TINY)
    with pytest.raises(DnsTimeout) as info:
        ask(resolver, "x.example.test", RRType.A)
    assert f"nothing listening at 127.0.0.1:{closed_port}" in info.value.detail


def test_truncated_udp_answer_is_repeated_over_tcp(fault_server) -> None:  # type: ignore[no-untyped-def]
    from dnsservers import TCP_ONLY_TEXT

    server = fault_server("truncate")
    resolver = WireResolver([server.address], limits=TINY)
    answer = ask(resolver, "x.example.test", RRType.TXT)
    assert answer.records == (TxtRecord((TCP_ONLY_TEXT,)),)
    assert (server.udp_queries, server.tcp_queries) == (1, 1)


def test_replies_with_wrong_id_or_question_are_ignored(fault_server) -> None:  # type: ignore[no-untyped-def]
    from dnsservers import ANSWER_ADDRESS

    server = fault_server("mismatch")
    resolver = WireResolver([server.address], limits=TINY)
    answer = ask(resolver, "x.example.test", RRType.A)
    assert answer.records == (ANSWER_ADDRESS,)
    assert resolver.stats.ignored == 2


def test_ipv6_nameserver(fault_server) -> None:  # type: ignore[no-untyped-def]
    try:
        server = fault_server("mismatch", host="::1")
    except OSError:
        pytest.skip("no IPv6 on loopback")
    answer = ask(WireResolver([server.address], limits=TINY), "x.example.test", RRType.A)
    assert answer.records == ("192.0.2.7",)


def test_queries_in_flight_are_bounded(fault_server) -> None:  # type: ignore[no-untyped-def]
    server = fault_server("silent")
    resolver = WireResolver(
        [server.address], limits=Limits(dns_timeout=0.3, dns_attempts=1, max_dns_in_flight=8)
    )

    async def go() -> int:
        tasks = [asyncio.create_task(resolver.resolve(f"n{i}.test", RRType.A)) for i in range(20)]
        await asyncio.sleep(0.15)
        seen = server.udp_queries
        await asyncio.gather(*tasks, return_exceptions=True)
        await resolver.aclose()
        return seen

    assert asyncio.run(go()) == 8
    assert server.udp_queries == 20


def test_names_dns_cannot_carry_are_protocol_errors(fault_server) -> None:  # type: ignore[no-untyped-def]
    server = fault_server("silent")
    with pytest.raises(DnsProtocolError):
        ask(WireResolver([server.address], limits=TINY), "a" * 64 + ".test", RRType.A)
    assert server.udp_queries == 0


def test_chain_the_server_did_not_follow_is_asked_again(fault_server) -> None:  # type: ignore[no-untyped-def]
    # Given a server that answers one CNAME hop per query and no SOA (targets in other zones)
    server = fault_server("one-hop")
    resolver = WireResolver([server.address], limits=TINY)
    answer = ask(resolver, "hop3.example.test", RRType.A)
    assert answer.cname_chain == ("hop2.example.test", "hop1.example.test", "hop0.example.test")
    assert answer.records == ("192.0.2.7",)
    assert resolver.stats.cname_requeries == 3
    assert server.udp_queries == 4


def test_cname_loop_across_queries_raises(fault_server) -> None:  # type: ignore[no-untyped-def]
    server = fault_server("one-hop")
    with pytest.raises(DnsCnameLoop):
        ask(WireResolver([server.address], limits=TINY), "ping.example.test", RRType.A)
    assert server.udp_queries == 2


def test_hops_across_queries_count_towards_the_limit(fault_server) -> None:  # type: ignore[no-untyped-def]
    server = fault_server("one-hop")
    limits = Limits(dns_timeout=0.2, dns_attempts=1, max_cname_hops=3)
    with pytest.raises(DnsCnameLoop):
        ask(WireResolver([server.address], limits=limits), "hop4.example.test", RRType.A)


@pytest.mark.nsd
def test_make_resolver_end_to_end(nsd: tuple[str, int]) -> None:
    from mailauth_audit.options import AuditOptions
    from mailauth_audit.resolver.caching import CachingResolver
    from mailauth_audit.resolver.factory import make_resolver
    from mailauth_audit.resolver.stats import count_queries

    host, port = nsd
    resolver = make_resolver(AuditOptions(nameservers=(f"{host}:{port}",), limits=FAST))
    assert isinstance(resolver, CachingResolver)

    async def go() -> tuple[Answer, int]:
        try:
            with count_queries() as counter:
                first = await resolver.resolve("example.test", RRType.MX)
                again = await resolver.resolve("example.test", RRType.MX)
                assert again is first
            return first, counter.queries
        finally:
            await resolver.aclose()

    answer, queries = asyncio.run(go())
    assert answer.mx()[0] == MxRecord(10, "mx1.example.test")
    assert queries == 1


def test_servfail_from_one_server_tries_the_next(fault_server) -> None:  # type: ignore[no-untyped-def]
    failing, working = fault_server("servfail"), fault_server("mismatch")
    resolver = WireResolver([failing.address, working.address], limits=TINY)
    assert ask(resolver, "x.example.test", RRType.A).records == ("192.0.2.7",)
    assert failing.udp_queries == 1


@pytest.mark.parametrize("attempts", [1, 3])
def test_every_server_refusing_raises_the_first_servers_error(fault_server, attempts) -> None:  # type: ignore[no-untyped-def]
    servfail, refused = fault_server("servfail"), fault_server("refused")
    limits = Limits(dns_timeout=0.2, dns_attempts=attempts)
    with pytest.raises(DnsServfail):
        ask(WireResolver([servfail.address, refused.address], limits=limits), "x.test", RRType.A)
    assert (servfail.udp_queries, refused.udp_queries) == (1, 1)  # a refusal is not retried


def test_refusal_and_closed_port_is_the_refusal(fault_server, closed_port) -> None:  # type: ignore[no-untyped-def]
    refused = fault_server("refused")
    resolver = WireResolver([("127.0.0.1", closed_port), refused.address], limits=TINY)
    with pytest.raises(DnsRefused):
        ask(resolver, "x.test", RRType.A)
