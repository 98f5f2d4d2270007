"""The names the parser checks without decoding them (owners in the authority section after
its SOA, and in the additional section), and the question's tails it knows without reading
them: the same messages accepted, the same values, the same WireFormatError for every
malformed name wherever it stands."""

from __future__ import annotations

import struct
from collections.abc import Callable

import dns.edns
import dns.message
import dns.name
import dns.rrset
import pytest

from mailauth_audit.resolver.base import MxRecord
from mailauth_audit.resolver.codec import WireFormatError, _parse, encode_name, parse_message

QNAME = "example.test"
QUESTION = encode_name(QNAME) + struct.pack("!HH", 1, 1)  # "example" at 12, "test" at 20
ASKED = (QNAME, encode_name(QNAME))
A_RDATA = struct.pack("!HHIH", 1, 1, 60, 4) + b"\xc0\x00\x02\x01"
NS_RDATA = struct.pack("!HHIH", 2, 1, 60, 2) + b"\xc0\x14"
SOA = b"\xc0\x14" + struct.pack("!HHIH", 6, 1, 60, 22) + b"\x00\x00" + struct.pack("!5I", *[9] * 5)
OPT = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)
LONG = b"\x3f" + b"a" * 63


def _header(an: int = 0, ns: int = 0, ar: int = 0) -> bytes:
    return struct.pack("!HHHHHH", 0x1234, 0x8180, 1, an, ns, ar)


# Each layout puts one name (made by `name_at(its offset)`) in one place, and the name may
# end the message, so that every "runs past the end" check is reached.
Layout = Callable[[Callable[[int], bytes], bytes], bytes]


def _answer_owner(name_at: Callable[[int], bytes], tail: bytes) -> bytes:
    head = _header(an=1) + QUESTION
    return head + name_at(len(head)) + tail


def _authority_owner_after_soa(name_at: Callable[[int], bytes], tail: bytes) -> bytes:
    head = _header(ns=2) + QUESTION + SOA
    return head + name_at(len(head)) + tail


def _additional_owner(name_at: Callable[[int], bytes], tail: bytes) -> bytes:
    head = _header(an=1, ar=1) + QUESTION + b"\xc0\x0c" + A_RDATA
    return head + name_at(len(head)) + tail


LAYOUTS = [_answer_owner, _authority_owner_after_soa, _additional_owner]

# (name at this offset, what follows it): malformed, each in its own way
MALFORMED: list[tuple[str, Callable[[int], bytes], bytes]] = [
    ("label past the end", lambda off: b"\x05ab", b""),
    ("no root label", lambda off: b"\x02ab", b""),
    ("pointer past the end", lambda off: b"\xc0", b""),
    ("pointer at itself", lambda off: struct.pack("!H", 0xC000 | off), A_RDATA),
    ("pointer forwards", lambda off: struct.pack("!H", 0xC000 | (off + 2)), A_RDATA),
    ("label type 0x40", lambda off: b"\x40", A_RDATA),
    ("label type 0x80", lambda off: b"\x01a\x80", A_RDATA),
    ("256 octets in labels", lambda off: LONG * 3 + b"\x3e" + b"a" * 62 + b"\x00", A_RDATA),
    ("256 octets, a known tail", lambda off: LONG * 3 + b"\x39" + b"a" * 57 + b"\xc0\x14", A_RDATA),
    ("256 octets, the question", lambda off: LONG * 3 + b"\x31" + b"a" * 49 + b"\xc0\x0c", A_RDATA),
    ("pointer into the header", lambda off: b"\xc0\x02", A_RDATA),  # reads 0x81: label type
    ("pointer into a label", lambda off: b"\xc0\x0d", A_RDATA),  # "e" of "example": 0x65
    (
        "pointer to a pointer at itself",
        lambda off: b"\x01a" + struct.pack("!H", 0xC000 | off),
        A_RDATA,
    ),
]


