"""The wire parser: bytes from strangers in, a WireMessage or WireFormatError out, never a crash;
and on well-formed messages, the same values dnspython reads."""

from __future__ import annotations

import contextlib
import struct

import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailauth_audit.resolver.base import MxRecord, TxtRecord
from mailauth_audit.resolver.codec import (
    WireFormatError,
    WireMessage,
    _parse,
    encode_name,
    encode_query,
    parse_message,
)

QUESTION = encode_name("example.test") + struct.pack("!HH", 1, 1)
HEADER = struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0)
OPT = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)  # EDNS0, extended rcode 0


def a_record(owner: bytes = b"\xc0\x0c", rdata: bytes = b"\xc0\x00\x02\x01") -> bytes:
    return owner + struct.pack("!HHIH", 1, 1, 60, len(rdata)) + rdata


def test_well_formed_a_answer() -> None:
    message = parse_message(HEADER + QUESTION + a_record())
    assert (message.id, message.rcode, message.qname, message.qtype) == (
        0x1234,
        0,
        "example.test",
        1,
    )
    assert message.answers == (("example.test", 1, 60, "192.0.2.1"),)
    assert message.negative_ttl == 0
    assert not message.truncated


@pytest.mark.parametrize(
    ("wire", "fragment"),
    [
        (b"", "shorter than"),
        (HEADER[:11], "shorter than"),
        (struct.pack("!HHHHHH", 1, 0x8180, 2, 0, 0, 0) + QUESTION * 2, "one question"),
        (HEADER + QUESTION[:5], "past the end"),
        (HEADER[:-2] + b"\x00\x01" + QUESTION + a_record() + b"\x00\x00\x29", "past the end"),
        (HEADER[:-2] + b"\x00\x02" + QUESTION + a_record() + OPT + OPT, "more than one OPT"),
        (HEADER[:-2] + b"\x00\x01" + QUESTION + a_record() + b"\xc0\x0c" + OPT[1:], "root"),
        (struct.pack("!HHHHHH", 1, 0x8180, 1, 0, 0, 0) + QUESTION[:-4] + b"\0\0\0\1", "type 0"),
        (HEADER + QUESTION[:-2], "question runs past"),
        (HEADER + QUESTION + a_record()[:8], "past the end"),
        (HEADER + QUESTION + a_record(rdata=b"\x01\x02\x03"), "not 4 octets"),
        (HEADER + QUESTION + a_record(owner=b"\xc0\x1e"), "backwards"),  # points at itself
        (HEADER + QUESTION + a_record(owner=b"\xc0\x40"), "backwards"),  # points forwards
        (HEADER + QUESTION + a_record(owner=b"\x80"), "label type"),
        (HEADER + QUESTION + a_record(owner=b"\x41" + b"a" * 65 + b"\x00"), "label type"),
        (HEADER + b"\x3fa" + b"\x3f" * 5, "past the end"),
        (
            HEADER + (b"\x3f" + b"a" * 63) * 4 + b"\x00" + QUESTION[-4:],
            "longer than 255",
        ),
        (
            HEADER + QUESTION + b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 60, 4) + b"\x05abc",
            "character-string",
        ),
        (
            HEADER
            + QUESTION
            + b"\xc0\x0c"
            + struct.pack("!HHIH", 15, 1, 60, 6)
            + b"\x00\x0a\xc0\x0c\x00\x00",
            "does not fill",
        ),
        (
            HEADER + QUESTION + b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 60, 400) + b"\x01a",
            "RDATA runs past",
        ),
    ],
)
def test_malformed_messages_are_rejected(wire: bytes, fragment: str) -> None:
    with pytest.raises(WireFormatError) as info:
        parse_message(wire)
    assert fragment in str(info.value)


def test_pointer_chain_that_loops_through_two_names_is_rejected() -> None:
    # name A at 30 points to 32, which points back to 30: caught as "not backwards"
    loop = HEADER + QUESTION + b"\xc0\x20\xc0\x1e" + struct.pack("!HHIH", 1, 1, 60, 4) + b"abcd"
    with pytest.raises(WireFormatError):
        parse_message(loop)


def test_ttl_with_top_bit_set_reads_as_zero() -> None:
    record = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0x80000001, 4) + b"\x01\x02\x03\x04"
    assert parse_message(HEADER + QUESTION + record).answers[0][2] == 0


