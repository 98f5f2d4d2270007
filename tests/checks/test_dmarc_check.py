"""DMARC check against zone text: discovery, effective policy, reporting, hostile records."""

from __future__ import annotations

import asyncio
import re

import pytest

from mailauth_audit.checks.base import CheckContext, EvaluationContext, RunMemo
from mailauth_audit.checks.dmarc import (
    DmarcCheck,
    DmarcResult,
    effective_policy,
    propose_record,
    zone_txt_line,
)
from mailauth_audit.checks.dmarc.remediation import REPORT_MAILBOX
from mailauth_audit.errors import DnsRefused, DnsServfail, DnsTimeout
from mailauth_audit.model import Finding, Severity
from mailauth_audit.options import AuditOptions, Limits
from mailauth_audit.records.dmarc import DmarcPolicy, parse_dmarc, parse_dmarc_lenient
from mailauth_audit.resolver.static import StaticResolver

BASE = """
example.com.                 300 IN MX 10 mx.example.com.
mx.example.com.              300 IN A 192.0.2.1
"""


def run(
    zone: str, domain: str, memo: RunMemo | None = None, resolver: StaticResolver | None = None
) -> tuple[DmarcResult, list[Finding]]:
    resolver = resolver or StaticResolver(zone)
    check = DmarcCheck()
    facts = asyncio.run(check.collect(CheckContext(domain, resolver, memo=memo or RunMemo())))
    return facts, check.evaluate(facts, EvaluationContext(domain))


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


def high(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings if f.severity.rank >= Severity.HIGH.rank]


# --- discovery ---------------------------------------------------------------------------------


def test_record_at_the_domain_itself() -> None:
    zone = BASE + '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:d@example.com"'
    facts, findings = run(zone, "example.com")
    assert facts.record == "v=DMARC1; p=reject; rua=mailto:d@example.com"
    assert facts.record_domain == "_dmarc.example.com" and facts.policy_domain == "example.com"
    assert not facts.inherited and facts.domain_exists is None
    assert (facts.policy, facts.effective_policy, facts.effective_policy_source) == (
        "reject",
        "reject",
        "p",
    )
    assert facts.organizational_domain == facts.psl_organizational_domain == "example.com"
    assert facts.discovery_path == ("_dmarc.example.com", "_dmarc.com")
    assert facts.report_destinations[0].external is False
    assert all(f.severity is Severity.INFO for f in findings)


def test_subdomain_inherits_sp_from_the_organizational_domain() -> None:
    zone = (
        BASE
        + """
_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.com"
shop.example.com.   300 IN A 192.0.2.2
"""
    )
    resolver = StaticResolver(zone)
    facts, findings = run(zone, "shop.example.com", resolver=resolver)
    assert facts.inherited and facts.record_domain == "_dmarc.example.com"
    assert facts.domain_exists is True
    assert (facts.effective_policy, facts.effective_policy_source) == ("quarantine", "sp")
    assert facts.organizational_domain == "example.com"
    assert {
        "dmarc.inherited_policy",
        "dmarc.policy_quarantine",
        "dmarc.subdomain_policy_weaker",
    } <= codes(findings)
    # one SOA query was needed: _dmarc.shop.example.com is NXDOMAIN, shop.example.com is not
    assert resolver.queries == 4


def test_nonexistent_subdomain_gets_np() -> None:
    zone = BASE + '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=none; sp=quarantine; np=reject"'
    facts, findings = run(zone, "ghost.example.com")
    assert facts.domain_exists is False
    assert (facts.effective_policy, facts.effective_policy_source) == ("reject", "np")
    assert "dmarc.policy_none" not in codes(findings)


def test_nonexistent_subdomain_without_np_falls_back_to_sp_then_p() -> None:
    zone = BASE + '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=quarantine"'
    facts, findings = run(zone, "ghost.example.com")
    assert facts.domain_exists is False
    assert (facts.effective_policy, facts.effective_policy_source) == ("quarantine", "p")
    assert "dmarc.np_absent" in codes(findings)


def test_existence_known_from_the_dmarc_answer_needs_no_extra_query() -> None:
    # Given _dmarc.shop.example.com exists (holding a non-DMARC TXT), shop.example.com exists
    zone = (
        BASE
        + """
_dmarc.example.com.      300 IN TXT "v=DMARC1; p=reject; np=reject"
_dmarc.shop.example.com. 300 IN TXT "some verification token"
"""
    )
    resolver = StaticResolver(zone)
    facts, _ = run(zone, "shop.example.com", resolver=resolver)
    assert facts.domain_exists is True and facts.inherited
    assert resolver.queries == 3  # _dmarc.shop, _dmarc.example.com, _dmarc.com: no SOA


