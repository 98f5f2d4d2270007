"""DMARC record parser (RFC 9989 §4.7–4.8) and Organizational Domains (PSL, tree walk)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailauth_audit.records.dmarc import (
    DmarcAlignment,
    DmarcDuplicateTagError,
    DmarcPolicy,
    DmarcPsd,
    looks_like_dmarc,
    parse_dmarc,
    parse_dmarc_lenient,
)
from mailauth_audit.records.errors import RecordSyntaxError
from mailauth_audit.records.orgdomain import (
    psl_organizational_domain,
    select_organizational_domain,
    tree_walk_names,
)

# --- valid records --------------------------------------------------------------------------


def test_full_record_fields() -> None:
    record = parse_dmarc(
        "v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; aspf=r; fo=0:d; t=y; psd=n; "
        "rua=mailto:agg@example.com,mailto:agg2@reports.example.net!10m; "
        "ruf=mailto:fail@example.com"
    )
    assert record.policy is DmarcPolicy.REJECT
    assert record.subdomain_policy is DmarcPolicy.QUARANTINE
    assert record.nonexistent_subdomain_policy is DmarcPolicy.REJECT
    assert record.adkim is DmarcAlignment.STRICT and record.aspf is DmarcAlignment.RELAXED
    assert record.failure_options == ("0", "d")
    assert record.testing is True and record.psd is DmarcPsd.NO
    assert [u.address for u in record.rua] == ["agg@example.com", "agg2@reports.example.net"]
    assert [u.domain for u in record.rua] == ["example.com", "reports.example.net"]
    assert record.rua[1].max_size == 10 * 1024**2 and record.rua[0].max_size is None
    assert record.rua[1].uri == "mailto:agg2@reports.example.net"
    assert [u.tag for u in record.report_uris] == ["rua", "rua", "ruf"]
    assert record.unknown_tags == () and record.removed_tags == ()


@pytest.mark.parametrize(
    ("text", "attr", "expected"),
    [
        ("v=DMARC1; p=none", "policy", DmarcPolicy.NONE),
        ("v=DMARC1;p=REJECT", "policy", DmarcPolicy.REJECT),  # values are case-insensitive
        ("v=DMARC1 ; p = quarantine ;", "policy", DmarcPolicy.QUARANTINE),
        ("  v=DMARC1;\tp=reject\t", "policy", DmarcPolicy.REJECT),
        ("v=DMARC1; rua=mailto:a@example.com", "policy", None),  # p absent: not an error
        ("v=DMARC1; p=none; pct=0", "percentage", 0),
        ("v=DMARC1; p=none; pct=100", "percentage", 100),
        ("v=DMARC1; p=none; pct=007", "percentage", 7),
        ("v=DMARC1; p=none; ri=86400", "report_interval", 86400),
        ("v=DMARC1; p=none; rf=afrf", "report_format", ("afrf",)),
        ("v=DMARC1; p=none; fo=1", "failure_options", ("1",)),
        ("v=DMARC1; p=none; fo=d:s:0", "failure_options", ("d", "s", "0")),
        ("v=DMARC1; p=none; t=n", "testing", False),
        ("v=DMARC1; p=none; psd=u", "psd", DmarcPsd.UNKNOWN),
        ("v=DMARC1; p=none; adkim=S", "adkim", DmarcAlignment.STRICT),
    ],
)
def test_valid_values(text: str, attr: str, expected: object) -> None:
    assert getattr(parse_dmarc(text), attr) == expected


def test_unknown_and_removed_tags_are_kept_not_errors() -> None:
    record = parse_dmarc("v=DMARC1; p=none; pct=50; rf=afrf; ri=3600; foo=bar; x=<script>")
    assert [t.name for t in record.unknown_tags] == ["foo", "x"]
    assert record.unknown_tags[1].value == "<script>"
    assert record.removed_tags == ("pct", "rf", "ri")
    assert record.percentage == 50


def test_non_mailto_uri_is_valid_with_host_as_domain() -> None:
    record = parse_dmarc("v=DMARC1; p=none; rua=https://Reports.Example.org/dmarc")
    uri = record.rua[0]
    assert (uri.scheme, uri.address, uri.domain) == ("https", None, "reports.example.org")


def test_percent_encoded_mailto_and_query_are_decoded() -> None:
    record = parse_dmarc("v=DMARC1; p=none; rua=mailto:dmarc%2Breports@example.com?subject=x")
    assert record.rua[0].address == "dmarc+reports@example.com"


@pytest.mark.parametrize(
    ("suffix", "size"),
    [
        ("!0", 0),
        ("!500", 500),
        ("!1k", 1024),
        ("!2M", 2 * 1024**2),
        ("!1g", 1024**3),
        ("!1t", 1024**4),
    ],
)
def test_obsolete_size_suffix(suffix: str, size: int) -> None:
    record = parse_dmarc(f"v=DMARC1; p=none; rua=mailto:a@example.com{suffix}")
    assert record.rua[0].max_size == size


# --- errors: strict raises with the position; lenient keeps going ---------------------------


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("", 0, "empty record"),
        ("p=none; v=DMARC1", 0, "must start with"),
        ("v=DMARC2; p=none", 2, "unsupported DMARC version"),
        ("v=dmarc1; p=none", 2, "case-sensitive"),
        ("v=DMARC1 p=none", 8, "missing ';'"),
        ("v=spf1 -all", 2, "unsupported DMARC version"),
        ("  x", 2, "must start with"),
    ],
)
def test_version_errors_are_fatal_even_when_lenient(
    text: str, position: int, fragment: str
) -> None:
    with pytest.raises(RecordSyntaxError) as info:
        parse_dmarc_lenient(text)
    assert info.value.position == position
    assert fragment in info.value.message


@pytest.mark.parametrize(
    ("text", "position", "tag", "fragment"),
    [
        ("v=DMARC1; p=rejected", 12, "p", "invalid policy"),
        ("v=DMARC1; p=none; sp=bogus", 21, "sp", "invalid policy"),
        ("v=DMARC1; p=none; np=", 21, "np", "empty value"),
        ("v=DMARC1; p=none; adkim=x", 24, "adkim", "alignment"),
        ("v=DMARC1; p=none; pct=101", 22, "pct", "out of range"),
        ("v=DMARC1; p=none; pct=-1", 22, "pct", "invalid pct"),
        ("v=DMARC1; p=none; pct=" + "9" * 5000, 22, "pct", "out of range"),
        ("v=DMARC1; p=none; ri=x", 21, "ri", "invalid ri"),
        ("v=DMARC1; p=none; ri=99999999999", 21, "ri", "out of range"),
        ("v=DMARC1; p=none; fo=0:1", 23, "fo", "mutually exclusive"),
        ("v=DMARC1; p=none; fo=d:d", 23, "fo", "twice"),
        ("v=DMARC1; p=none; fo=x", 21, "fo", "invalid fo"),
        ("v=DMARC1; p=none; rf=xml", 21, "rf", "afrf"),
        ("v=DMARC1; p=none; t=yes", 20, "t", "expected y or n"),
        ("v=DMARC1; p=none; psd=x", 22, "psd", "expected y, n or u"),
        ("v=DMARC1; p=none; rua=dmarc@example.com", 22, "rua", "mailto:dmarc@example.com"),
        ("v=DMARC1; p=none; rua=example.com", 22, "rua", "not a URI"),
        ("v=DMARC1; p=none; rua=mailto:", 29, "rua", "without an address"),
        ("v=DMARC1; p=none; rua=mailto:nobody", 29, "rua", "not local-part@domain"),
        ("v=DMARC1; p=none; rua=mailto:a@b", 31, "rua", "invalid domain"),
        ("v=DMARC1; p=none; rua=mailto:a@ex_ample..com", 31, "rua", "invalid domain"),
        ("v=DMARC1; p=none; rua=mailto:a@example.com,", 43, "rua", "empty URI"),
        ("v=DMARC1; p=none; rua=mailto:a@example.com!10x", 42, "rua", "size limit"),
        ('v=DMARC1; p=none; rua=mailto:"><img@x', 29, "rua", "percent-encoded"),
        ("v=DMARC1; p=none; ruf=mailto:" + "a" * 65 + "@example.com", 29, "ruf", "local part"),
        ("v=DMARC1; P=reject", 10, "p", "case-sensitive"),
        ("v=DMARC1; p=none;; sp=none", 17, None, "empty tag"),
        ("v=DMARC1; p=none; justtext", 18, None, "expected tag=value"),
        ("v=DMARC1; p=none; 1x=y", 18, None, "invalid tag name"),
        ("v=DMARC1; p=none; rua=mailto:a@exa\ufffdmple.com", 34, "rua", "not UTF-8"),
        ("v=DMARC1; p=none; x=caf\u00e9", 23, None, "U+00E9"),
    ],
)
def test_issues_have_position_and_tag(
    text: str, position: int, tag: str | None, fragment: str
) -> None:
    _, issues = parse_dmarc_lenient(text)
    assert issues, "expected an issue"
    assert (issues[0].position, issues[0].tag) == (position, tag)
    assert fragment in issues[0].message
    with pytest.raises(RecordSyntaxError) as info:
        parse_dmarc(text)
    assert info.value.position == position


def test_lenient_discards_only_the_bad_value() -> None:
    # Given a record with one bad tag, receivers keep the rest (RFC 9989 §4.8)
    record, issues = parse_dmarc_lenient(
        "v=DMARC1; p=reject; sp=maybe; rua=mailto:ok@example.com,bad,mailto:ok2@example.com"
    )
    assert record.policy is DmarcPolicy.REJECT and record.subdomain_policy is None
    assert [u.address for u in record.rua] == ["ok@example.com", "ok2@example.com"]
    assert [i.tag for i in issues] == ["sp", "rua"]


@pytest.mark.parametrize(
    ("text", "position", "tag"),
    [
        ("v=DMARC1; p=reject; p=none", 20, "p"),
        ("v=DMARC1; p=none; rua=mailto:a@example.com; rua=mailto:b@example.com", 44, "rua"),
        ("v=DMARC1; p=bogus; p=reject", 19, "p"),  # the first copy's value does not matter
        ("v=DMARC1; v=DMARC1; p=reject", 10, "v"),
        ("v=DMARC1; p=none; x=1; x=2", 23, "x"),  # unknown tags are tags too
    ],
)
def test_a_repeated_tag_makes_the_whole_record_invalid(text: str, position: int, tag: str) -> None:
    # RFC 7489 §6.3 uses DKIM's tag-list syntax; RFC 6376 §3.2: a repeated tag name makes the
    # entire tag-list invalid. So there is no "first copy wins" policy to report.
    for parse in (parse_dmarc_lenient, parse_dmarc):
        with pytest.raises(DmarcDuplicateTagError) as info:
            parse(text)
        assert (info.value.position, info.value.tag) == (position, tag)
        assert "duplicate tag" in info.value.message and "RFC 6376 §3.2" in info.value.message
    assert isinstance(info.value, RecordSyntaxError)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v=DMARC1; p=none", True),
        ("v=dmarc1", True),
        ("  V = DMARC1;", True),
        ("v=DMARC1p=none", True),
        ("v=spf1 -all", False),
        ("google-site-verification=x", False),
        ("p=none; v=DMARC1", False),
    ],
)
def test_looks_like_dmarc(text: str, expected: bool) -> None:
    assert looks_like_dmarc(text) is expected


@settings(max_examples=400)
@given(st.text())
def test_any_text_gives_a_record_or_a_syntax_error(text: str) -> None:
    try:
        parse_dmarc(text)
    except RecordSyntaxError as exc:
        assert 0 <= exc.position <= len(text)


_TAG_ALPHABET = st.sampled_from(
    ["p", "sp", "np", "rua", "ruf", "fo", "pct", "ri", "rf", "t", "psd", "adkim", "aspf", "x"]
)
_VALUE = st.text(alphabet=st.characters(min_codepoint=0x09, max_codepoint=0x7F), max_size=30)


@settings(max_examples=400)
@given(st.lists(st.tuples(_TAG_ALPHABET, _VALUE), max_size=8))
def test_tag_lists_never_crash_and_positions_point_into_the_record(
    pairs: list[tuple[str, str]],
) -> None:
    text = "v=DMARC1; " + "; ".join(f"{k}={v}" for k, v in pairs)
    try:
        _, issues = parse_dmarc_lenient(text)
    except RecordSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
        return
    for issue in issues:
        assert 0 <= issue.position <= len(text)


# --- Organizational Domains ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("example.com", "example.com"),
        ("a.b.example.com", "example.com"),
        ("WWW.Example.COM.", "example.com"),
        ("mail.example.co.uk", "example.co.uk"),
        ("co.uk", "co.uk"),  # a public suffix is its own answer
        ("com", "com"),
        ("foo.blogspot.com", "foo.blogspot.com"),  # private section of the PSL
        ("shop.bench", "shop.bench"),  # unknown TLDs: the default rule "*"
        ("a.b.shop.bench", "shop.bench"),
        ("x.y.example", "y.example"),
        ("deep.sub.site.test", "site.test"),
        ("bücher.example.de", "example.de"),  # U-labels come back as A-labels
        ("a.xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("a.公司.cn", "a.xn--55qx5d.cn"),  # IDN public suffix
    ],
)
def test_psl_organizational_domain(name: str, expected: str) -> None:
    assert psl_organizational_domain(name) == expected


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("com", ("com",)),
        ("example.com", ("example.com", "com")),
        ("a.mail.example.com", ("a.mail.example.com", "mail.example.com", "example.com", "com")),
        # eight labels: still one label at a time
        (
            "a.b.c.d.e.f.example.com",
            (
                "a.b.c.d.e.f.example.com",
                "b.c.d.e.f.example.com",
                "c.d.e.f.example.com",
                "d.e.f.example.com",
                "e.f.example.com",
                "f.example.com",
                "example.com",
                "com",
            ),
        ),
        # RFC 9989 §4.10's own example: 13 labels, 8 queries
        (
            "a.b.c.d.e.f.g.h.i.j.mail.example.com",
            (
                "a.b.c.d.e.f.g.h.i.j.mail.example.com",
                "g.h.i.j.mail.example.com",
                "h.i.j.mail.example.com",
                "i.j.mail.example.com",
                "j.mail.example.com",
                "mail.example.com",
                "example.com",
                "com",
            ),
        ),
    ],
)
def test_tree_walk_names(domain: str, expected: tuple[str, ...]) -> None:
    names = tree_walk_names(domain)
    assert names == expected
    assert len(names) <= 8


@pytest.mark.parametrize(
    ("start", "found", "expected"),
    [
        ("a.mail.example.com", [], "a.mail.example.com"),
        # RFC 9989 §4.10.2 examples
        ("a.mail.example.com", [("mail.example.com", None), ("example.com", None)], "example.com"),
        ("a.mail.example.com", [("mail.example.com", "n")], "mail.example.com"),
        ("a.mail.example.com", [("com", "y")], "example.com"),
        ("a.mail.example.com", [("mail.example.com", None), ("com", "y")], "example.com"),
        ("a.mail.example.com", [("a.mail.example.com", "y")], "a.mail.example.com"),
        ("example.com", [("example.com", None)], "example.com"),
        ("example.com", [("example.com", "u"), ("com", None)], "com"),
    ],
)
def test_select_organizational_domain(
    start: str, found: list[tuple[str, str | None]], expected: str
) -> None:
    assert select_organizational_domain(start, found) == expected