def test_negative_ttl_is_min_of_soa_ttl_and_minimum() -> None:
    query = dns.message.make_query("nope.example.test", "TXT")
    reply = dns.message.make_response(query)
    reply.authority.append(
        dns.rrset.from_text("example.test.", 900, "IN", "SOA", "ns. host. 1 2 3 4 300")
    )
    assert parse_message(reply.to_wire()).negative_ttl == 300
    assert parse_message(reply.to_wire()).soa_owner == "example.test"


def test_query_encoding_carries_edns0_with_1232_octets() -> None:
    wire = encode_query(7, QUESTION)
    query = dns.message.from_wire(wire)
    assert query.id == 7
    assert query.edns == 0 and query.payload == 1232
    assert query.question[0].name == dns.name.from_text("example.test")
    assert query.flags & 0x0100  # RD


@pytest.mark.parametrize("name", ["a" * 64 + ".test", "a..b", ".".join(["abcdefgh"] * 32)])
def test_names_dns_cannot_carry_are_not_encoded(name: str) -> None:
    with pytest.raises(WireFormatError):
        encode_name(name)


# --- fuzzing -------------------------------------------------------------------------------


def _valid_reply() -> bytes:
    query = dns.message.make_query("www.example.test", "TXT")
    reply = dns.message.make_response(query)
    name = dns.name.from_text("www.example.test")
    reply.answer.append(dns.rrset.from_text(name, 60, "IN", "CNAME", "web.example.test."))
    reply.answer.append(dns.rrset.from_text("web.example.test.", 60, "IN", "TXT", '"a" "bc"'))
    reply.answer.append(dns.rrset.from_text("web.example.test.", 60, "IN", "MX", "5 mx.test."))
    reply.authority.append(
        dns.rrset.from_text("example.test.", 60, "IN", "SOA", "ns.test. h.test. 1 2 3 4 5")
    )
    return reply.to_wire()


VALID = _valid_reply()


def _check(message: WireMessage) -> None:
    """What a message that parsed must satisfy. `_parse` is fuzzed, not `parse_message`,
    whose catch-all would hide a stray IndexError: the parser itself must be tight."""
    for owner, _rtype, ttl, _value in message.answers:
        assert 0 <= ttl <= 0x7FFFFFFF
        assert owner == owner.lower()
    assert 0 <= message.negative_ttl <= 0x7FFFFFFF


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_give_a_message_or_wire_format_error(data: bytes) -> None:
    with contextlib.suppress(WireFormatError):
        _check(_parse(data))


@settings(max_examples=1500, deadline=None)
@given(st.binary(min_size=12, max_size=600))
def test_any_body_behind_a_plausible_header(body: bytes) -> None:
    with contextlib.suppress(WireFormatError):
        _check(_parse(HEADER + QUESTION + body))


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=6),
    st.integers(0, len(VALID)),
)
def test_mutated_valid_replies(flips: list[tuple[int, int]], cut: int) -> None:
    wire = bytearray(VALID)
    for pos, value in flips:
        wire[pos] = value
    with contextlib.suppress(WireFormatError):
        _check(_parse(bytes(wire[:cut])))


# --- agreement with dnspython on well-formed messages --------------------------------------

label = st.binary(min_size=1, max_size=12)
names = st.lists(label, min_size=1, max_size=4).map(lambda labels: dns.name.Name([*labels, b""]))


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower() if name != dns.name.root else ""


