"""The SPF parser: RFC 7208 grammar, precise error positions, never a crash."""

from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_data import conformance_path, require_conformance

from mailauth_audit.records.errors import RecordSyntaxError
from mailauth_audit.records.spf import (
    _IPV4_DOTTED_QUAD,
    SpfMechanism,
    SpfMechanismKind,
    SpfModifier,
    SpfQualifier,
    _tokens,
    expand_domain_macros,
    is_spf_record,
    parse_spf,
    validate_macro_string,
)

K = SpfMechanismKind
Q = SpfQualifier


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v=spf1", True),
        ("v=spf1 -all", True),
        ("V=SPF1 -all", True),
        ("v=spf1 ", True),
        ("v=spf10 -all", False),
        ("v=spf1\t-all", False),
        (" v=spf1 -all", False),
        ("spf2.0/pra -all", False),
        ("v=DMARC1; p=none", False),
        ("", False),
    ],
)
def test_is_spf_record(text: str, expected: bool) -> None:
    assert is_spf_record(text) is expected


# (record, [(qualifier, kind, domain_spec, cidr4, cidr6, address)]) for mechanisms only
VALID_MECHANISMS = [
    ("v=spf1", []),
    ("v=spf1 ", []),
    ("v=spf1  -all  ", [(Q.FAIL, K.ALL, None, None, None, None)]),
    ("V=SpF1 +ALL", [(Q.PASS, K.ALL, None, None, None, None)]),
    ("v=spf1 all", [(Q.PASS, K.ALL, None, None, None, None)]),
    ("v=spf1 ~all", [(Q.SOFTFAIL, K.ALL, None, None, None, None)]),
    ("v=spf1 ?all", [(Q.NEUTRAL, K.ALL, None, None, None, None)]),
    (
        "v=spf1 include:_spf.google.com -all",
        [(Q.PASS, K.INCLUDE, "_spf.google.com", None, None, None), (Q.FAIL, K.ALL, *[None] * 4)],
    ),
    ("v=spf1 a", [(Q.PASS, K.A, None, None, None, None)]),
    ("v=spf1 a/24", [(Q.PASS, K.A, None, 24, None, None)]),
    ("v=spf1 a//64", [(Q.PASS, K.A, None, None, 64, None)]),
    ("v=spf1 a/24//64", [(Q.PASS, K.A, None, 24, 64, None)]),
    ("v=spf1 a/0//0", [(Q.PASS, K.A, None, 0, 0, None)]),
    ("v=spf1 a/32//128", [(Q.PASS, K.A, None, 32, 128, None)]),
    ("v=spf1 a:mail.example.com", [(Q.PASS, K.A, "mail.example.com", None, None, None)]),
    ("v=spf1 a:mail.example.com.", [(Q.PASS, K.A, "mail.example.com.", None, None, None)]),
    ("v=spf1 -mx:example.org/30", [(Q.FAIL, K.MX, "example.org", 30, None, None)]),
    ("v=spf1 mx:mx.test.org/32//16", [(Q.PASS, K.MX, "mx.test.org", 32, 16, None)]),
    ("v=spf1 mx//32", [(Q.PASS, K.MX, None, None, 32, None)]),
    ("v=spf1 ptr", [(Q.PASS, K.PTR, None, None, None, None)]),
    ("v=spf1 ?ptr:example.com", [(Q.NEUTRAL, K.PTR, "example.com", None, None, None)]),
    ("v=spf1 ip4:192.0.2.1", [(Q.PASS, K.IP4, None, None, None, "192.0.2.1")]),
    ("v=spf1 ip4:192.0.2.0/24", [(Q.PASS, K.IP4, None, 24, None, "192.0.2.0")]),
    ("v=spf1 ip4:0.0.0.0/0", [(Q.PASS, K.IP4, None, 0, None, "0.0.0.0")]),
    ("v=spf1 ip6:2001:db8::/32", [(Q.PASS, K.IP6, None, None, 32, "2001:db8::")]),
    ("v=spf1 ip6:::ffff:10.1.2.3", [(Q.PASS, K.IP6, None, None, None, "::ffff:10.1.2.3")]),
    ("v=spf1 ip6:::1/128", [(Q.PASS, K.IP6, None, None, 128, "::1")]),
    ("v=spf1 exists:%{i}.bl.example", [(Q.PASS, K.EXISTS, "%{i}.bl.example", *[None] * 3)]),
    (
        "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
        [(Q.PASS, K.EXISTS, "%{ir}.%{l1r+-}._spf.%{d}", *[None] * 3), (Q.FAIL, K.ALL, *[None] * 4)],
    ),
    (
        "v=spf1 exists:%{ir}.%{v}._spf.%{d2}",
        [(Q.PASS, K.EXISTS, "%{ir}.%{v}._spf.%{d2}", *[None] * 3)],
    ),
    ("v=spf1 a:%{d}/30", [(Q.PASS, K.A, "%{d}", 30, None, None)]),
    (
        "v=spf1 a:%{S}.%{L}.%{O}.%{P}.%{H}.%{V}",
        [(Q.PASS, K.A, "%{S}.%{L}.%{O}.%{P}.%{H}.%{V}", *[None] * 3)],
    ),
    ("v=spf1 include:%{d}%%", [(Q.PASS, K.INCLUDE, "%{d}%%", *[None] * 3)]),
    ("v=spf1 include:x%_y%-z.%{d}", [(Q.PASS, K.INCLUDE, "x%_y%-z.%{d}", *[None] * 3)]),
    (
        "v=spf1 include:%{l10r.-+,/_=}.example",
        [(Q.PASS, K.INCLUDE, "%{l10r.-+,/_=}.example", *[None] * 3)],
    ),
    ("v=spf1 a:xn--bcher-kva.example", [(Q.PASS, K.A, "xn--bcher-kva.example", *[None] * 3)]),
    ("v=spf1 a:host.1-2", [(Q.PASS, K.A, "host.1-2", *[None] * 3)]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "mechanisms"), VALID_MECHANISMS)
