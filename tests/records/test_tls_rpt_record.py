"""TLS-RPT record parser (RFC 8460 §3): tables and hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailauth_audit.records.errors import RecordSyntaxError
from mailauth_audit.records.tls_rpt import (
    MultipleRecordsError,
    TlsRptNoteKind,
    looks_like_tls_rpt,
    parse_tls_rpt,
    select_tls_rpt_record,
)


@pytest.mark.parametrize(
    ("text", "uris", "schemes"),
    [
        # RFC 8460 §3.1 examples
        ("v=TLSRPTv1;rua=mailto:reports@example.com", ("mailto:reports@example.com",), ("mailto",)),
        (
            "v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt",
            ("https://reporting.example.com/v1/tlsrpt",),
            ("https",),
        ),
        (
            "v=TLSRPTv1; rua=mailto:a@example.com,https://r.example.com/x;",
            ("mailto:a@example.com", "https://r.example.com/x"),
            ("mailto", "https"),
        ),
        (  # WSP around commas is in the grammar: *WSP "," *WSP
            "v=TLSRPTv1; rua=mailto:a@example.com ,\thttps://r.example.com ;",
            ("mailto:a@example.com", "https://r.example.com"),
            ("mailto", "https"),
        ),
        (  # '=' and '?' are fine inside a URI
            "v=TLSRPTv1; rua=https://r.example.com:8443/p?domain=example.com&x=1",
            ("https://r.example.com:8443/p?domain=example.com&x=1",),
            ("https",),
        ),
        (
            "v=TLSRPTv1; rua=MAILTO:Reports%2Btls@Example.com",
            ("MAILTO:Reports%2Btls@Example.com",),
            ("mailto",),
        ),
        ("v=TLSRPTv1; rua=https://[2001:db8::1]/r", ("https://[2001:db8::1]/r",), ("https",)),
    ],
)
def test_valid(text: str, uris: tuple[str, ...], schemes: tuple[str, ...]) -> None:
    record = parse_tls_rpt(text)
    assert tuple(u.uri for u in record.rua) == uris
    assert tuple(u.scheme for u in record.rua) == schemes
    assert record.supported_rua == record.rua
    assert record.notes == ()


def test_uri_details() -> None:
    record = parse_tls_rpt(
        "v=TLSRPTv1; rua=mailto:tls%2Breports@example.com,https://R.example.com/a"
    )
    mail, web = record.rua
    assert (mail.address, mail.position) == ("tls+reports@example.com", 16)
    assert (web.host, web.position) == ("r.example.com", 49)


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("", 0),
        ("v=TLSRPTv1", 10),
        ("v=TLSRPTv1;", 11),
        ("v=tlsrptv1; rua=mailto:a@b.example", 0),  # %s"v=TLSRPTv1"
        ("v=TLSRPTv1 rua=mailto:a@b.example", 11),
        ("v=TLSRPTv1; RUA=mailto:a@b.example", 34),  # names are case-sensitive: no rua
        ("v=TLSRPTv1; foo=bar", 19),  # rua is required
        ("v=TLSRPTv1; rua=", 16),
        ("v=TLSRPTv1; rua=mailto:a@b.example,,https://x.example", 35),
        ("v=TLSRPTv1; rua=mailto:a@b.example,", 35),
        ("v=TLSRPTv1; rua=mailto:a@b.example!10m", 34),  # '!' must be encoded
        ("v=TLSRPTv1; rua=mailto:a b@c.example", 24),
        ("v=TLSRPTv1; rua=reports@example.com", 16),  # no scheme
        ("v=TLSRPTv1; rua=mailto:nobody", 16),
        ("v=TLSRPTv1; rua=mailto:a@", 16),
        ("v=TLSRPTv1; rua=https:/r.example.com", 16),
        ("v=TLSRPTv1; rua=https://", 16),
        ("v=TLSRPTv1; rua=https://r.example.com:99999x/", 16),
        ("v=TLSRPTv1; rua=https://r.example.com/%zz", 38),
        ("v=TLSRPTv1; rua=https://r.example.com/caf\u00e9", 41),
        ("v=TLSRPTv1; rua=mailto:a@b.example; x", 36),
        ("v=TLSRPTv1; rua=mailto:a@b.example; x=a b", 40),
    ],
)
def test_invalid(text: str, position: int) -> None:
    with pytest.raises(RecordSyntaxError) as caught:
        parse_tls_rpt(text)
    assert caught.value.position == position


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("v=TLSRPTv1; rua=mailto:a@b.example; ext=1", (TlsRptNoteKind.UNKNOWN_FIELD,)),
        (
            "v=TLSRPTv1; rua=mailto:a@b.example; rua=https://x.example",
            (TlsRptNoteKind.DUPLICATE_FIELD,),
        ),
        ("v=TLSRPTv1; rua=http://r.example.com/", (TlsRptNoteKind.UNSUPPORTED_SCHEME,)),
        ("v=TLSRPTv1; rua=mailto:a@b.example  ", (TlsRptNoteKind.TRAILING_WHITESPACE,)),
    ],
)
def test_notes(text: str, kinds: tuple[TlsRptNoteKind, ...]) -> None:
    assert tuple(n.kind for n in parse_tls_rpt(text).notes) == kinds


def test_first_rua_wins_and_unsupported_schemes_are_kept() -> None:
    record = parse_tls_rpt(
        "v=TLSRPTv1; rua=ftp://x.example/r,mailto:a@b.example; rua=mailto:c@d.example"
    )
    assert [u.uri for u in record.rua] == ["ftp://x.example/r", "mailto:a@b.example"]
    assert [u.uri for u in record.supported_rua] == ["mailto:a@b.example"]
    assert parse_tls_rpt("v=TLSRPTv1; rua=http://x.example").supported_rua == ()


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ([], None),
        (["v=spf1 -all"], None),
        (["v=TLSRPTv10; rua=mailto:a@b.example"], None),
        (["v=tlsrptv1; rua=mailto:a@b.example"], None),
        (["v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@b.example"], "mailto:a@b.example"),
    ],
)
def test_select(texts: list[str], expected: str | None) -> None:
    record = select_tls_rpt_record(texts)
    assert (record.rua[0].uri if record else None) == expected


def test_select_two_records_is_an_error() -> None:
    with pytest.raises(MultipleRecordsError, match="exactly one"):
        select_tls_rpt_record(
            ["v=TLSRPTv1; rua=mailto:a@b.example", "v=TLSRPTv1;rua=mailto:c@d.example"]
        )


def test_looks_like() -> None:
    assert looks_like_tls_rpt("  V=TLSRPTV1; rua=x")
    assert not looks_like_tls_rpt("v=STSv1; id=1")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_a_record_or_a_syntax_error(text: str) -> None:
    for candidate in (text, "v=TLSRPTv1;" + text, "v=TLSRPTv1; rua=" + text):
        try:
            record = parse_tls_rpt(candidate)
        except RecordSyntaxError as exc:
            assert 0 <= exc.position <= len(candidate)
        else:
            assert record.rua


_URI_PARTS = st.sampled_from(
    ["mailto:", "https://", "a@b.example", "r.example", "/", ",", " ", ";", "!", "%2C", "?q=1", ":"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_URI_PARTS, max_size=10))
def test_any_uri_list_is_a_record_or_a_syntax_error(parts: list[str]) -> None:
    text = "v=TLSRPTv1; rua=" + "".join(parts)
    try:
        record = parse_tls_rpt(text)
    except RecordSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
    else:
        for uri in record.rua:
            assert text[uri.position :].startswith(uri.uri)