def test_tree_walk_of_more_than_eight_labels_makes_eight_queries() -> None:
    domain = "a.b.c.d.e.f.g.h.i.j.mail.example.com"
    zone = (
        BASE
        + f"""
_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:d@example.com"
{domain}. 300 IN A 192.0.2.9
_dmarc.b.c.d.e.f.g.h.i.j.mail.example.com. 300 IN TXT "v=DMARC1; p=none; psd=n"
"""
    )
    facts, findings = run(zone, domain)
    assert facts.discovery_path == (
        f"_dmarc.{domain}",
        "_dmarc.g.h.i.j.mail.example.com",
        "_dmarc.h.i.j.mail.example.com",
        "_dmarc.i.j.mail.example.com",
        "_dmarc.j.mail.example.com",
        "_dmarc.mail.example.com",
        "_dmarc.example.com",
        "_dmarc.com",
    )
    # the psd=n record at b.c.d… is skipped by the shortcut, as RFC 9989 §5.1.8 warns
    assert facts.record_domain == "_dmarc.example.com" and facts.inherited
    assert facts.effective_policy == "reject"
    assert facts.organizational_domain == "example.com"
    assert "dmarc.inherited_policy" in codes(findings)


def test_psd_n_stops_the_walk_and_makes_an_organizational_domain() -> None:
    zone = (
        BASE
        + """
_dmarc.example.com.      300 IN TXT "v=DMARC1; p=none"
_dmarc.dept.example.com. 300 IN TXT "v=DMARC1; p=reject; psd=n"
"""
    )
    facts, _ = run(zone, "a.dept.example.com")
    assert facts.discovery_path == ("_dmarc.a.dept.example.com", "_dmarc.dept.example.com")
    assert facts.organizational_domain == "dept.example.com"
    assert facts.psl_organizational_domain == "example.com"
    assert facts.record_domain == "_dmarc.dept.example.com" and facts.effective_policy == "reject"


def test_intermediate_record_is_not_the_policy_when_a_shorter_one_exists() -> None:
    # RFC 9989 §4.10.2: without psd tags the record with the fewest labels is the
    # Organizational Domain, and §4.10.1 takes the policy from there
    zone = (
        BASE
        + """
_dmarc.example.com.      300 IN TXT "v=DMARC1; p=reject"
_dmarc.mail.example.com. 300 IN TXT "v=DMARC1; p=none"
"""
    )
    facts, _ = run(zone, "a.mail.example.com")
    assert facts.organizational_domain == "example.com"
    assert facts.record_domain == "_dmarc.example.com"


def test_public_suffix_domain_record_applies_below_it() -> None:
    # Given a PSO publishes psd=y at the (fake) TLD, and shop.bench publishes nothing
    zone = """
_dmarc.bench.    300 IN TXT "v=DMARC1; p=reject; psd=y"
shop.bench.      300 IN A 192.0.2.3
www.shop.bench.  300 IN A 192.0.2.3
"""
    facts, findings = run(zone, "www.shop.bench")
    assert facts.organizational_domain == "shop.bench" == facts.psl_organizational_domain
    assert facts.record_domain == "_dmarc.bench" and facts.inherited
    assert facts.effective_policy == "reject" and facts.psd == "y"
    assert "dmarc.missing" not in codes(findings)


def test_fake_tld_without_records_is_missing_with_starter_record() -> None:
    zone = "shop.bench. 300 IN A 192.0.2.3\n"
    facts, findings = run(zone, "shop.bench")
    assert facts.record is None and facts.effective_policy is None
    assert facts.discovery_path == ("_dmarc.shop.bench", "_dmarc.bench")
    assert high(findings) == ["dmarc.missing"]
    missing = findings[0]
    assert (
        '_dmarc.shop.bench. 3600 IN TXT "v=DMARC1; p=none; rua=mailto:<your-report-mailbox>"'
    ) in missing.remediation


def test_parent_lookups_are_shared_through_the_run_memo() -> None:
    zone = BASE + '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject"'
    resolver = StaticResolver(zone)
    memo = RunMemo()
    run(zone, "example.com", memo=memo, resolver=resolver)
    first = resolver.queries
    run(zone, "mx.example.com", memo=memo, resolver=resolver)
    # new: _dmarc.mx.example.com and the SOA of mx.example.com (inherited, so sp or np?);
    # _dmarc.example.com and _dmarc.com come from the memo
    assert resolver.queries - first == 2


@pytest.mark.parametrize("fault", [DnsTimeout, DnsServfail])
def test_resolver_errors_propagate_never_missing(fault: type) -> None:
    zone = BASE + '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject"'
    resolver = StaticResolver(zone, faults={"_dmarc.example.com": fault})
    with pytest.raises(fault):
        run(zone, "shop.example.com", resolver=resolver)


# --- broken records ------------------------------------------------------------------------------