def test_valid_records_parse_into_typed_mechanisms(text: str, mechanisms: list[tuple]) -> None:
    record = parse_spf(text)
    got = [
        (m.qualifier, m.kind, m.domain_spec, m.cidr4, m.cidr6, m.address) for m in record.mechanisms
    ]
    assert got == mechanisms
    for m in record.mechanisms:
        assert text[m.position : m.position + len(m.text)] == m.text


def test_modifiers_are_kept_with_positions() -> None:
    text = "v=spf1 mx Redirect=_spf.example.com exp=explain.%{d} foo=bar x-y.z= moo=%{d}%%"
    record = parse_spf(text)
    assert [(m.name, m.value) for m in record.modifiers] == [
        ("redirect", "_spf.example.com"),
        ("exp", "explain.%{d}"),
        ("foo", "bar"),
        ("x-y.z", ""),
        ("moo", "%{d}%%"),
    ]
    assert record.redirect == SpfModifier(
        "redirect", "_spf.example.com", 10, "Redirect=_spf.example.com"
    )
    assert record.exp is not None and record.exp.has_macros
    assert record.all is None
    assert record.effective_redirect is record.redirect


def test_redirect_is_ineffective_next_to_all_and_terms_after_all_are_not_evaluated() -> None:
    record = parse_spf("v=spf1 a -all mx redirect=x.example")
    assert record.effective_redirect is None
    assert [m.kind for m in record.evaluated_mechanisms] == [K.A, K.ALL]
    assert [m.kind for m in record.mechanisms] == [K.A, K.ALL, K.MX]


def test_lookup_counting_properties() -> None:
    record = parse_spf(
        "v=spf1 include:a.example a mx ptr exists:x.example ip4:192.0.2.1 ip6:::1 -all"
    )
    assert [m.counts_lookup for m in record.mechanisms] == [True] * 5 + [False] * 3
    assert isinstance(record.terms[0], SpfMechanism)


