"""MTA-STS parsers (RFC 8461 §3.1 TXT, §3.2 policy, §4.1 MX matching): tables and hypothesis.

Rows marked "checkdmarc" are regressions of behaviour a peer gets wrong: unknown policy
fields refused, `*.example.com` matching `a.b.example.com`, unanchored substring matches.
"""

from __future__ import annotations

import pickle
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailauth_audit.options import Limits
from mailauth_audit.records.errors import RecordSyntaxError
from mailauth_audit.records.mta_sts import (
    MtaStsMode,
    MtaStsNoteKind,
    MtaStsPolicy,
    MtaStsPolicyTooLarge,
    MultipleRecordsError,
    looks_like_mta_sts,
    matching_mx_pattern,
    mx_pattern_matches,
    parse_mta_sts_policy,
    parse_mta_sts_txt,
    policy_covers,
    select_mta_sts_record,
)

RFC_POLICY = (
    "version: STSv1\n"
    "mode: enforce\n"
    "mx: mail.example.com\n"
    "mx: *.example.net\n"
    "mx: backupmx.example.com\n"
    "max_age: 604800\n"
)
_END = len(RFC_POLICY)  # where a line appended to RFC_POLICY starts
_MAX_AGE_AT = RFC_POLICY.index("604800")

# --- TXT record -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "record_id", "extensions"),
    [
        ("v=STSv1; id=20160831085700Z;", "20160831085700Z", ()),  # RFC 8461 §3.1 example
        ("v=STSv1;id=1", "1", ()),
        ("v=STSv1\t;\tid=abc\t;", "abc", ()),
        ("v=STSv1; id=" + "a" * 32, "a" * 32, ()),
        ("v=STSv1; foo=bar; id=x", "x", ("foo",)),  # order of other fields not significant
        ("v=STSv1; id=x; ext.name_2-b=va:lue", "x", ("ext.name_2-b",)),
    ],
)
def test_txt_valid(text: str, record_id: str, extensions: tuple[str, ...]) -> None:
    record = parse_mta_sts_txt(text)
    assert record.id == record_id
    assert tuple(f.name for f in record.extensions) == extensions


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("", 0),
        ("v=STSv1", 7),  # id is required
        ("v=STSv1;", 8),
        ("v=stsv1; id=1", 0),  # %s"v=STSv1": case-sensitive
        (" v=STSv1; id=1", 0),
        ("v=STSv10; id=1", 7),
        ("v=STSv1 id=1", 8),  # fields need ';'
        ("v=STSv1; id=1;; foo=bar", 14),
        ("v=STSv1; ID=1", 13),  # field names are case-sensitive: no id
        ("v=STSv1; id=" + "a" * 33, 12),
        ("v=STSv1; id=2016-08-31", 12),
        ("v=STSv1; id=", 12),
        ("v=STSv1; id", 9),
        ("v=STSv1; id=1; foo=a=b", 20),
        ("v=STSv1; id=1; =x", 15),
        ("v=STSv1; id=1; _x=1", 15),
        ("v=STSv1; id=1; foo=caf\u00e9", 22),
        ("v=STSv1; id=1\n", 13),
    ],
)
def test_txt_invalid(text: str, position: int) -> None:
    with pytest.raises(RecordSyntaxError) as caught:
        parse_mta_sts_txt(text)
    assert caught.value.position == position


def test_txt_first_id_wins_and_later_copies_are_noted() -> None:
    record = parse_mta_sts_txt("v=STSv1; id=first; id=second")
    assert record.id == "first"
    note = record.notes[0]
    assert (note.kind, note.position) == (MtaStsNoteKind.DUPLICATE_FIELD, 19)


def test_txt_trailing_whitespace_is_accepted_and_noted() -> None:
    record = parse_mta_sts_txt("v=STSv1; id=abc  ")
    assert record.id == "abc"
    assert [n.kind for n in record.notes] == [MtaStsNoteKind.TRAILING_WHITESPACE]