def test_multiple_records_are_all_discarded() -> None:
    zone = (
        BASE
        + """
_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject"
_dmarc.example.com. 300 IN TXT "v=DMARC1; p=none"
_dmarc.example.com. 300 IN TXT "unrelated text"
"""
    )
    facts, findings = run(zone, "example.com")
    assert facts.record is None and facts.effective_policy is None
    assert sorted(facts.records_found) == ["v=DMARC1; p=none", "v=DMARC1; p=reject"]
    assert high(findings) == ["dmarc.multiple_records"]
    assert "dmarc.missing" not in codes(findings)


def test_multiple_records_at_subdomain_fall_back_to_parent() -> None:
    zone = (
        BASE
        + """
_dmarc.example.com.      300 IN TXT "v=DMARC1; p=reject"
_dmarc.shop.example.com. 300 IN TXT "v=DMARC1; p=none"
_dmarc.shop.example.com. 300 IN TXT "v=DMARC1; p=quarantine"
"""
    )
    facts, findings = run(zone, "shop.example.com")
    assert facts.inherited and facts.effective_policy == "reject"
    assert {"dmarc.multiple_records", "dmarc.inherited_policy"} <= codes(findings)


def test_one_valid_and_one_broken_record_keeps_the_valid_one() -> None:
    zone = (
        BASE
        + """
_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject"
_dmarc.example.com. 300 IN TXT "v=dmarc1; p=none"
"""
    )
    facts, findings = run(zone, "example.com")
    assert facts.record == "v=DMARC1; p=reject" and not facts.inherited
    assert "dmarc.multiple_records" not in codes(findings)
    errors = [f for f in findings if f.code == "dmarc.syntax_error"]
    assert len(errors) == 1 and errors[0].severity is Severity.HIGH
    assert errors[0].evidence == ("v=dmarc1; p=none",)


@pytest.mark.parametrize(
    ("record", "position", "fixed"),
    [
        ("v=DMARC1 p=reject", 8, "v=DMARC1; p=reject"),
        ("v=dmarc1; p=quarantine", 2, "v=DMARC1; p=quarantine"),
    ],
)
def test_version_syntax_error_is_high_with_position_and_a_repair(
    record: str, position: int, fixed: str
) -> None:
    zone = BASE + f'_dmarc.example.com. 300 IN TXT "{record}"'
    facts, findings = run(zone, "example.com")
    assert facts.record is None and facts.records_found == (record,)
    assert facts.syntax_error_position == position
    (error,) = [f for f in findings if f.code == "dmarc.syntax_error"]
    assert error.severity is Severity.HIGH and f"at character {position}" in error.detail
    assert f'_dmarc.example.com. 3600 IN TXT "{fixed}"' in error.remediation
    assert "dmarc.missing" not in codes(findings)


def test_invalid_policy_with_rua_counts_as_none() -> None:
    zone = BASE + '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=rejectt; rua=mailto:d@example.com"'
    facts, findings = run(zone, "example.com")
    assert (facts.effective_policy, facts.effective_policy_source) == ("none", "default")
    assert facts.syntax_error_position == 12
    (error,) = [f for f in findings if f.code == "dmarc.syntax_error"]
    assert error.severity is Severity.HIGH


def test_missing_p_without_rua_means_no_dmarc() -> None:
    zone = BASE + '_dmarc.example.com. 300 IN TXT "v=DMARC1; adkim=s"'
    facts, findings = run(zone, "example.com")
    assert facts.effective_policy is None
    (missing,) = [f for f in findings if f.code == "dmarc.policy_missing"]
    assert missing.severity is Severity.HIGH


