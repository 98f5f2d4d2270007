"""The codec's DNSSEC seams, pure: DO/CD in queries, AD/CD and Extended DNS Errors (RFC 8914)
in answers, and every other record type decoded as dnspython rdata (or WireFormatError)."""

from __future__ import annotations

import struct

import dns.edns
import dns.flags
import dns.message
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailauth_audit.options import Limits
from mailauth_audit.resolver.base import ExtendedError, RRType
from mailauth_audit.resolver.codec import (
    FLAG_AD,
    WireFormatError,
    encode_name,
    encode_query,
    parse_message,
    query_packet,
)
from mailauth_audit.resolver.edns import opt_record

# one record per type the fast path has no decoder for, as zone text
RECORDS = {
    RRType.SOA: "ns1.example.test. hostmaster.example.test. 7 3600 900 604800 120",
    RRType.DS: "60485 13 2 " + "ab" * 32,
    RRType.DNSKEY: "257 3 13 "
    + "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==",
    RRType.RRSIG: "A 13 2 300 20300101000000 20200101000000 60485 example.test. " + "x" * 86 + "==",
    RRType.NSEC: "b.example.test. A RRSIG NSEC",
    RRType.NSEC3: "1 0 10 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr A RRSIG",
    RRType.NSEC3PARAM: "1 0 10 aabbccdd",
    RRType.TLSA: "3 1 1 " + "0f" * 32,
    RRType.SVCB: '1 svc.example.test. alpn="h2,h3" port=8443',
    RRType.HTTPS: "1 . alpn=h2 ipv4hint=192.0.2.1",
    RRType.CAA: '0 issue "ca.example.net; account=1"',
    RRType.NS: "ns1.example.test.",  # fast path, for contrast
}


def response(
    rdtype: int,
    texts: list[str],
    *,
    qname: str = "example.test.",
    flags: int = 0,
    options: list[dns.edns.Option] | None = None,
    extra: list[dns.rrset.RRset] = (),  # type: ignore[assignment]
) -> bytes:
    query = dns.message.make_query(qname, rdtype)
    reply = dns.message.make_response(query)
    reply.flags |= flags
    if texts:
        reply.answer.append(dns.rrset.from_text(qname, 300, "IN", rdtype, *texts))
    reply.answer.extend(extra)
    if options is not None:
        reply.use_edns(0, 0, 1232, options=options)
    return reply.to_wire(max_size=65535)


@pytest.mark.parametrize("rdtype", list(RECORDS), ids=lambda t: t.name)
def test_every_type_is_read_as_dnspython_reads_it(rdtype: RRType) -> None:
    wire = response(rdtype, [RECORDS[rdtype]])
    (owner, rtype, ttl, value), *_ = parse_message(wire).answers
    expected = dns.rdata.from_text("IN", rdtype, RECORDS[rdtype])
    assert (owner, rtype, ttl) == ("example.test", int(rdtype), 300)
    if rdtype is RRType.NS:
        assert value == "ns1.example.test"
    else:
        assert value == expected
        assert isinstance(value, type(expected))
        with pytest.raises((AttributeError, TypeError)):  # immutable
            value.flags = 1  # type: ignore[union-attr]


def test_compressed_names_inside_rdata_are_followed() -> None:
    # dnspython compresses the SOA's names against the question: pointers into the message
    wire = response(RRType.SOA, [RECORDS[RRType.SOA]])
    assert b"\xc0\x0c" in wire[30:]
    soa = parse_message(wire).answers[0][3]
    assert isinstance(soa, dns.rdtypes.ANY.SOA.SOA)
    assert soa.mname.to_text() == "ns1.example.test."
    assert soa.minimum == 120


def test_a_type_dnspython_does_not_know_comes_back_generic() -> None:
    query = dns.message.make_query("example.test.", 65280)
    reply = dns.message.make_response(query)
    reply.answer.append(dns.rrset.from_text("example.test.", 60, "IN", "TYPE65280", r"\# 3 010203"))
    value = parse_message(reply.to_wire()).answers[0][3]
    assert isinstance(value, dns.rdata.GenericRdata)
    assert value.data == b"\x01\x02\x03"


