"""SPF check on zone text: the tree, exact RFC 7208 §4.6.4 counts, and the findings."""

from __future__ import annotations

import asyncio
import dataclasses
import re

import dns.message
import dns.name
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_data import conformance_path, require_conformance

from mailauth_audit.checks.base import CheckContext, EvaluationContext, RunMemo
from mailauth_audit.checks.spf import (
    SpfCheck,
    SpfNode,
    SpfNodeKind,
    SpfNodeStatus,
    SpfResult,
    estimate_txt_answer_size,
    zone_txt_line,
)
from mailauth_audit.errors import DnsTimeout
from mailauth_audit.model import CheckId, Finding, Severity
from mailauth_audit.options import AuditOptions, Limits
from mailauth_audit.records.spf import parse_spf
from mailauth_audit.resolver.base import Answer, Rcode, RRType, TxtRecord
from mailauth_audit.resolver.static import StaticResolver

ZONE = r"""
$TTL 300
; --- a provider nested three deep, and a domain that uses it with every lookup kind -------
_spf.prov.test.        IN TXT "v=spf1 include:_l2.prov.test ip4:203.0.113.0/24 ~all"
_l2.prov.test.         IN TXT "v=spf1 include:_l3.prov.test a:gw.prov.test ~all"
_l3.prov.test.         IN TXT "v=spf1 ip4:198.51.100.0/24 mx:prov.test ~all"
gw.prov.test.          IN A   198.51.100.1
prov.test.             IN MX  10 mx.prov.test.
mx.prov.test.          IN A   198.51.100.2

ten.test.              IN TXT ( "v=spf1 mx a include:_spf.prov.test exists:check.ten.test "
                                "ip4:192.0.2.0/24 redirect=_r.ten.test" )
ten.test.              IN MX  10 mx1.ten.test.
ten.test.              IN MX  20 mx2.ten.test.
ten.test.              IN A   192.0.2.1
check.ten.test.        IN A   127.0.0.2
_r.ten.test.           IN TXT "v=spf1 ptr ip6:2001:db8::/32 -all"
mx1.ten.test.          IN A   192.0.2.25
mx2.ten.test.          IN A   192.0.2.26

eleven.test.           IN TXT ( "v=spf1 mx a include:_spf.prov.test exists:check.ten.test "
                                "a:mx1.ten.test redirect=_r.ten.test" )
eleven.test.           IN MX  10 mx1.ten.test.
eleven.test.           IN A   192.0.2.1

good.test.             IN TXT "v=spf1 include:_spf.prov.test -all"
good.test.             IN TXT "google-site-verification=abc"
good2.test.            IN TXT "v=spf1 include:_spf.prov.test ip4:192.0.2.7 -all"

; --- loops ----------------------------------------------------------------------------------
a.loop.test.           IN TXT "v=spf1 include:b.loop.test -all"
b.loop.test.           IN TXT "v=spf1 include:a.loop.test -all"
self.loop.test.        IN TXT "v=spf1 redirect=self.loop.test"

; --- void lookups ---------------------------------------------------------------------------
void1.test.            IN TXT "v=spf1 a:gone.void1.test ip4:192.0.2.1 -all"
void3.test.            IN TXT ( "v=spf1 a:gone1.void3.test exists:gone2.void3.test "
                                "mx:nomx.void3.test -all" )
nomx.void3.test.       IN A   192.0.2.9
v6only.test.           IN TXT "v=spf1 a:host.v6only.test -all"
host.v6only.test.      IN AAAA 2001:db8::25

; --- broken include targets -----------------------------------------------------------------
inc.test.              IN TXT ( "v=spf1 include:nx.inc.test include:notxt.inc.test "
                                "include:nospf.inc.test include:multi.inc.test "
                                "include:bad.inc.test -all" )
notxt.inc.test.        IN A   192.0.2.1
nospf.inc.test.        IN TXT "some-verification=1"
multi.inc.test.        IN TXT "v=spf1 -all"
multi.inc.test.        IN TXT "v=spf1 ~all"
bad.inc.test.          IN TXT "v=spf1 inclde:x.test -all"
redirnx.test.          IN TXT "v=spf1 redirect=nothere.redirnx.test"

; --- the record's own shape -----------------------------------------------------------------
multiple.test.         IN TXT "v=spf1 mx -all"
multiple.test.         IN TXT "v=spf1 include:_spf.prov.test ~all"
plusall.test.          IN TXT "v=spf1 ip4:192.0.2.0/24 +all"
bareall.test.          IN TXT "v=spf1 ip4:192.0.2.0/24 all"
neutral.test.          IN TXT "v=spf1 ip4:192.0.2.0/24 ?all"
softfail.test.         IN TXT "v=spf1 ip4:192.0.2.0/24 ~all"
noall.test.            IN TXT "v=spf1 ip4:192.0.2.0/24"
redironly.test.        IN TXT "v=spf1 redirect=_spf.prov.test"
redirplus.test.        IN TXT "v=spf1 ip4:192.0.2.1 redirect=plusall.test"
incplus.test.          IN TXT "v=spf1 include:plusall.test -all"
minusincplus.test.     IN TXT "v=spf1 -include:plusall.test ip4:192.0.2.1 -all"
ptr.test.              IN TXT "v=spf1 ptr ip4:192.0.2.1 -all"
afterall.test.         IN TXT "v=spf1 ip4:192.0.2.1 -all mx include:_spf.prov.test"
redirall.test.         IN TXT "v=spf1 -all redirect=_spf.prov.test"
asmod.test.            IN TXT "v=spf1 include=_spf.prov.test ip4:192.0.2.1 -all"
macro.test.            IN TXT ( "v=spf1 exists:%{i}._spf.macro.test include:%{d}.x.macro.test "
                                "redirect=%{d}.r.macro.test" )
macro.test.x.macro.test. IN TXT "v=spf1 ip4:192.0.2.1 -all"
macro.test.r.macro.test. IN TXT "v=spf1 -all"
emptylabel.test.       IN TXT "v=spf1 include:%{d}..x.test -all"
typo.test.             IN TXT "v=spf1 inclde:_spf.prov.test -all"
mxmany.test.           IN TXT "v=spf1 mx -all"
looksalike.test.       IN TXT "v=spf1\tmx -all"
looksalike2.test.      IN TXT " v=spf1 -all"
none.test.             IN A   192.0.2.1
senderid.test.         IN TXT "spf2.0/pra ip4:192.0.2.1 ?all"
glued.test.            IN TXT "v=spf1 ip4:192.0.2.1 include:_spf.prov.test" "-all"
midsplit.test.         IN TXT "v=spf1 include:_spf.pro" "v.test -all"

; --- hostile --------------------------------------------------------------------------------
script.test.           IN TXT "v=spf1 include:<script>alert(1)</script> -all"
quotes.test.           IN TXT "v=spf1 include:\"evil\".example -all"
binary.test.           IN TXT "v=spf1 ip4:192.0.2.1 \255\254 -all"
"""