@settings(max_examples=300, deadline=None)
@given(
    owner=names,
    strings=st.lists(
        st.lists(st.binary(max_size=255), min_size=1, max_size=4), min_size=1, max_size=3
    ),
    mx=st.lists(st.tuples(st.integers(0, 65535), names), min_size=1, max_size=3),
    ttl=st.integers(0, 2**31 - 1),
)
def test_values_agree_with_dnspython(owner, strings, mx, ttl) -> None:  # type: ignore[no-untyped-def]
    query = dns.message.make_query(owner, "TXT")
    reply = dns.message.make_response(query)
    txt = dns.rrset.RRset(owner, dns.rdataclass.IN, dns.rdatatype.TXT)
    for parts in strings:
        txt.add(
            dns.rdata.from_wire(
                dns.rdataclass.IN,
                dns.rdatatype.TXT,
                b"".join(bytes([len(p)]) + p for p in parts),
                0,
                sum(1 + len(p) for p in parts),
            ),
            ttl,
        )
    reply.answer.append(txt)
    mxset = dns.rrset.RRset(owner, dns.rdataclass.IN, dns.rdatatype.MX)
    for pref, exchange in mx:
        mxset.add(dns.rdata.from_text("IN", "MX", f"{pref} {exchange.to_text()}"), ttl)
    reply.answer.append(mxset)
    message = parse_message(reply.to_wire())
    assert message.qname == _text(owner)
    got_txt = [v for o, t, _, v in message.answers if t == 16]
    assert sorted(got_txt, key=repr) == sorted(
        (TxtRecord(tuple(rd.strings)) for rd in txt), key=repr
    )
    got_mx = {v for o, t, _, v in message.answers if t == 15}
    assert got_mx == {MxRecord(rd.preference, _text(rd.exchange)) for rd in mxset}
    assert {o for o, _, _, _ in message.answers} == {_text(owner)}
    assert {t for _, _, t, _ in message.answers} == {ttl}


# --- the question we asked is not decoded again ----------------------------------------------


@pytest.mark.parametrize("qname", ["example.test", "sel._domainkey.d000001.bench", "a.b.c.d"])
@pytest.mark.parametrize("rdtype", ["A", "TXT", "MX"])
def test_known_question_gives_the_same_message_as_decoding_it(qname: str, rdtype: str) -> None:
    query = dns.message.make_query(qname.upper(), rdtype)  # a server may echo 0x20 case
    reply = dns.message.make_response(query)
    reply.answer.append(dns.rrset.from_text(qname + ".", 60, "IN", "CNAME", "x." + qname + "."))
    reply.authority.append(
        dns.rrset.from_text(qname.split(".", 1)[-1] + ".", 900, "IN", "SOA", "ns. h. 1 2 3 4 5")
    )
    wire = reply.to_wire()
    asked = (qname, encode_name(qname))
    assert parse_message(wire, asked) == parse_message(wire)


def test_a_different_question_than_asked_is_decoded_from_the_message() -> None:
    wire = HEADER + QUESTION + a_record()
    message = parse_message(wire, ("other.test", encode_name("other.test")))
    assert message.qname == "example.test"
    assert message.answers == (("example.test", 1, 60, "192.0.2.1"),)


def test_soa_too_short_for_its_times_is_rejected() -> None:
    header = struct.pack("!HHHHHH", 0x1234, 0x8183, 1, 0, 1, 0)
    soa = b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 60, 21) + b"\x00" + b"\x00" * 20
    with pytest.raises(WireFormatError, match="SOA"):
        parse_message(header + QUESTION + soa)


@pytest.mark.parametrize(
    ("header_rcode", "extended", "rcode"),
    [(0, 0, 0), (0, 1, 16), (3, 0, 3), (3, 1, 19), (1, 0xFF, 0xFF1)],
)
def test_extended_rcode_is_read_from_the_opt_record(
    header_rcode: int, extended: int, rcode: int
) -> None:
    # Given a glue record before the OPT record, to show the whole additional section is read
    header = struct.pack("!HHHHHH", 0x1234, 0x8180 | header_rcode, 1, 1, 0, 2)
    opt = b"\x00" + struct.pack("!HHIH", 41, 1232, extended << 24, 0)
    wire = header + QUESTION + a_record() + a_record() + opt
    assert parse_message(wire).rcode == rcode


def test_badvers_agrees_with_dnspython() -> None:
    query = dns.message.make_query("example.test", "TXT", use_edns=0)
    reply = dns.message.make_response(query)
    reply.set_rcode(dns.rcode.BADVERS)
    assert parse_message(reply.to_wire()).rcode == dns.rcode.BADVERS == 16


def test_error_reply_without_a_question_is_read() -> None:
    message = parse_message(struct.pack("!HHHHHH", 7, 0x8185, 0, 0, 0, 0))
    assert (message.rcode, message.qname, message.qtype, message.has_question) == (5, "", 0, False)


def test_query_without_edns_has_no_additional_record() -> None:
    wire = encode_query(0x0102, QUESTION, None)
    assert wire == struct.pack("!HHHHHH", 0x0102, 0x0100, 1, 0, 0, 0) + QUESTION
    assert dns.message.from_wire(wire).edns == -1