# (record, expected position, fragment of the message)
INVALID = [
    ("", 0, "must start with 'v=spf1'"),
    ("spf1 -all", 0, "must start with 'v=spf1'"),
    ("v=spf1\t-all", 6, "followed by a space"),
    ("v=spf1.0 -all", 6, "followed by a space"),
    ("v=spf1 inclde:_spf.example.com -all", 7, "unknown mechanism 'inclde'"),
    ("v=spf1 -all ip:10.0.0.1", 12, "unknown mechanism 'ip'"),
    ("v=spf1 all/32", 10, "'all' takes no argument"),
    ("v=spf1 +all/32", 11, "'all' takes no argument"),
    ("v=spf1 -", 7, "missing mechanism name"),
    ("v=spf1 :example.com", 7, "missing mechanism name"),
    ("v=spf1 include", 14, "requires ':'"),
    ("v=spf1 include:", 15, "empty domain-spec"),
    ("v=spf1 include:localhost", 15, "not a fully qualified"),
    ("v=spf1 include:_spf.example.com;", 28, "valid top-level label"),
    ("v=spf1 include:spf.example.com, -all", 27, "valid top-level label"),
    ("v=spf1 exists", 13, "requires ':'"),
    ("v=spf1 a:192.0.2.1", 9, "IP address"),
    ("v=spf1 a:192.0.2.0/24", 9, "IP address"),
    ("v=spf1 mx:example..com", 18, "empty label"),
    ("v=spf1 mx:" + "x" * 64 + ".example", 10, "longer than 63"),
    ("v=spf1 a:" + ("abcdefghi." * 26) + "com", 9, "longer than 253"),
    ("v=spf1 a/33", 9, "out of range"),
    ("v=spf1 a//129", 10, "out of range"),
    ("v=spf1 a/024", 9, "leading zeros"),
    ("v=spf1 a/24/64", 8, "invalid prefix length"),
    ("v=spf1 a:example.com/", 17, "valid top-level label"),
    ("v=spf1 mx-all", 7, "unknown mechanism 'mx-all'"),
    ("v=spf1 ptr/24", 10, "unexpected"),
    ("v=spf1 ip4", 10, "requires ':'"),
    ("v=spf1 ip4:", 10, "requires ':'"),
    ("v=spf1 ip4:192.0.2", 11, "invalid IPv4 address"),
    ("v=spf1 ip4:192.0.2.256", 11, "invalid IPv4 address"),
    ("v=spf1 ip4:010.0.0.1", 11, "invalid IPv4 address"),
    ("v=spf1 ip4:2001:db8::1", 11, "use ip6:"),
    ("v=spf1 ip6:192.0.2.1", 11, "use ip4:"),
    ("v=spf1 ip6:fe80::1%eth0", 11, "invalid IPv6 address"),
    ("v=spf1 ip4:192.0.2.0/33", 21, "out of range"),
    ("v=spf1 ip4:192.0.2.0/", 21, "invalid IPv4 prefix length"),
    ("v=spf1 ip4:192.0.2.0//24", 21, "invalid IPv4 prefix length"),
    ("v=spf1 ip6:2001:db8::/129", 22, "out of range"),
    ("v=spf1 redirect=a.example redirect=b.example", 26, "more than once"),
    ("v=spf1 exp=a.example -all exp=b.example", 26, "more than once"),
    ("v=spf1 redirect=", 16, "empty domain-spec"),
    ("v=spf1 -redirect=a.example", 7, "cannot have a qualifier"),
    ("v=spf1 exists:%{x}.example", 16, "unknown macro letter"),
    ("v=spf1 exists:%{c}.example", 14, "only in explanation text"),
    ("v=spf1 exists:%{d0}.example", 17, "nonzero"),
    ("v=spf1 exists:%{dx}.example", 14, "invalid macro"),
    ("v=spf1 exists:%{}.example", 14, "empty macro"),
    ("v=spf1 exists:%{d", 14, "unterminated"),
    ("v=spf1 include:50%.example", 17, "'%' must start a macro"),
    ("v=spf1 foo=%{z}", 13, "unknown macro letter"),
    ("v=spf1 include:a.example\tinclude:b.example", 24, "a tab"),
    ("v=spf1 include:ex\u00e4mple.com", 17, "non-ASCII"),
    ("v=spf1 include:\ufffdbad.example", 15, "not valid UTF-8"),
    ("v=spf1 a:<script>alert(1)</script>", 9, "not a fully qualified"),
    ("v=spf1 a:x.<script>", 11, "valid top-level label"),
]