_MX_MANY = "\n".join(f"mxmany.test. IN MX {i} mx{i}.mxmany.test." for i in range(11))
_BIG = "v=spf1 " + "ip4:192.0.2.1 " * 290 + "-all"
_GARBAGE = "v=spf1 " + "x" * 4000
ZONE += _MX_MANY + "\n" + zone_txt_line("big.test", _BIG) + "\n"
ZONE += zone_txt_line("garbage.test", _GARBAGE) + "\n"


class CountingResolver(StaticResolver):
    """Records every question, so tests can assert what was (not) asked."""

    def __init__(self, zone: str, **kwargs: object) -> None:
        super().__init__(zone, **kwargs)  # type: ignore[arg-type]
        self.asked: list[tuple[str, RRType]] = []

    async def resolve(self, name: str, rdtype: RRType) -> Answer:
        self.asked.append((name.lower(), rdtype))
        return await super().resolve(name, rdtype)


def run(
    domain: str,
    zone: str = ZONE,
    *,
    resolver: StaticResolver | None = None,
    memo: RunMemo | None = None,
    options: AuditOptions | None = None,
) -> tuple[SpfResult, list[Finding]]:
    check = SpfCheck()
    ctx = CheckContext(
        domain=domain,
        resolver=resolver or StaticResolver(zone),
        options=options or AuditOptions(),
        memo=memo or RunMemo(),
    )
    facts = asyncio.run(check.collect(ctx))
    return facts, check.evaluate(facts, EvaluationContext(domain=domain))


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


def by_code(findings: list[Finding], code: str) -> Finding:
    matches = [f for f in findings if f.code == code]
    assert len(matches) == 1, (code, codes(findings))
    return matches[0]


def shape(node: SpfNode) -> tuple:
    """(kind, domain, status, total_lookups, children...) for exact tree assertions."""
    return (
        node.kind.value,
        node.domain,
        node.status.value,
        node.total_lookups,
        *(shape(c) for c in node.children),
    )


def test_check_identity() -> None:
    assert SpfCheck.id is CheckId.SPF
    assert SpfCheck.result_type is SpfResult
    assert SpfCheck.standard == "RFC 7208"


# --- counting ------------------------------------------------------------------------------