@pytest.mark.parametrize(("what", "name_at", "tail"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_name_is_rejected_alike_wherever_it_stands(
    what: str, name_at: Callable[[int], bytes], tail: bytes
) -> None:
    errors = []
    for layout in LAYOUTS:
        wire = layout(name_at, tail)
        for asked in (ASKED, None):
            # `_parse` itself: `parse_message`'s catch-all must not be what saves it
            with pytest.raises(WireFormatError) as info:
                _parse(wire, asked)
            errors.append(str(info.value))
    assert len(set(errors)) == 1, errors


WELL_FORMED: list[tuple[str, Callable[[int], bytes]]] = [
    ("pointer to the question", lambda off: b"\xc0\x0c"),
    ("pointer to its tail", lambda off: b"\xc0\x14"),
    ("labels then the question's tail", lambda off: b"\x02ns\xc0\x14"),
    ("labels, no pointer", lambda off: b"\x02ns\x04test\x00"),
    ("255 octets in labels", lambda off: LONG * 3 + b"\x3d" + b"a" * 61 + b"\x00"),
    ("255 octets with a known tail", lambda off: LONG * 3 + b"\x38" + b"a" * 56 + b"\xc0\x14"),
    ("255 octets through the question", lambda off: LONG * 3 + b"\x30" + b"a" * 48 + b"\xc0\x0c"),
]


@pytest.mark.parametrize(("what", "name_at"), WELL_FORMED, ids=[w[0] for w in WELL_FORMED])
def test_a_skipped_name_that_is_well_formed_is_passed_over(
    what: str, name_at: Callable[[int], bytes]
) -> None:
    for layout in (_authority_owner_after_soa, _additional_owner):
        wire = layout(name_at, A_RDATA)
        message = _parse(wire, ASKED)
        assert message == _parse(wire, None)
        assert message.soa_owner == ("test" if layout is _authority_owner_after_soa else None)


def test_a_chain_of_skipped_owners_pointing_back_at_each_other() -> None:
    head = _header(ns=4) + QUESTION + SOA
    first = len(head)
    ns1 = b"\x02ns\xc0\x14" + NS_RDATA
    ns2 = struct.pack("!H", 0xC000 | first) + NS_RDATA  # at the first NS owner
    ns3 = struct.pack("!H", 0xC000 | (first + len(ns1))) + NS_RDATA  # at the second
    message = _parse(head + ns1 + ns2 + ns3, ASKED)
    assert (message.soa_owner, message.negative_ttl) == ("test", 9)
    # the same chain with the last owner pointing into the first one's label: 0x6e ("n")
    inside = struct.pack("!H", 0xC000 | (first + 1)) + NS_RDATA
    with pytest.raises(WireFormatError, match="label type 0x6e"):
        _parse(head + ns1 + ns2 + inside, ASKED)


def test_an_opt_record_owned_through_a_pointer_to_the_root() -> None:
    # the root label that ends the question is at 25
    root_owner = _header(an=1, ar=1) + QUESTION + b"\xc0\x0c" + A_RDATA + b"\xc0\x19" + OPT[1:]
    assert _parse(root_owner[:-6] + struct.pack("!I", 1 << 24) + b"\x00\x00", ASKED).rcode == 16
    other_owner = root_owner[:-12] + b"\xc0\x14" + OPT[1:]
    with pytest.raises(WireFormatError, match="not owned by the root"):
        _parse(other_owner, ASKED)


def _reply(qname: str, rdtype: str) -> dns.message.Message:
    query = dns.message.make_query(qname, rdtype, use_edns=0)
    return dns.message.make_response(query)


@pytest.mark.parametrize(
    "qname",
    [
        "d000169.bench",
        "_dmarc.d000169.bench",
        "s1._domainkey.d000169.bench",
        "a\\032b.example.test",  # a label that does not print as itself
        "a.b\\.c.example.test",  # a dot inside a label
        "x\\255.example.test",
    ],
)
def test_glue_and_authority_read_the_same_whether_the_question_is_known(qname: str) -> None:
    reply = _reply(qname, "MX")
    name = dns.name.from_text(qname)
    zone = name.parent()
    reply.answer.append(dns.rrset.from_text(name, 60, "IN", "MX", f"10 mx.{zone}"))
    reply.authority.append(dns.rrset.from_text(zone, 60, "IN", "NS", f"ns1.{zone}", f"ns2.{zone}"))
    reply.additional.append(dns.rrset.from_text(f"ns1.{zone}", 60, "IN", "A", "192.0.2.1"))
    reply.additional.append(dns.rrset.from_text(f"ns2.{zone}", 60, "IN", "AAAA", "2001:db8::1"))
    reply.additional.append(dns.rrset.from_text(f"mx.{zone}", 60, "IN", "A", "192.0.2.2"))
    reply.use_edns(0, options=[dns.edns.EDEOption(3, "stale")])
    wire = reply.to_wire()
    asked_name = name.to_text(omit_final_dot=True).lower()
    decoded = parse_message(wire)
    assert parse_message(wire, (asked_name, name.canonicalize().to_wire())) == decoded
    mx = decoded.answers[0][3]
    assert isinstance(mx, MxRecord) and mx.exchange == f"mx.{zone}".lower().rstrip(".")
    assert [e.info_code for e in decoded.extended_errors] == [3]


@pytest.mark.parametrize(
    "qname", ["nope.d000169.bench", "_dmarc.d000169.bench", "a\\032b.example.test", "x.y\\.z.test"]
)
def test_the_soa_owner_at_a_tail_of_the_question(qname: str) -> None:
    reply = _reply(qname, "TXT")
    name = dns.name.from_text(qname)
    reply.authority.append(dns.rrset.from_text(name.parent(), 60, "IN", "SOA", "ns. h. 1 2 3 4 30"))
    wire = reply.to_wire()
    asked = (name.to_text(omit_final_dot=True).lower(), name.canonicalize().to_wire())
    message = parse_message(wire, asked)
    assert message == parse_message(wire)
    assert message.soa_owner == name.parent().to_text(omit_final_dot=True).lower()
    assert message.negative_ttl == 30