def test_txt_id_case_hint() -> None:
    with pytest.raises(RecordSyntaxError, match="case-sensitive"):
        parse_mta_sts_txt("v=STSv1; Id=abc")


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ([], None),
        (["v=spf1 -all"], None),
        (["v=stsv1; id=1"], None),  # not v=STSv1: discarded, so absent
        (["v=STSv10; id=1"], None),
        (["v=spf1 -all", "v=STSv1; id=abc"], "abc"),
        (["v=STSv1 ; id=abc"], "abc"),  # WSP before the ';' is in the grammar
    ],
)
def test_select(texts: list[str], expected: str | None) -> None:
    record = select_mta_sts_record(texts)
    assert (record.id if record else None) == expected


@pytest.mark.parametrize(
    "texts",
    [
        ["v=STSv1; id=a", "v=STSv1; id=b"],  # two records: senders ignore MTA-STS
        ["v=STSv1; id=a", "v=STSv1; id=a"],
        ["v=STSv1; id=bad-id"],  # one record, invalid
        ["v=STSv1"],
    ],
)
def test_select_errors(texts: list[str]) -> None:
    with pytest.raises(RecordSyntaxError) as caught:
        select_mta_sts_record(texts)
    # two records and one bad record are different findings: the subclass tells them apart
    assert isinstance(caught.value, MultipleRecordsError) is (len(texts) == 2)
    if isinstance(caught.value, MultipleRecordsError):
        again = pickle.loads(pickle.dumps(caught.value))
        assert (again.count, again.message) == (2, caught.value.message)


def test_looks_like() -> None:
    assert looks_like_mta_sts(" V=stsv1; id=1")
    assert not looks_like_mta_sts("v=spf1 -all")


# --- policy -----------------------------------------------------------------------------


def test_rfc_example_policy() -> None:
    policy = parse_mta_sts_policy(RFC_POLICY)
    assert policy == MtaStsPolicy(
        version="STSv1",
        mode=MtaStsMode.ENFORCE,
        max_age=604800,
        mx=("mail.example.com", "*.example.net", "backupmx.example.com"),
    )