@pytest.mark.parametrize(("text", "position", "fragment"), INVALID)
def test_invalid_records_raise_with_position(text: str, position: int, fragment: str) -> None:
    with pytest.raises(RecordSyntaxError) as info:
        parse_spf(text)
    assert fragment in info.value.message
    assert info.value.position == position
    assert 0 <= info.value.position <= len(text)


@pytest.mark.parametrize(
    ("text", "explanation", "error_at"),
    [
        ("%{c} is not one of %{d}'s designated mail servers.", True, None),
        ("%{i} via %{r} at %{t}", True, None),
        ("%{w} is an invalid macro %{d", True, 2),
        ("see %{d", True, 4),
        ("%{c}", False, 0),
        ("a b", False, 1),
        ("", False, None),
    ],
)
def test_macro_strings(text: str, explanation: bool, error_at: int | None) -> None:
    if error_at is None:
        validate_macro_string(text, explanation=explanation)
    else:
        with pytest.raises(RecordSyntaxError) as info:
            validate_macro_string(text, explanation=explanation)
        assert info.value.position == error_at


@pytest.mark.parametrize(
    ("spec", "domain", "expanded"),
    [
        ("_spf.%{d}", "example.com", "_spf.example.com"),
        ("%{d2}.x.example", "a.b.example.com", "example.com.x.example"),
        ("%{dr}.x.example", "a.b.c", "c.b.a.x.example"),
        ("%{d1r}.x.example", "a.b.c", "a.x.example"),
        ("%{d-}.x.example", "a-b.example", "a.b.example.x.example"),
        ("%{D}%%.x.example", "e.test", "e.test%.x.example"),
        ("%{d}.", "example.com", "example.com"),
        ("%{ir}.%{d}", "example.com", None),
        ("%{l}.%{d}", "example.com", None),
        ("x." * 120 + "%{d}", "example.com", "x." * 120 + "example.com"),
        (  # 261 characters: cut from the left to fit 253 (§7.3)
            "a" * 60 + "." + "b" * 60 + ".%{d}.%{d}",
            "c" * 60 + ".example",
            "b" * 60 + "." + "c" * 60 + ".example." + "c" * 60 + ".example",
        ),
    ],
)
def test_expand_domain_macros(spec: str, domain: str, expanded: str | None) -> None:
    assert expand_domain_macros(spec, domain) == expanded


# --- property tests ------------------------------------------------------------------------

_TOKENS = st.sampled_from(
    [
        "all", "-all", "~all", "?all", "+all", "include:", "a", "mx", "ptr", "ip4:", "ip6:",
        "exists:", "redirect=", "exp=", "foo=", ":", "/", "//", "%", "%{", "}", "%{d}", "%{ir}",
        ".", "..", "example.com", "192.0.2.1", "::1", "24", "128", "999", " ", "  ", "\t",
        "=", "\ufffd", "é", "<script>", '"',
    ]
)  # fmt: skip


def _parse_or_error(text: str) -> None:
    try:
        record = parse_spf(text)
    except RecordSyntaxError as exc:
        assert isinstance(exc.message, str) and exc.message
        assert 0 <= exc.position <= len(text)
    else:
        assert record.text == text
        for term in record.terms:
            assert text[term.position : term.position + len(term.text)] == term.text


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_any_text_gives_a_record_or_a_syntax_error(text: str) -> None:
    _parse_or_error(text)
    _parse_or_error("v=spf1 " + text)