def test_missing_p_with_rua_is_medium() -> None:
    zone = BASE + '_dmarc.example.com. 300 IN TXT "v=DMARC1; rua=mailto:d@example.com"'
    facts, findings = run(zone, "example.com")
    assert facts.effective_policy == "none"
    (missing,) = [f for f in findings if f.code == "dmarc.policy_missing"]
    assert missing.severity is Severity.MEDIUM
    assert "dmarc.policy_none" not in codes(findings)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ("v=DMARC1; p=none; rua=mailto:d@example.com", {"dmarc.policy_none", "dmarc.np_absent"}),
        (
            "v=DMARC1; p=quarantine; rua=mailto:d@example.com",
            {"dmarc.policy_quarantine", "dmarc.np_absent"},
        ),
        (
            "v=DMARC1; p=quarantine; np=reject; rua=mailto:d@example.com",
            {"dmarc.policy_quarantine"},
        ),
        ("v=DMARC1; p=reject; t=y; rua=mailto:d@example.com", {"dmarc.testing_mode"}),
        (
            "v=DMARC1; p=reject; pct=20; rua=mailto:d@example.com",
            {"dmarc.pct_partial", "dmarc.removed_tag"},
        ),
        ("v=DMARC1; p=reject; rf=afrf; ri=3600; rua=mailto:d@example.com", {"dmarc.removed_tag"}),
        ("v=DMARC1; p=reject", {"dmarc.no_rua"}),
        ("v=DMARC1; p=reject; adkim=s; rua=mailto:d@example.com", {"dmarc.strict_alignment"}),
        ("v=DMARC1; p=reject; foo=bar; rua=mailto:d@example.com", {"dmarc.unknown_tag"}),
        (
            "v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com",
            {"dmarc.subdomain_policy_weaker", "dmarc.np_absent"},
        ),
        ("v=DMARC1; p=reject; np=none; rua=mailto:d@example.com", {"dmarc.np_weaker"}),
        # a non-mailto URI still counts as an rua: no dmarc.no_rua
        ("v=DMARC1; p=reject; rua=https://r.example.com/x", {"dmarc.report_uri_not_mailto"}),
        ("v=DMARC1; p=reject; rua=mailto:d@example.com!10m", {"dmarc.obsolete_report_size"}),
        (
            "v=DMARC1; p=reject; rua=mailto:d@example.com,d@example.com",
            {"dmarc.invalid_report_uri"},
        ),
        ("v=DMARC1; p=reject; rua=mailto:d@example.com", set()),
    ],
)
def test_record_findings(record: str, expected: set[str]) -> None:
    zone = BASE + f'_dmarc.example.com. 300 IN TXT "{record}"'
    _, findings = run(zone, "example.com")
    assert codes(findings) == expected
    assert not high(findings)


def test_pct_and_testing_do_not_fire_for_policy_none() -> None:
    zone = BASE + '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=none; t=y; pct=10; np=reject"'
    _, findings = run(zone, "example.com")
    assert "dmarc.testing_mode" not in codes(findings)
    assert "dmarc.pct_partial" not in codes(findings)


# --- external report destinations -----------------------------------------------------------


def test_external_destination_authorized_and_not() -> None:
    zone = (
        BASE
        + """
_dmarc.example.com. 300 IN TXT ( "v=DMARC1; p=reject; "
    "rua=mailto:a@reports.example.net,mailto:b@other.example.org; ruf=mailto:f@example.com" )
example.com._report._dmarc.reports.example.net. 300 IN TXT "v=DMARC1"
"""
    )
    facts, findings = run(zone, "example.com")
    by_domain = {d.domain: d for d in facts.report_destinations}
    assert by_domain["reports.example.net"].external
    assert by_domain["reports.example.net"].authorized is True
    assert by_domain["other.example.org"].authorized is False
    assert by_domain["other.example.org"].authorization_name == (
        "example.com._report._dmarc.other.example.org"
    )
    assert by_domain["example.com"].external is False
    assert by_domain["example.com"].authorized is None
    (unauthorized,) = [f for f in findings if f.code == "dmarc.report_destination_unauthorized"]
    assert unauthorized.severity is Severity.MEDIUM
    assert (
        'example.com._report._dmarc.other.example.org. 3600 IN TXT "v=DMARC1"'
        in unauthorized.remediation
    )


def test_wildcard_authorization_counts() -> None:
    zone = (
        BASE
        + """
_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:a@reports.example.net"
*._report._dmarc.reports.example.net. 300 IN TXT "v=DMARC1;"
"""
    )
    facts, findings = run(zone, "example.com")
    assert facts.report_destinations[0].authorized is True
    assert "dmarc.report_destination_unauthorized" not in codes(findings)


def test_authorization_record_must_start_with_the_version() -> None:
    zone = (
        BASE
        + """
_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:a@reports.example.net"
example.com._report._dmarc.reports.example.net. 300 IN TXT "v=spf1 -all"
"""
    )
    facts, _ = run(zone, "example.com")
    assert facts.report_destinations[0].authorized is False
    assert facts.report_destinations[0].authorization_records == ("v=spf1 -all",)


def test_subdomain_address_in_same_organization_is_not_external() -> None:
    zone = BASE + '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:a@r.example.com"'
    facts, _ = run(zone, "example.com")
    assert facts.report_destinations[0].external is False


def test_authorization_lookups_are_memoised() -> None:
    zone = (
        BASE
        + """
_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:a@reports.example.net"
"""
    )
    resolver = StaticResolver(zone)
    memo = RunMemo()
    run(zone, "example.com", memo=memo, resolver=resolver)
    first = resolver.queries
    run(zone, "shop.example.com", memo=memo, resolver=resolver)
    # _dmarc.shop.example.com and the SOA are new; the parent and the authorisation are not
    assert resolver.queries - first == 2