def test_nested_tree_counts_every_lookup_kind_exactly() -> None:
    # Given ten.test: mx, a, an include three deep (with a: and mx: inside), exists, ip4 and a
    # redirect to a record with ptr. When collected, then each of those costs one lookup
    # (ip4/ip6/all cost none): 10 in all, which is still within the limit. A bare `ptr` in
    # the redirect target names the target itself (§6.1: <domain> becomes the target).
    facts, findings = run("ten.test")
    assert facts.dns_lookups == 10
    assert facts.void_lookups == 0
    assert facts.complete
    assert facts.tree is not None
    assert shape(facts.tree) == (
        "root", "ten.test", "ok", 10,
        ("mx", "ten.test", "ok", 1),
        ("a", "ten.test", "ok", 1),
        ("include", "_spf.prov.test", "ok", 5,
            ("include", "_l2.prov.test", "ok", 4,
                ("include", "_l3.prov.test", "ok", 2, ("mx", "prov.test", "ok", 1)),
                ("a", "gw.prov.test", "ok", 1))),
        ("exists", "check.ten.test", "ok", 1),
        ("redirect", "_r.ten.test", "ok", 2, ("ptr", "_r.ten.test", "not_queried", 1)),
    )  # fmt: skip
    assert facts.tree.lookups == 5
    assert facts.tree.children[0].mx_names == 2
    assert facts.tree.children[2].record == ("v=spf1 include:_l2.prov.test ip4:203.0.113.0/24 ~all")
    assert "spf.lookup_limit_exceeded" not in codes(findings)
    assert "spf.ptr_deprecated" in codes(findings)  # the ptr in the redirect target


def test_eleven_lookups_exceed_the_limit_and_name_the_heaviest_terms() -> None:
    facts, findings = run("eleven.test")
    assert facts.dns_lookups == 11
    f = by_code(findings, "spf.lookup_limit_exceeded")
    assert f.severity is Severity.HIGH
    assert "11" in f.detail
    assert f.remediation.index("include:_spf.prov.test") < f.remediation.index("redirect=")
    assert "v=spf1 include:_l2.prov.test ip4:203.0.113.0/24 ~all" in f.evidence


def test_counting_keeps_going_past_the_limit() -> None:
    includes = " ".join(f"include:p{i}.many.test" for i in range(15))
    zone = (
        zone_txt_line("many.test", f"v=spf1 {includes} -all")
        + "\n"
        + "\n".join(
            f'p{i}.many.test. IN TXT "v=spf1 a mx ~all"\np{i}.many.test. IN A 192.0.2.{i}\n'
            f"p{i}.many.test. IN MX 10 p{i}.many.test."
            for i in range(15)
        )
    )
    facts, findings = run("many.test", zone)
    assert facts.dns_lookups == 45
    assert "35 more" in by_code(findings, "spf.lookup_limit_exceeded").detail


def test_include_loop_is_a_marked_node_not_infinite_recursion() -> None:
    facts, findings = run("a.loop.test")
    assert facts.tree is not None
    assert shape(facts.tree) == (
        "root", "a.loop.test", "ok", 2,
        ("include", "b.loop.test", "ok", 2, ("include", "a.loop.test", "loop", 1)),
    )  # fmt: skip
    loop = by_code(findings, "spf.include_loop")
    assert "a.loop.test → b.loop.test → a.loop.test" in loop.detail
    assert "b.loop.test" in loop.remediation


def test_redirect_to_itself_is_a_loop() -> None:
    facts, findings = run("self.loop.test")
    assert facts.tree is not None and facts.tree.children[0].status is SpfNodeStatus.LOOP
    assert facts.dns_lookups == 1
    assert "spf.include_loop" in codes(findings)
    assert "spf.no_all" not in codes(findings)  # a redirect stands in for `all`


def test_one_void_lookup_is_low_and_three_exceed_the_limit() -> None:
    facts, findings = run("void1.test")
    assert facts.void_lookups == 1
    assert facts.tree is not None and facts.tree.children[0].nxdomain
    assert "spf.void_lookup" in codes(findings)
    assert "spf.void_lookup_limit_exceeded" not in codes(findings)

    facts, findings = run("void3.test")
    assert facts.void_lookups == 3
    assert facts.tree is not None
    assert [c.status for c in facts.tree.children] == [SpfNodeStatus.VOID] * 3
    assert facts.tree.children[2].mx_names == 0 and not facts.tree.children[2].nxdomain
    f = by_code(findings, "spf.void_lookup_limit_exceeded")
    assert "a:gone1.void3.test" in f.detail and "mx:nomx.void3.test" in f.detail


