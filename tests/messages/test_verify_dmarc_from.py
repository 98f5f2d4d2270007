"""DMARC for a From header with addresses in several domains (RFC 7489 §6.6.1): each domain is
evaluated and the strictest policy among those that fail is applied; the report shows each."""

from __future__ import annotations

import jsonschema
from verify_helpers import key_zone_line, message, rsa_key, sign

from mailauth_audit.messages.model import AuthResult, DmarcDisposition, MessageReport
from mailauth_audit.messages.verify import VerifyOptions, verify_message_sync
from mailauth_audit.options import MessageLimits
from mailauth_audit.report.message import message_report_to_json
from mailauth_audit.report.message_schema import committed_message_schema
from mailauth_audit.resolver.static import StaticResolver

POLICIES = r"""
$TTL 300
_dmarc.rej.example.    IN TXT "v=DMARC1; p=reject"
_dmarc.quar.example.   IN TXT "v=DMARC1; p=quarantine"
_dmarc.mon.example.    IN TXT "v=DMARC1; p=none"
"""


def verify(raw: bytes, *lines: str, limits: MessageLimits | None = None) -> MessageReport:
    zone_text = POLICIES + "\n".join(lines) + "\n"
    opts = VerifyOptions(limits=limits or MessageLimits())
    report = verify_message_sync(raw, StaticResolver(zone_text), None, opts)
    jsonschema.validate(message_report_to_json(report), committed_message_schema())
    return report


def per_domain(report: MessageReport) -> list[tuple[str | None, str, str | None]]:
    assert report.dmarc is not None
    return [(d.from_domain, d.result.value, d.policy) for d in report.dmarc.per_domain]


def test_the_strictest_failing_policy_is_applied_and_each_domain_is_shown() -> None:
    raw = message(from_header="a@mon.example, b@rej.example, c@quar.example")
    report = verify(raw)
    d = report.dmarc
    assert d is not None
    assert d.result is AuthResult.FAIL
    assert (d.from_domain, d.policy, d.disposition) == (
        "rej.example",
        "reject",
        DmarcDisposition.REJECT,
    )
    assert per_domain(report) == [
        ("mon.example", "fail", "none"),
        ("rej.example", "fail", "reject"),
        ("quar.example", "fail", "quarantine"),
    ]
    fails = [f for f in report.findings if f.code == "dmarc_auth.fail"]
    assert len(fails) == 3 and any("rej.example" in f.detail for f in fails)
    assert "message.multiple_from" in {f.code for f in report.findings}  # still bad practice
    assert "dmarc=fail" in report.authentication_results
    assert "header.from=rej.example" in report.authentication_results


def test_a_domain_that_passes_does_not_hide_one_that_fails() -> None:
    # rej.example signs (DMARC passes for it), quar.example does not: quarantine applies
    key = rsa_key()
    raw = sign(message(from_header="a@rej.example, b@quar.example"), key, domain="rej.example")
    report = verify(raw, key_zone_line(key, domain="rej.example"))
    d = report.dmarc
    assert d is not None
    assert per_domain(report) == [
        ("rej.example", "pass", "reject"),
        ("quar.example", "fail", "quarantine"),
    ]
    assert (d.result, d.from_domain, d.disposition) == (
        AuthResult.FAIL,
        "quar.example",
        DmarcDisposition.QUARANTINE,
    )


def test_every_domain_passing_is_a_pass() -> None:
    key = rsa_key()
    msg = message(from_header="a@rej.example, b@rej.example")  # one domain, twice
    raw = sign(msg, key, domain="rej.example")
    report = verify(raw, key_zone_line(key, domain="rej.example"))
    assert report.dmarc is not None and report.dmarc.result is AuthResult.PASS
    assert per_domain(report) == []  # one From domain: evaluated as usual
    assert report.dmarc.from_domain == "rej.example"


def test_a_domain_without_policy_is_reported_and_not_a_pass() -> None:
    key = rsa_key()
    raw = sign(message(from_header="a@rej.example, b@nopolicy.example"), key, domain="rej.example")
    report = verify(raw, key_zone_line(key, domain="rej.example"))
    d = report.dmarc
    assert d is not None
    assert per_domain(report) == [
        ("rej.example", "pass", "reject"),
        ("nopolicy.example", "none", None),
    ]
    assert d.result is AuthResult.NONE and d.from_domain == "nopolicy.example"
    assert "dmarc_auth.none" in {f.code for f in report.findings}


def test_domains_past_the_limit_are_not_evaluated_and_that_is_said() -> None:
    froms = ", ".join(f"u@d{i}.mon.example" for i in range(6))
    report = verify(message(from_header=froms), limits=MessageLimits(max_from_domains=4))
    d = report.dmarc
    assert d is not None
    assert len(d.per_domain) == 4 and d.domains_not_evaluated == 2
    # four failures with p=none are known; the other two could be stricter
    assert d.result is AuthResult.FAIL and d.disposition is DmarcDisposition.NONE
    assert "2 of 6" in (d.reason or "")
    assert "dmarc_auth.not_checked" in {f.code for f in report.findings}


def test_domains_past_the_limit_never_make_a_pass() -> None:
    key = rsa_key()
    msg = message(from_header="a@rej.example, b@quar.example")
    raw = sign(sign(msg, key, domain="rej.example"), key, domain="quar.example")
    lines = (key_zone_line(key, domain="rej.example"), key_zone_line(key, domain="quar.example"))
    report = verify(raw, *lines, limits=MessageLimits(max_from_domains=1))
    d = report.dmarc
    assert d is not None and d.domains_not_evaluated == 1
    assert d.result is AuthResult.PERMERROR
    assert "dmarc_auth.not_checked" in {f.code for f in report.findings}