# --- hostile records ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("txt", "code", "position"),
    [
        ('"v=DMARC1; p=<script>alert(1)</script>"', "dmarc.syntax_error", 12),
        ('"v=DMARC1; p=reject; rua=mailto:\\"><img@x"', "dmarc.invalid_report_uri", 31),
        ('"v=DMARC1; p=reject; rua=mailto:d@ex\\255ample.com"', "dmarc.invalid_report_uri", 35),
        (
            '"v=DMARC1; p=reject; pct=' + "9" * 200 + '" "' + "9" * 250 + '"',
            "dmarc.syntax_error",
            24,
        ),
    ],
)
def test_hostile_content_gives_a_precise_finding(txt: str, code: str, position: int) -> None:
    zone = BASE + f"_dmarc.example.com. 300 IN TXT {txt}"
    facts, findings = run(zone, "example.com")
    matching = [f for f in findings if f.code == code]
    assert matching and f"at character {position}" in matching[0].detail
    assert facts.syntax_error_position == position


def test_four_kilobyte_record_is_judged_not_crashed() -> None:
    # Given a 4 KB record in 250-character strings: 600 unknown tags, a bogus np at the end
    body = "; ".join(f"x{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}=1" for i in range(600))
    text = f"v=DMARC1; p=reject; rua=mailto:d@example.com; {body}; np=<b>"
    assert len(text) > 4000
    chunks = " ".join(f'"{text[i : i + 250]}"' for i in range(0, len(text), 250))
    zone = BASE + f"_dmarc.example.com. 300 IN TXT {chunks}"
    facts, findings = run(zone, "example.com")
    assert facts.record == text and facts.effective_policy == "none"  # invalid np: §4.10.1
    assert len(facts.unknown_tags) == 600
    assert sum(f.code == "dmarc.unknown_tag" for f in findings) == 10  # capped
    (error,) = [f for f in findings if f.code == "dmarc.syntax_error"]
    assert error.severity is Severity.HIGH and f"at character {len(text) - 3}" in error.detail


# --- pure parts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "inherited", "exists", "expected"),
    [
        ("v=DMARC1; p=reject; sp=none; np=quarantine", False, None, ("reject", "p")),
        ("v=DMARC1; p=reject; sp=none; np=quarantine", True, True, ("none", "sp")),
        ("v=DMARC1; p=reject; sp=none; np=quarantine", True, False, ("quarantine", "np")),
        ("v=DMARC1; p=reject; sp=none", True, False, ("none", "sp")),
        ("v=DMARC1; p=reject", True, False, ("reject", "p")),
        ("v=DMARC1; p=reject; np=quarantine", True, True, ("reject", "p")),
        ("v=DMARC1; rua=mailto:a@example.com", False, None, ("none", "default")),
        ("v=DMARC1; p=reject; sp=bad; rua=mailto:a@example.com", False, None, ("none", "default")),
        ("v=DMARC1; p=reject; sp=bad", False, None, (None, None)),
        ("v=DMARC1; p=bad", False, None, (None, None)),
    ],
)
def test_effective_policy(
    record: str, inherited: bool, exists: bool | None, expected: tuple[str | None, str | None]
) -> None:
    parsed, issues = parse_dmarc_lenient(record)
    policy, source = effective_policy(parsed, issues, inherited=inherited, domain_exists=exists)
    assert (policy.value if isinstance(policy, DmarcPolicy) else policy, source) == expected


def test_zone_txt_line_escapes_and_splits() -> None:
    assert zone_txt_line("_dmarc.x.com", 'a"b\\c') == '_dmarc.x.com. 3600 IN TXT "a\\"b\\\\c"'
    long_line = zone_txt_line("_dmarc.x.com", "v=DMARC1; " + "a" * 600)
    assert long_line.count('" "') == 2


def test_proposal_drops_removed_unknown_and_invalid_tags() -> None:
    record, _ = parse_dmarc_lenient(
        "v=DMARC1; sp=bogus; pct=50; zz=1; fo=1; adkim=s; rua=mailto:a@example.com!5m"
    )
    assert propose_record(record, {"np": "reject"}) == (
        "v=DMARC1; p=none; np=reject; adkim=s; rua=mailto:a@example.com"
    )


# --- every proposed record is itself sound ------------------------------------------------------

_LINE = re.compile(r"^(\S+)\. 3600 IN TXT ((?:\"(?:[^\"\\]|\\.)*\" ?)+)$", re.MULTILINE)