def test_an_ipv6_only_host_is_not_a_void_lookup() -> None:
    facts, _ = run("v6only.test")
    assert facts.void_lookups == 0


def test_mx_with_more_than_ten_names() -> None:
    facts, findings = run("mxmany.test")
    assert facts.tree is not None and facts.tree.children[0].mx_names == 11
    f = by_code(findings, "spf.mx_too_many_names")
    assert f.severity is Severity.HIGH and "11" in f.detail


def test_message_macros_are_counted_but_not_queried_and_d_is_expanded() -> None:
    # Given exists:%{i}… (needs the client IP) and include/redirect with %{d} (the domain
    # being evaluated, which the audit knows). Then %{i} is counted, marked and not asked;
    # %{d} is expanded and followed like any name.
    resolver = CountingResolver(ZONE)
    facts, findings = run("macro.test", resolver=resolver)
    assert facts.dns_lookups == 3
    assert facts.tree is not None
    assert [(c.status, c.domain) for c in facts.tree.children] == [
        (SpfNodeStatus.MACRO, "%{i}._spf.macro.test"),
        (SpfNodeStatus.OK, "macro.test.x.macro.test"),
        (SpfNodeStatus.OK, "macro.test.r.macro.test"),
    ]
    assert {name for name, _ in resolver.asked} == {
        "macro.test",
        "macro.test.x.macro.test",
        "macro.test.r.macro.test",
    }
    f = by_code(findings, "spf.macro_unresolved")
    assert "exists:%{i}" in f.detail and "%{d}" not in f.detail
    assert "spf.no_all" not in codes(findings)


def test_a_macro_that_expands_to_an_impossible_name_is_not_asked() -> None:
    resolver = CountingResolver(ZONE)
    facts, _ = run("emptylabel.test", resolver=resolver)
    assert facts.tree is not None and facts.tree.children[0].status is SpfNodeStatus.MACRO
    assert facts.dns_lookups == 1
    assert resolver.asked == [("emptylabel.test", RRType.TXT)]


def test_terms_after_all_and_redirect_next_to_all_are_not_counted() -> None:
    facts, findings = run("afterall.test")
    assert facts.dns_lookups == 0
    f = by_code(findings, "spf.terms_after_all")
    assert "`mx`" in f.detail
    assert '"v=spf1 ip4:192.0.2.1 mx include:_spf.prov.test -all"' in f.remediation

    facts, findings = run("redirall.test")
    assert facts.dns_lookups == 0
    assert "spf.redirect_ignored" in codes(findings)


# --- the record's own shape ------------------------------------------------------------------


def test_missing_record_proposes_a_starting_record() -> None:
    facts, findings = run("none.test")
    assert facts.record is None and facts.records_found == () and facts.tree is None
    f = by_code(findings, "spf.missing")
    assert f.severity is Severity.HIGH
    assert 'none.test. 3600 IN TXT "v=spf1 mx -all"' in f.remediation
    assert 'none.test. 3600 IN TXT "v=spf1 -all"' in f.remediation


def test_nxdomain_is_missing_too() -> None:
    facts, findings = run("nowhere.test")
    assert codes(findings) == {"spf.missing"}
    assert facts.txt_records == 0 and facts.txt_answer_bytes == 0


def test_records_that_look_like_spf_but_are_ignored() -> None:
    for domain in ("looksalike.test", "looksalike2.test"):
        facts, findings = run(domain)
        assert facts.records_found == () and len(facts.ignored_records) == 1
        assert {"spf.missing", "spf.version_malformed"} <= codes(findings)
        assert by_code(findings, "spf.version_malformed").severity is Severity.HIGH


def test_sender_id_records_are_not_mistaken_for_spf() -> None:
    facts, findings = run("senderid.test")
    assert facts.ignored_records == ()
    assert codes(findings) == {"spf.missing"}


def test_strings_joined_without_a_space() -> None:
    # Given a record published as two strings, the second starting a new term with no space
    # before it. Receivers join them as-is (§3.3): `include:_spf.prov.test-all`.
    facts, findings = run("glued.test")
    assert facts.record == "v=spf1 ip4:192.0.2.1 include:_spf.prov.test-all"
    assert facts.record_strings == ("v=spf1 ip4:192.0.2.1 include:_spf.prov.test", "-all")
    f = by_code(findings, "spf.strings_joined_without_space")
    assert "position 43" in f.detail
    assert '"v=spf1 ip4:192.0.2.1 include:_spf.prov.test -all"' in f.remediation
    assert "spf.include_missing_record" in codes(findings)  # what the glue broke