def test_records_of_a_type_not_asked_are_skipped_even_malformed() -> None:
    # a TLSA record with 1 octet of RDATA in the answer to an A question: never read, as before
    wire = response(RRType.A, ["192.0.2.1"])
    header = wire[:6] + struct.pack("!H", 2) + wire[8:12]
    bad = b"\xc0\x0c" + struct.pack("!HHIH", 52, 1, 60, 1) + b"\x03"
    message = parse_message(header + wire[12:] + bad)
    assert message.answers[0][3] == "192.0.2.1"
    assert message.answers[1][1:] == (52, 60, None)


def test_rrsigs_are_read_with_the_records_they_cover() -> None:
    sig = dns.rrset.from_text("example.test.", 300, "IN", "RRSIG", RECORDS[RRType.RRSIG])
    wire = response(RRType.A, ["192.0.2.1"], extra=[sig])
    value = parse_message(wire, signatures=True).answers[1][3]
    assert value.type_covered == dns.rdatatype.A  # type: ignore[union-attr]
    # not asked for (no DO): skipped unread, as every record of a type not asked for
    assert parse_message(wire).answers[1][3] is None
    # an RRSIG cut inside its fixed fields
    plain = response(RRType.A, ["192.0.2.1"])
    bad = b"\xc0\x0c" + struct.pack("!HHIH", 46, 1, 60, 3) + b"\x00\x01\x0d"
    broken = plain[:6] + struct.pack("!H", 2) + plain[8:] + bad
    assert parse_message(broken).answers[1][3] is None
    with pytest.raises(WireFormatError, match="RRSIG"):
        parse_message(broken, signatures=True)


@pytest.mark.parametrize(
    ("rdtype", "rdata"),
    [
        (RRType.TLSA, b""),  # no usage/selector/matching type
        (RRType.TLSA, b"\x03\x01"),  # cut inside the fixed part
        (RRType.TLSA, b"\x03\x01\x01" + b"\x00" * 31),  # SHA-256 of 31 octets (dnspython)
        (RRType.DS, b"\xec\x45\x0d"),  # key tag and algorithm, no digest type
        (RRType.DNSKEY, b"\x01\x01\x03"),
        (RRType.RRSIG, b"\x00\x01\x0d\x02" + b"\x00" * 10),
        (RRType.SOA, b"\x03ns1\x00"),  # one name, no rname or times
        (RRType.SOA, b"\x00\x00" + b"\x00" * 20 + b"\xff"),  # a trailing octet
        (RRType.NSEC, b"\xc0\xff"),  # pointer forwards
        (RRType.SVCB, b"\x00\x01\x00\x00\x01\x00\x05ab"),  # key length past the RDATA
        (RRType.CAA, b"\x00\x09issue"),  # tag length past the RDATA
    ],
)
def test_garbage_rdata_is_a_wire_format_error(rdtype: RRType, rdata: bytes) -> None:
    wire = response(rdtype, [])
    header = wire[:6] + struct.pack("!H", 1) + wire[8:12]
    rr = b"\xc0\x0c" + struct.pack("!HHIH", int(rdtype), 1, 60, len(rdata)) + rdata
    with pytest.raises(WireFormatError, match=rdtype.name):
        parse_message(header + wire[12:] + rr)


@settings(max_examples=300, deadline=None)
@given(
    rdtype=st.sampled_from([t for t in RECORDS if t is not RRType.NS]),
    rdata=st.binary(max_size=80),
)
def test_any_rdata_gives_a_value_or_wire_format_error(rdtype: RRType, rdata: bytes) -> None:
    wire = response(rdtype, [])
    header = wire[:6] + struct.pack("!H", 1) + wire[8:12]
    rr = b"\xc0\x0c" + struct.pack("!HHIH", int(rdtype), 1, 60, len(rdata)) + rdata
    try:
        message = parse_message(header + wire[12:] + rr)
    except WireFormatError:
        return
    assert isinstance(message.answers[0][3], dns.rdata.Rdata)


@settings(max_examples=200, deadline=None)
@given(rdata=st.binary(max_size=60).map(lambda b: b"\x03\x01\x00" + b))
def test_well_formed_tlsa_of_any_data_is_read(rdata: bytes) -> None:
    # matching type 0: the whole key, any length (a SHA-256 one must be 32 octets, see below)
    wire = response(RRType.TLSA, [])
    header = wire[:6] + struct.pack("!H", 1) + wire[8:12]
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 52, 1, 60, len(rdata)) + rdata
    value = parse_message(header + wire[12:] + rr).answers[0][3]
    assert value.cert == rdata[3:]  # type: ignore[union-attr]


