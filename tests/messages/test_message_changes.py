"""Message findings that propose a record carry it as a typed change: the text and HTML
reports show the change's zone line (records.zonefile), not a copy parsed out of prose."""

from __future__ import annotations

import html

import jsonschema
import pytest
from verify_helpers import CLIENT_IP, DOMAIN, message, rsa_key, sign, zone

from mailauth_audit.changes import ChangeAction
from mailauth_audit.messages.model import Envelope, EnvelopeSource, MessageReport
from mailauth_audit.messages.verify import verify_message_sync
from mailauth_audit.records.zonefile import zone_line
from mailauth_audit.report.message import MessageFormat, message_report_to_json, render_message
from mailauth_audit.report.message_schema import committed_message_schema
from mailauth_audit.resolver.static import StaticResolver

SPF_ELSEWHERE = '@ 300 IN TXT "v=spf1 ip4:198.51.100.1 -all"'
SPF_OK = f'@ 300 IN TXT "v=spf1 ip4:{CLIENT_IP} -all"'


def verify(raw: bytes, *lines: str, ip: str = CLIENT_IP) -> MessageReport:
    env = Envelope(ip, f"mail.{DOMAIN}", f"bounce@{DOMAIN}", EnvelopeSource.GIVEN)
    report = verify_message_sync(raw, StaticResolver(zone(*lines)), env)
    jsonschema.validate(message_report_to_json(report), committed_message_schema())
    return report


# (scenario, message, zone lines, client ip) -> {code: (owner, proposed)} of its changes
SCENARIOS = {
    "spf_none_dmarc_none": (
        lambda: message(),
        (),
        CLIENT_IP,
        {
            "spf_auth.none": (DOMAIN, f"v=spf1 ip4:{CLIENT_IP} -all"),
            "dmarc_auth.none": (f"_dmarc.{DOMAIN}", f"v=DMARC1; p=none; rua=mailto:dmarc@{DOMAIN}"),
        },
    ),
    "spf_none_ipv6": (
        lambda: message(),
        ('_dmarc 300 IN TXT "v=DMARC1; p=none"',),
        "2001:db8::7",
        {"spf_auth.none": (DOMAIN, "v=spf1 ip6:2001:db8::7 -all")},
    ),
    "key_missing": (
        lambda: sign(message(), rsa_key()),
        (SPF_OK, '_dmarc 300 IN TXT "v=DMARC1; p=none"'),
        CLIENT_IP,
        {
            "dkim_sig.key_missing": (
                f"s1._domainkey.{DOMAIN}",
                "v=DKIM1; k=rsa; p=<base64 public key>",
            )
        },
    ),
    "spf_fail": (
        lambda: message(),
        (SPF_ELSEWHERE, '_dmarc 300 IN TXT "v=DMARC1; p=none"'),
        CLIENT_IP,
        {},  # the failing record is not known here: the term to add is named instead
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_proposed_records_are_typed_changes(name: str) -> None:
    build, lines, ip, expected = SCENARIOS[name]
    report = verify(build(), *lines, ip=ip)
    got = {
        f.code: (c.name, c.proposed)
        for f in report.findings
        for c in f.changes
        if c.action is ChangeAction.ADD
    }
    assert got == expected
    for f in report.findings:
        for c in f.changes:
            assert c.fixes == (f.code,)
            assert c.placeholders == (("<base64 public key>",) if "dkim" in f.code else ())

    text = render_message(report, MessageFormat.TEXT)
    page = render_message(report, MessageFormat.HTML)
    for owner, proposed in expected.values():
        line = zone_line(owner, "TXT", proposed)
        # the text shows the change once, as a change; the prose no longer repeats it
        assert text.count(line) == 1, text
        assert f"add      {line}" in text
        assert f'<pre class="zone"><code>{html.escape(line)}</code></pre>' in page.replace(
            "&#34;", "&quot;"
        )
        assert f"Add a TXT record at {owner}" in page


def test_spf_fail_names_the_term_to_add_not_a_replacement_record() -> None:
    report = verify(message(), SPF_ELSEWHERE, '_dmarc 300 IN TXT "v=DMARC1; p=none"')
    (fail,) = [f for f in report.findings if f.code == "spf_auth.fail"]
    assert f"`ip4:{CLIENT_IP}`" in fail.remediation
    assert "IN TXT" not in fail.remediation and not fail.changes


def test_json_carries_the_changes() -> None:
    doc = message_report_to_json(verify(message()))
    changes = [c for f in doc["message"]["findings"] for c in f["changes"]]
    assert any(
        c["action"] == "add" and c["name"] == f"_dmarc.{DOMAIN}" and c["ttl"] == 3600
        for c in changes
    ), changes