def test_a_split_inside_a_term_is_fine() -> None:
    facts, findings = run("midsplit.test")
    assert facts.record == "v=spf1 include:_spf.prov.test -all"
    assert findings == []


def test_multiple_records_are_merged_in_the_remediation() -> None:
    facts, findings = run("multiple.test")
    assert facts.record is None and len(facts.records_found) == 2 and facts.tree is None
    f = by_code(findings, "spf.multiple_records")
    assert f.severity is Severity.HIGH
    assert set(f.evidence) == set(facts.records_found)
    assert '"v=spf1 mx include:_spf.prov.test -all"' in f.remediation


@pytest.mark.parametrize(
    ("domain", "code", "severity", "proposed"),
    [
        ("plusall.test", "spf.plus_all", Severity.CRITICAL, "v=spf1 ip4:192.0.2.0/24 -all"),
        ("bareall.test", "spf.plus_all", Severity.CRITICAL, "v=spf1 ip4:192.0.2.0/24 -all"),
        ("neutral.test", "spf.neutral_all", Severity.MEDIUM, "v=spf1 ip4:192.0.2.0/24 -all"),
        ("softfail.test", "spf.softfail_all", Severity.INFO, "v=spf1 ip4:192.0.2.0/24 -all"),
        ("noall.test", "spf.no_all", Severity.MEDIUM, "v=spf1 ip4:192.0.2.0/24 -all"),
    ],
)
def test_all_qualifiers(domain: str, code: str, severity: Severity, proposed: str) -> None:
    _, findings = run(domain)
    f = by_code(findings, code)
    assert f.severity is severity
    assert f'{domain}. 3600 IN TXT "{proposed}"' in f.remediation


def test_good_records_have_no_findings() -> None:
    for domain in ("good.test", "good2.test"):
        facts, findings = run(domain)
        assert findings == [], domain
        assert facts.dns_lookups == 5


def test_redirect_only_record_is_judged_by_its_target() -> None:
    facts, findings = run("redironly.test")
    assert facts.dns_lookups == 5
    # the target ends in ~all: softfail info, and no `no_all`
    assert codes(findings) == {"spf.softfail_all"}
    assert "_spf.prov.test" in by_code(findings, "spf.softfail_all").detail


def test_plus_all_reached_by_redirect() -> None:
    _, findings = run("redirplus.test")
    f = by_code(findings, "spf.plus_all")
    assert "plusall.test" in f.detail and "plusall.test" in f.remediation


def test_plus_all_in_an_included_record_passes_everything() -> None:
    _, findings = run("incplus.test")
    f = by_code(findings, "spf.plus_all")
    assert f.severity is Severity.CRITICAL
    assert 'incplus.test. 3600 IN TXT "v=spf1 -all"' in f.remediation
    _, findings = run("minusincplus.test")
    assert "spf.plus_all" not in codes(findings)


def test_ptr_is_deprecated() -> None:
    _, findings = run("ptr.test")
    f = by_code(findings, "spf.ptr_deprecated")
    assert f.severity is Severity.LOW
    assert 'ptr.test. 3600 IN TXT "v=spf1 ip4:192.0.2.1 -all"' in f.remediation


def test_mechanism_written_as_modifier() -> None:
    facts, findings = run("asmod.test")
    assert facts.dns_lookups == 0  # an unknown modifier costs nothing: the include is lost
    f = by_code(findings, "spf.mechanism_as_modifier")
    assert '"v=spf1 include:_spf.prov.test ip4:192.0.2.1 -all"' in f.remediation


def test_syntax_error_with_position_and_a_corrected_record() -> None:
    facts, findings = run("typo.test")
    assert facts.syntax_error == "unknown mechanism 'inclde'"
    assert facts.syntax_error_position == 7
    assert facts.dns_lookups == 0
    assert facts.tree is not None and facts.tree.status is SpfNodeStatus.SYNTAX_ERROR
    f = by_code(findings, "spf.syntax_error")
    assert f.severity is Severity.HIGH
    assert "position 7" in f.detail
    assert f.evidence == ("v=spf1 inclde:_spf.prov.test -all",)
    assert 'typo.test. 3600 IN TXT "v=spf1 include:_spf.prov.test -all"' in f.remediation


# --- include and redirect targets ----------------------------------------------------------