@settings(max_examples=600, deadline=None)
@given(st.lists(_TOKENS, max_size=12))
def test_spf_shaped_text_gives_a_record_or_a_syntax_error(parts: list[str]) -> None:
    _parse_or_error("v=spf1 " + "".join(parts))


# --- the mail-auth conformance data ----------------------------------------------------------

SUITE = conformance_path("mail-auth", "resources", "spf")
_LINE = re.compile(r"^\s*-?\s*(spf|exp):\s*(\S+)\s+(.*?)\s*$")

# Records of the suite that must not parse, with the position of the error.
EXPECTED_SYNTAX_ERRORS = {
    "v=spf1 all/32": 10,
    "v=spf1 +all/32": 11,
    # The suite expects `fail` here (terms after `all` ignored); RFC 7208 §4.6 and §12 make
    # any syntax error, wherever it is, a permerror, and `ip:` is not a mechanism.
    "v=spf1 -all ip:10.0.0.1": 12,
}
EXPECTED_EXPLANATION_ERRORS = {"%{w} is an invalid macro %{d"}


def _suite_lines() -> list[tuple[str, str, str, str]]:
    require_conformance("mail-auth", "resources", "spf")
    out = []
    for path in sorted(SUITE.glob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            m = _LINE.match(line)
            if m:
                out.append((path.name, m.group(1), m.group(2), m.group(3)))
    return out


def test_conformance_suite_records_parse_or_fail_as_the_rfc_says() -> None:
    lines = _suite_lines()
    spf = [(f, owner, v) for f, kind, owner, v in lines if kind == "spf" and is_spf_record(v)]
    assert len(spf) > 80, "the suite's layout changed: re-check the line pattern"
    failed: dict[str, int] = {}
    for _file, _owner, value in spf:
        try:
            parse_spf(value)
        except RecordSyntaxError as exc:
            failed[value] = exc.position
    assert failed == EXPECTED_SYNTAX_ERRORS


def test_conformance_suite_explanations() -> None:
    exps = [v for _f, kind, _o, v in _suite_lines() if kind == "exp"]
    assert exps
    bad = set()
    for text in exps:
        try:
            validate_macro_string(text, explanation=True)
        except RecordSyntaxError:
            bad.add(text)
    assert bad == EXPECTED_EXPLANATION_ERRORS


def test_conformance_non_spf_txt_is_not_an_spf_record() -> None:
    values = [v for _f, kind, _o, v in _suite_lines() if kind == "spf"]
    assert "v=something-else not=spf for=sure" in values
    assert not is_spf_record("v=something-else not=spf for=sure")


@given(st.text(alphabet=" a:\t\n\u00a0\u2028é", max_size=40), st.integers(0, 8))
def test_terms_are_split_on_spaces_only(text: str, start: int) -> None:
    """Terms are runs of anything but a space (a tab or a newline is part of a term)."""
    expected: list[tuple[int, str]] = []
    pos = start
    for piece in text[start:].split(" "):
        if piece:
            expected.append((pos, piece))
        pos += len(piece) + 1
    assert _tokens(text, start) == expected


def _ipv4_accepts(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


_OCTETS = st.one_of(
    st.integers(0, 300).map(str), st.sampled_from(["", "00", "01", "007", "\u0663", "1 ", "x"])
)


@given(st.lists(_OCTETS, min_size=1, max_size=5).map(".".join))
def test_the_ip4_shortcut_accepts_exactly_what_ipaddress_accepts(text: str) -> None:
    """ip4 terms skip ipaddress when the pattern matches: it must match valid ones only."""
    assert (_IPV4_DOTTED_QUAD.fullmatch(text) is not None) == _ipv4_accepts(text)


def test_the_ip4_shortcut_on_edge_cases() -> None:
    for text in ["0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3.4\n", "01.2.3.4", "1.2.3"]:
        assert (_IPV4_DOTTED_QUAD.fullmatch(text) is not None) == _ipv4_accepts(text), text