@pytest.mark.parametrize(
    ("text", "mode", "max_age", "mx", "notes"),
    [
        (RFC_POLICY.replace("\n", "\r\n"), "enforce", 604800, 3, ()),  # CRLF
        (RFC_POLICY.rstrip("\n"), "enforce", 604800, 3, ()),  # no final line end
        ("version: STSv1\nmode: none\nmax_age: 86400\n", "none", 86400, 0, ()),  # no mx: ok
        ("version: STSv1\nmode: testing\nmx: a.example\nmax_age: 0\n", "testing", 0, 1, ()),
        (  # checkdmarc: refuses unknown fields; RFC 8461 §3.2 says ignore them
            RFC_POLICY + "future_key: some value\n",
            "enforce",
            604800,
            3,
            (MtaStsNoteKind.UNKNOWN_FIELD,),
        ),
        (  # first copy of a non-repeated field wins (RFC 8461 §3.2)
            RFC_POLICY + "mode: none\nmode: bogus\n",
            "enforce",
            604800,
            3,
            (MtaStsNoteKind.DUPLICATE_FIELD,),
        ),
        ("version:STSv1\nmode:\tenforce \t\nmx:a.b\nmax_age:   5\n", "enforce", 5, 1, ()),
        (RFC_POLICY + "\n\n", "enforce", 604800, 3, (MtaStsNoteKind.BLANK_LINE,)),
        (
            RFC_POLICY.replace("604800", "9999999999"),
            "enforce",
            9999999999,
            3,
            (MtaStsNoteKind.MAX_AGE_ABOVE_LIMIT,),
        ),
        (
            RFC_POLICY + "mx: MAIL.example.com\n",
            "enforce",
            604800,
            3,
            (MtaStsNoteKind.DUPLICATE_MX,),
        ),
        (
            RFC_POLICY + "mx: other.example.\n",
            "enforce",
            604800,
            4,
            (MtaStsNoteKind.MX_TRAILING_DOT,),
        ),
        (RFC_POLICY + "Mode: none\n", "enforce", 604800, 3, (MtaStsNoteKind.UNKNOWN_FIELD,)),
        (
            RFC_POLICY + "comment: caf\u00e9 au lait\n",
            "enforce",
            604800,
            3,
            (MtaStsNoteKind.UNKNOWN_FIELD,),
        ),
    ],
)
def test_policy_valid(
    text: str, mode: str, max_age: int, mx: int, notes: tuple[MtaStsNoteKind, ...]
) -> None:
    policy = parse_mta_sts_policy(text)
    assert (policy.mode.value, policy.max_age, len(policy.mx)) == (mode, max_age, mx)
    assert tuple(n.kind for n in policy.notes) == notes


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("", 0),
        ("\n\n", 0),
        ("mode: enforce\nmx: a.b\nmax_age: 1\n", 33),  # no version: at the end
        (RFC_POLICY.replace("STSv1", "STSv2"), 9),
        (RFC_POLICY.replace("STSv1", "stsv1"), 9),
        (RFC_POLICY.replace("enforce", "Enforce"), 21),
        (RFC_POLICY.replace("enforce", "enforced"), 21),
        (RFC_POLICY.replace("mode: enforce\n", ""), _END - 14),  # no mode
        (RFC_POLICY.replace("mode:", "Mode:"), len(RFC_POLICY)),  # case-sensitive: no mode
        (RFC_POLICY.replace("604800", "-1"), _MAX_AGE_AT),
        (RFC_POLICY.replace("604800", "1e5"), _MAX_AGE_AT),
        (RFC_POLICY.replace("604800", "12345678901"), _MAX_AGE_AT),
        (RFC_POLICY.replace("604800", "\u0661\u0662"), _MAX_AGE_AT),  # Arabic-Indic digits
        ("version: STSv1\nmode: enforce\nmax_age: 1\n", 40),  # enforce needs an mx
        ("version: STSv1\nmode: testing\nmax_age: 1\n", 40),
        (RFC_POLICY + "mx: *.*.example.com\n", _END + 4),
        (RFC_POLICY + "mx: mail.*.example.com\n", _END + 4),
        (RFC_POLICY + "mx: *mail.example.com\n", _END + 4),
        (RFC_POLICY + "mx: *\n", _END + 4),
        (RFC_POLICY + "mx: b\u00fccher.example\n", _END + 4),  # must be the A-label
        (RFC_POLICY + "mx: -a.example\n", _END + 4),
        (RFC_POLICY + "mx: a..example\n", _END + 4),
        (RFC_POLICY + "mx: a_b.example\n", _END + 4),
        (RFC_POLICY + "mx:\n", _END + 3),
        (RFC_POLICY + "mode : none\n", _END),  # no space before ':'
        (RFC_POLICY + " mx: a.b\n", _END),
        (RFC_POLICY + "just text\n", _END),
        (RFC_POLICY + "x: a\x00b\n", _END + 4),
        (RFC_POLICY + "x: a\tb\n", _END + 4),
        (RFC_POLICY + "x: a\rb\n", _END + 4),
        ("\ufeff" + RFC_POLICY, 0),
    ],
)
def test_policy_invalid(text: str, position: int) -> None:
    with pytest.raises(RecordSyntaxError) as caught:
        parse_mta_sts_policy(text)
    assert caught.value.position == position
    assert not isinstance(caught.value, MtaStsPolicyTooLarge)


def test_policy_bytes_are_utf8() -> None:
    assert parse_mta_sts_policy(RFC_POLICY.encode()).max_age == 604800
    with pytest.raises(RecordSyntaxError) as caught:
        parse_mta_sts_policy(RFC_POLICY.encode() + b"x: \xff\n")
    assert caught.value.position == len(RFC_POLICY) + 3