def test_broken_include_targets_each_get_a_finding() -> None:
    facts, findings = run("inc.test")
    assert facts.tree is not None
    statuses = [(c.domain, c.status.value, c.void, c.nxdomain) for c in facts.tree.children]
    assert statuses == [
        ("nx.inc.test", "no_record", True, True),
        ("notxt.inc.test", "no_record", True, False),
        ("nospf.inc.test", "no_record", False, False),
        ("multi.inc.test", "multiple_records", False, False),
        ("bad.inc.test", "syntax_error", False, False),
    ]
    assert facts.void_lookups == 2
    assert facts.dns_lookups == 5
    missing = [f for f in findings if f.code == "spf.include_missing_record"]
    assert len(missing) == 3
    assert {"spf.include_multiple_records", "spf.include_syntax_error"} <= codes(findings)
    bad = by_code(findings, "spf.include_syntax_error")
    assert "position 7" in bad.detail and "v=spf1 inclde:x.test -all" in bad.evidence


def test_redirect_to_a_missing_record() -> None:
    _, findings = run("redirnx.test")
    f = by_code(findings, "spf.include_missing_record")
    assert "redirect=nothere.redirnx.test" in f.detail


# --- hostile records -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "code", "position"),
    [
        ("script.test", "spf.syntax_error", 15),
        ("binary.test", "spf.syntax_error", 21),
        ("garbage.test", "spf.syntax_error", 7),
        ("quotes.test", "spf.include_missing_record", None),
    ],
)
def test_hostile_records_give_precise_findings(
    domain: str, code: str, position: int | None
) -> None:
    facts, findings = run(domain)
    f = by_code(findings, code)
    assert f.severity is Severity.HIGH
    assert facts.syntax_error_position == position
    if position is not None:
        assert f"position {position}" in f.detail
        assert len(f.detail) < 400  # a 4 KB record is quoted, not pasted


def test_non_utf8_bytes_are_reported_as_such() -> None:
    facts, _ = run("binary.test")
    assert facts.syntax_error is not None and "UTF-8" in facts.syntax_error


def test_big_record_answer_size_and_strings() -> None:
    facts, findings = run("big.test")
    assert facts.record == _BIG
    assert len(facts.record_strings) == len(_BIG) // 255 + 1
    assert max(len(s) for s in facts.record_strings) == 255
    assert facts.longest_txt_string == 255
    assert facts.txt_answer_bytes > 4000
    assert codes(findings) == {"spf.answer_too_large"}


def test_answer_size_estimate_matches_the_wire() -> None:
    texts = [[b"v=spf1 include:_spf.prov.test -all"], [b"a" * 255, b"b" * 100], [b""]]
    name = "some.domain.test"
    q = dns.message.make_query(name, "TXT")
    r = dns.message.make_response(q)
    rrset = dns.rrset.from_text_list(
        dns.name.from_text(name), 300, "IN", "TXT",
        [" ".join('"' + s.decode() + '"' for s in t) for t in texts],
    )  # fmt: skip
    r.answer.append(rrset)
    records = [TxtRecord(tuple(t)) for t in texts]
    assert estimate_txt_answer_size(name, records) == len(r.to_wire())


def test_string_longer_than_255_bytes_from_saved_facts() -> None:
    # Zone text cannot hold such a string; saved facts (or another resolver) can.
    facts, _ = run("good.test")
    bad = dataclasses.replace(facts, longest_txt_string=300)
    findings = SpfCheck().evaluate(bad, EvaluationContext(domain="good.test"))
    f = by_code(findings, "spf.string_too_long")
    assert "300" in f.detail
    assert 'good.test. 3600 IN TXT "v=spf1 include:_spf.prov.test -all"' in f.remediation


# --- sharing, limits and errors ------------------------------------------------------------


def test_shared_include_is_fetched_once_per_run() -> None:
    resolver = CountingResolver(ZONE)
    memo = RunMemo()
    for domain in ("good.test", "good2.test", "ten.test"):
        run(domain, resolver=resolver, memo=memo)
    asked = [q for q in resolver.asked if q == ("_spf.prov.test", RRType.TXT)]
    assert len(asked) == 1
    assert len(resolver.asked) == len(set(resolver.asked))


def test_loop_detection_still_works_with_a_shared_memo() -> None:
    memo = RunMemo()
    resolver = StaticResolver(ZONE)
    run("b.loop.test", resolver=resolver, memo=memo)
    facts, findings = run("a.loop.test", resolver=resolver, memo=memo)
    assert facts.dns_lookups == 2 and "spf.include_loop" in codes(findings)


@pytest.mark.parametrize(
    ("limits", "lookups"),
    [(Limits(max_spf_depth=1), 7), (Limits(max_spf_nodes=2), 6)],
)
def test_caps_truncate_the_tree_and_say_so(limits: Limits, lookups: int) -> None:
    facts, findings = run("ten.test", options=AuditOptions(limits=limits))
    assert not facts.complete
    assert facts.dns_lookups == lookups  # a lower bound now
    assert facts.tree is not None
    assert any(n.status is SpfNodeStatus.TRUNCATED for n in facts.tree.walk())
    assert "spf.tree_truncated" in codes(findings)