SCENARIOS = [
    ("example.com", ""),
    ("shop.example.com", ""),
    ("example.com", '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=none"'),
    ("example.com", '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=quarantine; pct=10; t=y"'),
    ("example.com", '_dmarc.example.com. 300 IN TXT "v=DMARC1; adkim=s"'),
    ("example.com", '_dmarc.example.com. 300 IN TXT "v=DMARC1 p=reject"'),
    ("example.com", '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=<script>; rua=x"'),
    ("example.com", '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; sp=none; np=none"'),
    ("example.com", '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; rua=https://x.org/r"'),
    (
        "example.com",
        '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:a@reports.example.net"',
    ),
    (
        "example.com",
        '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=none"\n'
        '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject"',
    ),
    ("shop.example.com", '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; sp=none"'),
    ("a.dept.example.com", '_dmarc.dept.example.com. 300 IN TXT "v=DMARC1; p=reject; psd=n"'),
]


@pytest.mark.parametrize(("domain", "records"), SCENARIOS)
def test_every_proposed_record_parses_and_has_no_high_finding(domain: str, records: str) -> None:
    _, findings = run(BASE + records, domain)
    lines = [m for f in findings for m in _LINE.findall(f.remediation)]
    assert lines, "each scenario proposes at least one record"
    for owner, quoted in lines:
        text = "".join(
            re.sub(r"\\(.)", r"\1", s) for s in re.findall(r"\"((?:[^\"\\]|\\.)*)\"", quoted)
        )
        if "._report._dmarc." in owner:
            assert text == "v=DMARC1"
            fixed_zone = BASE + records + f"\n{owner}. 300 IN TXT {quoted}"
            _, after = run(fixed_zone, domain)
            assert "dmarc.report_destination_unauthorized" not in codes(after)
            continue
        assert owner.startswith("_dmarc.")
        # a report mailbox only the owner can name is a placeholder, filled in here
        text = text.replace(REPORT_MAILBOX, "dmarc@example.com")
        quoted = quoted.replace(REPORT_MAILBOX, "dmarc@example.com")
        parse_dmarc(text)  # strict: no issue at all
        target = owner.removeprefix("_dmarc.")
        _, proposed = run(BASE + f"{owner}. 300 IN TXT {quoted}", target)
        assert not high(proposed), (owner, text, high(proposed))


def test_missing_on_a_subdomain_proposes_the_registered_domain_too() -> None:
    _, findings = run(BASE, "shop.example.com")
    (missing,) = [f for f in findings if f.code == "dmarc.missing"]
    assert "_dmarc.shop.example.com. 3600 IN TXT" in missing.remediation
    assert "_dmarc.example.com. 3600 IN TXT" in missing.remediation


# --- bounded report authorisation, and no hostile URI in proposals ----------------------------


def test_report_authorizations_past_the_cap_are_not_asked_and_not_called_unauthorized() -> None:
    # Given five external rua addresses and a cap of two
    uris = ",".join(f"mailto:r@e{i}.example.net" for i in range(5))
    zone = BASE + f'_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; rua={uris}"'
    resolver = StaticResolver(zone)
    options = AuditOptions(limits=Limits(max_report_authorizations=2))
    ctx = CheckContext("example.com", resolver, options=options)
    facts = asyncio.run(DmarcCheck().collect(ctx))
    findings = DmarcCheck().evaluate(facts, EvaluationContext("example.com"))
    # Then two names are asked, three destinations are kept as not checked
    asked = [d for d in facts.report_destinations if d.authorization_checked]
    assert [d.domain for d in asked] == ["e0.example.net", "e1.example.net"]
    assert facts.report_authorizations_unchecked == 3
    rest = [d for d in facts.report_destinations if not d.authorization_checked]
    assert all(d.external and d.authorized is None for d in rest)
    assert codes(findings) == {
        "dmarc.report_destination_unauthorized",
        "dmarc.report_authorization_not_checked",
    }
    assert sum(f.code == "dmarc.report_destination_unauthorized" for f in findings) == 2
    note = next(f for f in findings if f.code == "dmarc.report_authorization_not_checked")
    assert "r@e2.example.net" in note.detail
    assert note.evidence[0] == "example.com._report._dmarc.e2.example.net"


def test_destinations_sharing_a_host_share_one_authorization_query() -> None:
    zone = BASE + (
        '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; '
        'rua=mailto:a@r.example.net,mailto:b@r.example.net"\n'
        'example.com._report._dmarc.r.example.net. 300 IN TXT "v=DMARC1"'
    )
    options = AuditOptions(limits=Limits(max_report_authorizations=1))
    resolver = StaticResolver(zone)
    ctx = CheckContext("example.com", resolver, options=options)
    facts = asyncio.run(DmarcCheck().collect(ctx))
    assert [d.authorized for d in facts.report_destinations] == [True, True]
    assert facts.report_authorizations_unchecked == 0


