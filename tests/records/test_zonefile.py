"""The one zone-line function: TXT strings of at most 255 BYTES, UTF-8 kept whole, escapes."""

from __future__ import annotations

import dns.rdata
import dns.rdataclass
import dns.rdatatype
from hypothesis import given
from hypothesis import strategies as st

from mailauth_audit.records.zonefile import quote_txt, split_txt, zone_line


def _reparse(rdata: str) -> str:
    """What a DNS server loading the line would serve: the strings joined."""
    rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, rdata)
    return b"".join(rd.strings).decode("utf-8")  # type: ignore[attr-defined]


def test_splits_at_255_bytes_not_characters() -> None:
    text = "é" * 200  # 400 bytes, 200 characters
    chunks = split_txt(text)
    assert [len(c) for c in chunks] == [254, 146]  # 255 would cut "é" in two
    assert all(len(c) <= 255 for c in chunks)
    assert b"".join(chunks).decode("utf-8") == text


def test_escapes_quotes_and_backslashes() -> None:
    line = zone_line("_dmarc.x.com", "TXT", 'a"b\\c')
    assert line == '_dmarc.x.com. 3600 IN TXT "a\\"b\\\\c"'


def test_other_types_as_given_and_ttl() -> None:
    assert zone_line("x.com.", "mx", "10 mx1.x.com.", 300) == "x.com. 300 IN MX 10 mx1.x.com."


def test_empty_text_is_one_empty_string() -> None:
    assert quote_txt("") == '""'


@given(st.text(max_size=1200))
def test_round_trip_through_a_zone_parser(text: str) -> None:
    for chunk in split_txt(text):
        assert len(chunk) <= 255
    assert _reparse(quote_txt(text)) == text
