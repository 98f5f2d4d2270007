"""FindingSpec fills its templates with str.format's text of each value, in template order."""

from __future__ import annotations

from mailauth_audit.changes import ChangeAction, RecordChange
from mailauth_audit.findings.base import FindingSpec
from mailauth_audit.model import CheckId, Severity

SPEC = FindingSpec(
    code="spf.test_only",
    severity=Severity.LOW,
    check=CheckId.SPF,
    title="t",
    detail="{domain} has {count} terms ({kind})",
    remediation="Publish `{line}` for {domain}",
)


def test_every_value_given_fills_both_templates_in_template_order() -> None:
    f = SPEC(
        {"domain": "shared.example", "line": "unused"},
        domain="x.example",
        count=3,
        kind=CheckId.MX,
        line='v=spf1 {braces} "q" -all',
        extra="not in a template",
    )
    assert f.detail == "x.example has 3 terms (mx)"
    assert f.remediation == 'Publish `v=spf1 {braces} "q" -all` for x.example'
    assert f.params == (
        ("domain", "x.example"),
        ("count", "3"),
        ("kind", "mx"),
        ("line", 'v=spf1 {braces} "q" -all'),
    )
    assert all(type(v) is str for _, v in f.params)


def test_a_missing_value_stays_visible() -> None:
    f = SPEC(domain="x.example", count=1)
    assert f.detail == "x.example has 1 terms ({kind})"
    assert f.remediation == "Publish `{line}` for x.example"
    assert f.params == (("domain", "x.example"), ("count", "1"))


def test_changes_fix_the_finding_unless_they_say_more() -> None:
    plain = RecordChange(ChangeAction.ADD, "x.example", "TXT", 300, proposed="v=spf1 -all")
    own = RecordChange(ChangeAction.ADD, "y.example", "TXT", 300, fixes=("spf.other",))
    f = SPEC(domain="x", count=0, kind="a", line="l", changes=[plain, own])
    assert [c.fixes for c in f.changes] == [("spf.test_only",), ("spf.other",)]
    assert f.changes[0].proposed == "v=spf1 -all" and f.changes[1] is own