@pytest.mark.parametrize(
    "hostile",
    ["javascript:alert(1)", "data:text/html%2C%3Cscript%3E", "https://evil.example/x"],
)
def test_proposed_records_never_carry_a_non_mailto_uri(hostile: str) -> None:
    # Given a record with p=none (so several findings propose a record) and a hostile rua
    record = f"v=DMARC1; p=none; rua={hostile},mailto:d@example.com; ruf={hostile}"
    _, findings = run(BASE + f'_dmarc.example.com. 300 IN TXT "{record}"', "example.com")
    scheme = hostile.split(":", 1)[0]
    # Then no proposed record carries it, the mailbox stays, and the URI is named
    for f in findings:
        for line in f.remediation.splitlines():
            if " IN TXT " in line:
                assert f"{scheme}:" not in line, (f.code, line)
    assert any("rua=mailto:d@example.com" in f.remediation for f in findings)
    named = [f for f in findings if f.code == "dmarc.report_uri_not_mailto"]
    assert len(named) == 2 and all(hostile in f.detail for f in named)
    # the ruf list had no mailbox left: its proposal uses one at the policy domain
    ruf = next(f for f in named if "failure" in f.detail)
    assert f"ruf=mailto:{REPORT_MAILBOX}" in ruf.remediation


def test_propose_record_drops_non_mailto_uris() -> None:
    record, _ = parse_dmarc_lenient("v=DMARC1; p=reject; rua=javascript:x,mailto:a@example.com")
    assert propose_record(record) == "v=DMARC1; p=reject; rua=mailto:a@example.com"
    only_bad, _ = parse_dmarc_lenient("v=DMARC1; p=reject; rua=javascript:x; ruf=data:x; fo=1")
    assert propose_record(only_bad) == "v=DMARC1; p=reject"


# --- a repeated tag (RFC 7489 §6.3 with RFC 6376 §3.2) ----------------------------------------


def test_a_repeated_tag_leaves_the_domain_without_a_usable_policy() -> None:
    # Given p=reject and then p=none: no "first copy wins" (that reported p=reject, medium)
    record = "v=DMARC1; p=reject; p=none; rua=mailto:d@example.com"
    zone = BASE + f'_dmarc.example.com. 300 IN TXT "{record}"'
    facts, findings = run(zone, "example.com")
    assert facts.record is None and facts.policy is None and facts.effective_policy is None
    errors = [f for f in findings if f.code == "dmarc.syntax_error"]
    assert len(errors) == 1 and errors[0].severity is Severity.HIGH
    assert "no usable DMARC policy" in errors[0].detail and "duplicate tag 'p'" in errors[0].detail
    assert facts.syntax_issues[0].tag == "p" and facts.syntax_issues[0].fatal
    assert facts.syntax_issues[0].position == 20
    # the proposal keeps one copy of each tag and the report address
    assert '"v=DMARC1; p=reject; rua=mailto:d@example.com"' in errors[0].remediation
    assert "dmarc.missing" not in codes(findings)  # a record exists; it is broken, not absent


def test_a_repeated_tag_at_a_subdomain_falls_back_to_the_parent() -> None:
    zone = (
        BASE
        + """
_dmarc.example.com.      300 IN TXT "v=DMARC1; p=quarantine"
_dmarc.shop.example.com. 300 IN TXT "v=DMARC1; p=reject; p=reject"
"""
    )
    facts, findings = run(zone, "shop.example.com")
    assert facts.inherited and facts.effective_policy == "quarantine"
    errors = [f for f in findings if f.code == "dmarc.syntax_error"]
    assert errors and "apply the policy at _dmarc.example.com instead" in errors[0].detail


# --- lookups that get no answer: which ones can change the verdict (walk.py) -------------------

OWN = BASE + '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:d@example.com"\n'


def failing(zone: str, **faults: type) -> StaticResolver:
    return StaticResolver(zone, faults={k.replace("__", "."): v for k, v in faults.items()})


@pytest.mark.parametrize("fault", [DnsServfail, DnsRefused, DnsTimeout])
def test_a_failed_parent_lookup_does_not_sink_the_domains_own_record(fault: type) -> None:
    # Given _dmarc.example.com is found and _dmarc.com (the walk going up) fails
    facts, findings = run(OWN, "example.com", resolver=failing(OWN, _dmarc__com=fault))
    # Then the check completes: the policy comes from the domain's own record
    assert (facts.effective_policy, facts.inherited) == ("reject", False)
    assert facts.organizational_domain == "example.com" and facts.organizational_domain_complete
    assert [(f.kind, f.name, f.reason) for f in facts.failed_lookups] == [
        ("tree_walk", "_dmarc.com", fault.reason.value)
    ]
    assert facts.lookups[1].error_reason == fault.reason.value
    notes = [f for f in findings if f.code == "dmarc.tree_walk_lookup_failed"]
    assert len(notes) == 1 and notes[0].severity is Severity.INFO
    assert "_dmarc.com" in notes[0].detail and "comes from _dmarc.example.com" in notes[0].detail
    assert all(f.severity is Severity.INFO for f in findings)