def test_resolver_errors_propagate() -> None:
    resolver = StaticResolver(ZONE, faults={"_l3.prov.test": DnsTimeout})
    with pytest.raises(DnsTimeout):
        run("good.test", resolver=resolver)


def test_result_fits_the_json_schema_generator() -> None:
    from mailauth_audit.report.schema import SchemaBuilder

    b = SchemaBuilder()
    b.dataclass_ref(SpfResult)
    assert "SpfNode" in b.defs
    assert b.defs["SpfNode"]["properties"]["kind"]["enum"] == [k.value for k in SpfNodeKind]


# --- every record we propose is itself sound -------------------------------------------------

_TXT_LINE = re.compile(r'([A-Za-z0-9_.-]+)\. 3600 IN TXT ((?:"(?:[^"\\]|\\.)*"(?: |(?=`)))+)')


def _proposals(findings: list[Finding]) -> list[tuple[str, str]]:
    out = []
    for f in findings:
        for owner, quoted in _TXT_LINE.findall(f.remediation):
            strings = re.findall(r'"((?:[^"\\]|\\.)*)"', quoted)
            out.append((owner, "".join(re.sub(r"\\(.)", r"\1", s) for s in strings)))
    return out


PROPOSING = [
    "none.test", "multiple.test", "plusall.test", "bareall.test", "neutral.test",
    "softfail.test", "noall.test", "incplus.test", "ptr.test", "afterall.test", "asmod.test",
    "typo.test", "glued.test",
]  # fmt: skip


@pytest.mark.parametrize("domain", PROPOSING)
def test_proposed_records_parse_and_raise_no_high_finding(domain: str) -> None:
    _, findings = run(domain)
    proposals = _proposals(findings)
    assert proposals, f"no record proposed for {domain}"
    for owner, text in proposals:
        assert owner == domain
        parse_spf(text)
        kept = [
            line
            for line in ZONE.splitlines()
            if not (line.startswith(f"{owner}. ") and "v=spf1" in line)
        ]
        zone = "\n".join([*kept, zone_txt_line(owner, text)])
        facts, again = run(owner, zone)
        assert facts.records_found == (text,)
        worst = [f.code for f in again if f.severity.rank >= Severity.HIGH.rank]
        assert worst == [], (owner, text, worst)


# --- the mail-auth conformance data: counting and permerror ---------------------------------

SUITE = conformance_path("mail-auth", "resources", "spf")
_ENTRY = re.compile(r"^\s*(spf|exp|a|aaaa|mx|ptr):\s*(\S+)\s+(.*?)\s*$")
PERMERROR_CODES = {
    "spf.syntax_error",
    "spf.multiple_records",
    "spf.lookup_limit_exceeded",
    "spf.include_loop",
    "spf.include_missing_record",
    "spf.include_multiple_records",
    "spf.include_syntax_error",
    "spf.mx_too_many_names",
}


def _suite_docs() -> list[dict]:
    require_conformance("mail-auth", "resources", "spf")
    docs = []
    for path in sorted(SUITE.glob("*.yml")):
        for chunk in re.split(r"^---\s*$", path.read_text(encoding="utf-8"), flags=re.M):
            entries, tests, current = [], [], None
            section = None
            for line in chunk.splitlines():
                if line.startswith("records:"):
                    section = "records"
                elif line.startswith("tests:"):
                    section = "tests"
                m = _ENTRY.match(line)
                if m and section == "records":
                    entries.append(m.groups())
                elif section == "tests" and line.lstrip().startswith("- "):
                    current = {}
                    tests.append(current)
                if section == "tests" and current is not None:
                    key, _, value = line.lstrip(" -").partition(":")
                    if key in ("domain", "expect") and key not in current:
                        current[key] = value.strip()
            docs.append({"file": path.name, "records": entries, "tests": tests})
    return docs


def _suite_zone(entries: list[tuple[str, str, str]]) -> str:
    lines = []
    for kind, owner, value in entries:
        try:
            dns.name.from_text(owner)
        except dns.exception.DNSException:
            continue  # the suite's deliberately malformed names
        if kind in ("spf", "exp"):
            lines.append(zone_txt_line(owner, value))
        elif kind in ("a", "aaaa"):
            for addr in value.split(","):
                lines.append(f"{owner}. 300 IN {kind.upper()} {addr.strip()}")
        elif kind == "mx":
            for i, addr in enumerate(value.split(",")):
                rtype = "AAAA" if ":" in addr else "A"
                lines.append(f"{owner}. 300 IN MX {i} mx{i}.{owner}.")
                lines.append(f"mx{i}.{owner}. 300 IN {rtype} {addr.strip()}")
    return "\n".join(lines) + "\n"