# --- header flags and the query bits --------------------------------------------------------


def test_ad_and_cd_bits_are_read() -> None:
    plain = parse_message(response(RRType.A, ["192.0.2.1"]))
    assert not plain.authenticated_data and not plain.checking_disabled
    both = parse_message(response(RRType.A, ["192.0.2.1"], flags=dns.flags.AD | dns.flags.CD))
    assert both.authenticated_data and both.checking_disabled
    assert both.flags & FLAG_AD


@pytest.mark.parametrize(("do", "cd"), [(False, False), (True, False), (False, True), (True, True)])
def test_queries_carry_do_and_cd(do: bool, cd: bool) -> None:
    question = encode_name("example.test") + struct.pack("!HH", 52, 1)
    for wire in (
        encode_query(0x4242, question, dnssec_ok=do, checking_disabled=cd),
        query_packet(b"\x42\x42", question, opt_record(1232, dnssec_ok=do), cd),
    ):
        query = dns.message.from_wire(wire)
        assert query.id == 0x4242
        assert bool(query.ednsflags & dns.flags.DO) is do
        assert bool(query.flags & dns.flags.CD) is cd
        assert query.flags & dns.flags.RD
        assert query.payload == 1232
        assert query.question[0].rdtype == 52


def test_default_query_is_unchanged() -> None:
    question = encode_name("example.test") + struct.pack("!HH", 1, 1)
    assert query_packet(b"\x00\x01", question, opt_record(1232)) == encode_query(1, question)
    assert encode_query(1, question)[2:4] == b"\x01\x00"  # RD only
    assert encode_query(1, question, None, checking_disabled=True)[2:4] == b"\x01\x10"


# --- Extended DNS Errors ---------------------------------------------------------------------


def ede(code: int, text: str = "") -> dns.edns.EDEOption:
    return dns.edns.EDEOption(code, text or None)


def test_extended_errors_are_read_in_order() -> None:
    wire = response(RRType.A, [], options=[ede(6, "DNSSEC Bogus"), ede(22)])
    message = parse_message(wire)
    assert message.extended_errors == (ExtendedError(6, "DNSSEC Bogus"), ExtendedError(22, ""))
    assert message.extended_errors_dropped == 0


def test_no_options_no_extended_errors() -> None:
    assert parse_message(response(RRType.A, ["192.0.2.1"], options=[])).extended_errors == ()
    cookie = dns.edns.GenericOption(10, b"\x01" * 8)
    assert parse_message(response(RRType.A, [], options=[cookie])).extended_errors == ()


def test_extended_errors_are_bounded_in_number_and_text() -> None:
    limits = Limits(max_extended_errors=2, max_extended_error_text=10)
    options = [ede(i, "x" * 2000) for i in range(12)]
    message = parse_message(response(RRType.A, [], options=options), limits=limits)
    assert [e.info_code for e in message.extended_errors] == [0, 1]
    assert message.extended_errors[0].text == "x" * 9 + "…"
    assert message.extended_errors_dropped == 10


def test_extended_error_text_is_utf8_and_a_trailing_nul_is_dropped() -> None:
    raw = struct.pack("!HH", 15, 2 + 9) + struct.pack("!H", 18) + "Größe".encode() + b"\x00\x00"
    opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, len(raw)) + raw
    wire = response(RRType.A, [])
    wire = wire[:10] + struct.pack("!H", 1) + wire[12:] + opt
    assert parse_message(wire).extended_errors == (ExtendedError(18, "Größe"),)


@pytest.mark.parametrize(
    "options",
    [
        struct.pack("!HH", 15, 1) + b"\x00",  # EDE too short for its info code: ignored
        struct.pack("!HH", 15, 40) + b"\x00\x06",  # runs past the OPT record: reading stops
        b"\x00\x0f\x00",  # not even an option header
    ],
)
def test_malformed_options_are_ignored_as_before(options: bytes) -> None:
    opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, len(options)) + options
    wire = response(RRType.A, ["192.0.2.1"])
    wire = wire[:10] + struct.pack("!H", 1) + wire[12:] + opt
    message = parse_message(wire)
    assert message.extended_errors == ()
    assert message.answers[0][3] == "192.0.2.1"