def test_a_failed_lookup_that_could_move_the_organizational_domain_is_said_so() -> None:
    # Given shop.example.com has its own record and _dmarc.example.com is REFUSED: a record
    # there would make example.com the Organizational Domain
    zone = OWN.replace("_dmarc.example.com.", "_dmarc.shop.example.com.")
    resolver = failing(zone, _dmarc__example__com=DnsRefused)
    facts, findings = run(zone, "shop.example.com", resolver=resolver)
    assert facts.effective_policy == "reject" and not facts.inherited
    assert not facts.organizational_domain_complete
    # Then the RFC 7489 / RFC 9989 comparison (which rests on it) is not reported
    assert "dmarc.organizational_domain_differs" not in codes(findings)
    note = next(f for f in findings if f.code == "dmarc.tree_walk_lookup_failed")
    assert "could differ" in note.detail


def test_an_inherited_policy_survives_a_failure_at_a_public_suffix_above_it() -> None:
    zone = OWN + "shop.example.com. 300 IN A 192.0.2.7\n"
    facts, findings = run(zone, "shop.example.com", resolver=failing(zone, _dmarc__com=DnsServfail))
    assert facts.inherited and facts.policy_domain == "example.com"
    assert facts.effective_policy == "reject"
    assert "dmarc.tree_walk_lookup_failed" in codes(findings)


@pytest.mark.parametrize(
    ("zone", "domain", "failing_name"),
    [
        # no record anywhere: a PSD record at com (psd=y) would apply, so "missing" is unknown
        (BASE, "example.com", "_dmarc.com"),
        # inherited: a record at example.com would be the Organizational Domain's policy
        (
            BASE + '_dmarc.b.example.com. 300 IN TXT "v=DMARC1; p=none"\n',
            "a.b.example.com",
            "_dmarc.example.com",
        ),
        # inherited from example.com: b.example.com with psd=n would apply instead
        (OWN, "a.b.example.com", "_dmarc.b.example.com"),
    ],
)
def test_a_failure_that_could_change_the_policy_is_an_error(
    zone: str, domain: str, failing_name: str
) -> None:
    resolver = StaticResolver(zone, faults={failing_name: DnsServfail})
    with pytest.raises(DnsServfail):
        run(zone, domain, resolver=resolver)


def test_failed_parent_lookup_is_asked_once_per_run() -> None:
    resolver = failing(OWN, _dmarc__com=DnsServfail)
    memo = RunMemo()
    run(OWN, "example.com", memo=memo, resolver=resolver)
    first = resolver.queries
    zone2 = OWN + '_dmarc.example2.com. 300 IN TXT "v=DMARC1; p=reject"\n'
    facts, _ = run(zone2, "example2.com", memo=memo, resolver=StaticResolver(zone2))
    assert facts.failed_lookups[0].name == "_dmarc.com"  # from the memo, not asked again
    assert first == 2


def test_existence_lookup_failure_matters_only_when_sp_and_np_differ() -> None:
    zone = BASE + '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; sp=quarantine"\n'
    resolver = failing(zone, shop__example__com=DnsTimeout)
    facts, findings = run(zone, "shop.example.com", resolver=resolver)
    assert facts.domain_exists is None and facts.effective_policy == "quarantine"
    assert [f.kind for f in facts.failed_lookups] == ["existence"]
    assert "dmarc.existence_lookup_failed" in codes(findings)
    np_zone = zone.replace("sp=quarantine", "sp=quarantine; np=reject")
    with pytest.raises(DnsTimeout):
        run(np_zone, "shop.example.com", resolver=failing(np_zone, shop__example__com=DnsTimeout))


def test_failed_authorization_lookup_leaves_the_destination_not_checked() -> None:
    zone = BASE + (
        '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; '
        'rua=mailto:a@reports.example.net,mailto:b@ok.example.org"\n'
        'example.com._report._dmarc.ok.example.org. 300 IN TXT "v=DMARC1"\n'
    )
    resolver = StaticResolver(
        zone, faults={"example.com._report._dmarc.reports.example.net": DnsServfail}
    )
    facts, findings = run(zone, "example.com", resolver=resolver)
    failed, ok = facts.report_destinations
    assert (failed.authorized, failed.authorization_checked) == (None, False)
    assert failed.authorization_error and "SERVFAIL" in failed.authorization_error
    assert (ok.authorized, ok.authorization_checked) == (True, True)
    assert "dmarc.report_destination_unauthorized" not in codes(findings)
    assert "dmarc.report_authorization_not_checked" not in codes(findings)  # not the cap
    note = next(f for f in findings if f.code == "dmarc.report_authorization_lookup_failed")
    assert note.severity is Severity.INFO and "reports.example.net" in note.detail