def test_notes_are_one_per_kind_with_a_count() -> None:
    text = RFC_POLICY + "".join(f"k{i}: v\n" for i in range(500)) + "\n" * 300
    policy = parse_mta_sts_policy(text)
    unknown = policy.note(MtaStsNoteKind.UNKNOWN_FIELD)
    blank = policy.note(MtaStsNoteKind.BLANK_LINE)
    assert unknown is not None and (unknown.count, unknown.line) == (500, 7)
    assert blank is not None and blank.count == 300
    assert len(policy.notes) == 2


# --- bounds -----------------------------------------------------------------------------


def test_policy_over_the_size_limit_is_refused_unread() -> None:
    text = RFC_POLICY + "x: " + "a" * (64 * 1024)
    with pytest.raises(MtaStsPolicyTooLarge) as caught:
        parse_mta_sts_policy(text)
    assert caught.value.limit == "max_mta_sts_policy_chars"
    with pytest.raises(MtaStsPolicyTooLarge):
        parse_mta_sts_policy(text.encode())


def test_line_and_mx_limits() -> None:
    limits = Limits(max_mta_sts_policy_lines=10, max_mta_sts_mx_patterns=3)
    with pytest.raises(MtaStsPolicyTooLarge) as caught:
        parse_mta_sts_policy(RFC_POLICY + "x: y\n" * 5, limits=limits)
    assert caught.value.limit == "max_mta_sts_policy_lines"
    with pytest.raises(MtaStsPolicyTooLarge) as caught:
        parse_mta_sts_policy(RFC_POLICY + "mx: four.example\n", limits=limits)
    assert caught.value.limit == "max_mta_sts_mx_patterns"
    # the error survives pickling with its limit (multiprocess bulk runs send it across)
    again = pickle.loads(pickle.dumps(caught.value))
    assert (again.limit, again.position) == (caught.value.limit, caught.value.position)


@pytest.mark.parametrize("name", ["max_mta_sts_policy_lines", "max_mta_sts_mx_patterns"])
def test_limits_are_validated(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Limits(**{name: 0})


def test_largest_accepted_policy_parses_quickly() -> None:
    # Given: a policy with the most mx patterns and the most lines allowed, under 64 KiB
    mx = "".join(f"mx: host{i}.example.com\n" for i in range(997))
    filler = "\n" * (10_000 - 997 - 6)
    text = RFC_POLICY + mx + filler
    assert len(text) <= 64 * 1024
    start = time.perf_counter()
    policy = parse_mta_sts_policy(text)
    assert time.perf_counter() - start < 5.0  # linear: a few ms on an idle core
    assert len(policy.mx) == 1000
    assert policy_covers(policy, "host996.example.com")


# --- MX pattern matching ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        ("mail.example.com", "mail.example.com", True),
        ("mail.example.com", "MAIL.Example.COM", True),
        ("mail.example.com", "mail.example.com.", True),  # MX names often end with a dot
        ("mail.example.com.", "mail.example.com", True),
        ("*.example.com", "mail.example.com", True),  # RFC 8461 §4.1
        ("*.EXAMPLE.com", "Mail.example.COM.", True),
        ("*.example.com", "example.com", False),  # RFC 8461 §4.1
        ("*.example.com", "foo.bar.example.com", False),  # RFC 8461 §4.1 (checkdmarc)
        ("*.example.com", "a.b.example.com", False),  # checkdmarc
        ("example.com", "mail.example.com", False),  # checkdmarc: unanchored substring
        ("mail.example.com", "xmail.example.com", False),
        ("mail.example.com", "mail.example.com.evil.test", False),
        ("*.example.com", "mail.badexample.com", False),
        ("*.example.com", "mail.example.com.evil.test", False),
        ("mail.example", "mail.example.com", False),
        ("*.*.example.com", "a.b.example.com", False),
        ("m*.example.com", "mail.example.com", False),  # partial-label wildcard: no
        ("mail.*.com", "mail.example.com", False),
        ("*", "com", False),
        ("*.", "com", False),
        ("*.example.com", "*.example.com", False),
        ("mail.example.com", "mail.example\u212a.com", False),  # KELVIN SIGN lowercases to k
        ("mail.exampl\u212a.com", "mail.example.com", False),
        ("mail.example.com", "mail..example.com", False),
        ("", "", False),
        (".", ".", False),
    ],
)
def test_mx_pattern_matches(pattern: str, host: str, expected: bool) -> None:
    assert mx_pattern_matches(pattern, host) is expected