def test_conformance_lookup_limits_are_counted_exactly() -> None:
    doc = next(d for d in _suite_docs() if any(t == "ok.test.org" for _k, t, _v in d["records"]))
    zone = _suite_zone(doc["records"])
    expected = {"ok.test.org": 10, "err.test.org": 11, "inc2.org": 10, "inc1.org": 11}
    for domain, lookups in expected.items():
        facts, findings = run(domain, zone)
        assert facts.dns_lookups == lookups, domain
        exceeded = "spf.lookup_limit_exceeded" in codes(findings)
        permerror = any(
            t.get("expect") == "permerror" for t in doc["tests"] if t.get("domain") == domain
        )
        assert exceeded == permerror == (lookups > 10), domain
    facts, findings = run("mx.test.org", zone)
    assert facts.tree is not None and facts.tree.children[0].mx_names == 11
    assert "spf.mx_too_many_names" in codes(findings)
    facts, _ = run("ptr.test.org", zone)
    assert facts.dns_lookups == 1


# The suite expects `fail`: it ignores terms after `all`, where RFC 7208 §4.6 makes any syntax
# error a permerror. We follow the RFC.
SUITE_DEVIATIONS = {"test.org v=spf1 -all ip:10.0.0.1"}


def test_conformance_permerrors_become_high_findings() -> None:
    checked = 0
    for doc in _suite_docs():
        owners = [o for k, o, _v in doc["records"] if k == "spf"]
        if len(owners) != len(set(owners)) or not doc["tests"]:
            continue  # examples.yml: one owner, several alternative records
        zone = _suite_zone(doc["records"])
        for test in doc["tests"]:
            domain = test.get("domain", "")
            if test.get("expect") != "permerror" or "_dns_error" in domain:
                continue
            facts, findings = run(domain, zone)
            if f"{domain} {facts.record}" in SUITE_DEVIATIONS:
                continue
            assert PERMERROR_CODES & codes(findings), (doc["file"], domain, codes(findings))
            checked += 1
    assert checked >= 8


# --- any published bytes: findings, never a crash -------------------------------------------


class OneTxtResolver:
    """Answers the audited name with the given TXT strings; every other name is NXDOMAIN,
    except names starting with "x", which have one A record, to reach the non-void paths."""

    def __init__(self, strings: tuple[bytes, ...]) -> None:
        self.strings = strings

    async def resolve(self, name: str, rdtype: RRType) -> Answer:
        name = name.rstrip(".").lower()
        if name == "fuzz.test" and rdtype is RRType.TXT:
            return Answer(name, rdtype, Rcode.NOERROR, (TxtRecord(self.strings),))
        if name.startswith("x") and rdtype is RRType.A:
            return Answer(name, rdtype, Rcode.NOERROR, ("192.0.2.1",))
        return Answer(name, rdtype, Rcode.NXDOMAIN)

    async def aclose(self) -> None:
        return None


_FUZZ_TOKENS = st.sampled_from(
    [
        b" ", b"  ", b"\t", b"-all", b"+all", b"?all", b"all", b"include:", b"redirect=",
        b"a", b"mx", b"ptr", b"exists:", b"ip4:192.0.2.0/24", b"ip6:::1", b"x.test", b"y.test",
        b"fuzz.test", b"%{d}", b"%{i}", b"%", b"/24", b"//64", b"=", b":", b"\xff", b"\xc3\xa4",
        b'"', b"<script>", b"include=x.test", b"exp=x.test",
    ]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(_FUZZ_TOKENS, max_size=8).map(b"".join), min_size=1, max_size=3),
    st.booleans(),
)
def test_any_published_bytes_give_findings_never_a_crash(
    pieces: list[bytes], with_version: bool
) -> None:
    strings = tuple(pieces)
    if with_version:
        strings = (b"v=spf1 " + strings[0], *strings[1:])
    check = SpfCheck()
    ctx = CheckContext(domain="fuzz.test", resolver=OneTxtResolver(strings))  # type: ignore[arg-type]
    facts = asyncio.run(check.collect(ctx))
    findings = check.evaluate(facts, EvaluationContext(domain="fuzz.test"))
    assert all(f.code.startswith("spf.") for f in findings)
    if facts.syntax_error is not None:
        assert facts.syntax_error_position is not None
        assert "spf.syntax_error" in codes(findings)
    for owner, text in _proposals(findings):
        assert owner == "fuzz.test"
        parse_spf(text)  # every record we propose parses