def test_policy_covers_and_which_pattern() -> None:
    policy = parse_mta_sts_policy(RFC_POLICY)
    assert matching_mx_pattern(policy, "mx1.example.net") == "*.example.net"
    assert policy_covers(policy, "backupmx.example.com.")
    assert not policy_covers(policy, "example.net")
    assert not policy_covers(policy, "mx.example.com")


# --- hypothesis -------------------------------------------------------------------------

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_LABELS = st.builds(
    lambda head, middle, tail: head + middle + tail,
    st.text(_ALNUM, min_size=1, max_size=1),
    st.text(_ALNUM + "-", max_size=8),
    st.text(_ALNUM, max_size=1),
).filter(lambda label: not label.endswith("-"))
_DOMAINS = st.lists(_LABELS, min_size=1, max_size=4).map(".".join)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_txt_text_is_a_record_or_a_syntax_error(text: str) -> None:
    for candidate in (text, "v=STSv1;" + text, "v=STSv1; id=1;" + text):
        try:
            parse_mta_sts_txt(candidate)
        except RecordSyntaxError as exc:
            assert 0 <= exc.position <= len(candidate)


_KEYS = st.sampled_from(["version", "mode", "max_age", "mx", "x", "Mode", "", " mx", "a b"])
_VALUES = st.one_of(
    st.sampled_from(["STSv1", "enforce", "testing", "none", "86400", "*.a.b", "a.b.", "*"]),
    st.text(max_size=12),
)


@settings(max_examples=250, deadline=None)
@given(
    st.lists(st.tuples(_KEYS, st.sampled_from([":", ": ", ":\t", " :", ""]), _VALUES), max_size=10),
    st.sampled_from(["\n", "\r\n"]),
)
def test_any_policy_lines_are_a_policy_or_a_syntax_error(
    lines: list[tuple[str, str, str]], newline: str
) -> None:
    text = newline.join(k + sep + v for k, sep, v in lines)
    try:
        policy = parse_mta_sts_policy(text)
    except RecordSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
    else:
        assert policy.version == "STSv1"
        assert policy.mode is MtaStsMode.NONE or policy.mx


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=400), st.binary(max_size=400)))
def test_any_policy_text_or_bytes_is_a_policy_or_a_syntax_error(body: str | bytes) -> None:
    try:
        parse_mta_sts_policy(body)
    except RecordSyntaxError as exc:
        assert 0 <= exc.position <= len(body)


@settings(max_examples=200, deadline=None)
@given(_LABELS, _LABELS, _DOMAINS)
def test_wildcard_matches_exactly_one_leftmost_label(a: str, b: str, domain: str) -> None:
    pattern = "*." + domain
    assert mx_pattern_matches(pattern, f"{a}.{domain}")
    assert mx_pattern_matches(pattern.upper(), f"{a}.{domain}.")
    assert not mx_pattern_matches(pattern, domain)
    assert not mx_pattern_matches(pattern, f"{a}.{b}.{domain}")
    assert not mx_pattern_matches(pattern, f"{a}{domain}")
    assert not mx_pattern_matches(pattern, f"{a}.{domain}.{b}")


@settings(max_examples=200, deadline=None)
@given(_DOMAINS, _LABELS)
def test_exact_pattern_matches_only_itself(domain: str, extra: str) -> None:
    assert mx_pattern_matches(domain, domain.upper())
    assert not mx_pattern_matches(domain, f"{extra}.{domain}")
    assert not mx_pattern_matches(domain, f"{extra}{domain}")
    assert not mx_pattern_matches(f"{extra}.{domain}", domain)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_matching_never_raises(pattern: str, host: str) -> None:
    assert mx_pattern_matches(pattern, host) in (True, False)
