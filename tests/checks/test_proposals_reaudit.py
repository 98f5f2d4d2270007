"""Remediation that proposes a record carries it as a typed change, and the change, pasted
literally (with the owner's value where a placeholder stands), clears the finding on a
re-audit of the corrected zone without raising another; remediation that proposes no
record quotes none (renderers show records from `changes` only, never from prose)."""

from __future__ import annotations

import asyncio
import base64
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailauth_audit.engine.auditor import Auditor
from mailauth_audit.fix.zone import apply_changes
from mailauth_audit.model import DomainReport, Finding
from mailauth_audit.options import AuditOptions
from mailauth_audit.resolver.static import StaticResolver

ZONE = """$ORIGIN prop.
$TTL 3600
@ IN SOA ns.prop. hostmaster.prop. 1 3600 600 86400 300
@ IN NS ns.prop.
ns IN A 127.0.0.1
docmx IN MX 10 mail.docmx.prop.
mail.docmx IN A 192.0.2.10
mail.docmx IN AAAA 2001:db8::10
docmx IN TXT "v=spf1 mx -all"
_dmarc.docmx IN TXT "v=DMARC1; p=reject; rua=mailto:d@docmx.prop"
sub.docmx IN MX 10 mail.docmx.prop.
sub.docmx IN TXT "v=spf1 mx -all"
badkey IN MX 10 mail.docmx.prop.
badkey IN TXT "v=spf1 mx -all"
_dmarc.badkey IN TXT "v=DMARC1; p=reject; rua=mailto:d@badkey.prop"
selector1._domainkey.badkey IN TXT "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOC"
loop IN MX 10 mail.docmx.prop.
loop IN TXT "v=spf1 mx -all"
_dmarc.loop IN TXT "v=DMARC1; p=reject; rua=mailto:d@loop.prop"
google._domainkey.loop IN CNAME g2._domainkey.loop.prop.
g2._domainkey.loop IN CNAME google._domainkey.loop.prop.
nomail IN MX 0 .
nomail IN TXT "v=spf1 -all"
_dmarc.nomail IN TXT "v=DMARC1; p=reject"
"""
# no probes: the re-audit publishes public addresses, and tests talk to loopback only
OPTIONS = AuditOptions(checks=frozenset({"mx", "spf", "dkim", "dmarc", "mta_sts"}))  # type: ignore[arg-type]
_QUOTED_RECORD = re.compile(r"`|\bIN\s+(?:TXT|MX|A|AAAA|CNAME)\b|\b3600\b")


def _audit(zone: str, domain: str) -> DomainReport:
    async def run() -> DomainReport:
        async with Auditor(OPTIONS, resolver=StaticResolver(zone, origin="prop")) as auditor:
            return await auditor.audit_domain(domain)

    return asyncio.run(run())


def _finding(report: DomainReport, code: str) -> Finding:
    found = [f for f in report.findings if f.code == code]
    assert found, (report.domain, code, [f.code for f in report.findings])
    return found[0]


@pytest.mark.parametrize(
    ("domain", "code"),
    [
        ("docmx.prop", "mta_sts.not_deployed"),
        ("nomail.prop", "mx.null_mx"),
        ("nomail.prop", "dkim.not_needed_no_mail"),
        ("sub.docmx.prop", "dmarc.inherited_policy"),
        ("loop.prop", "dkim.cname_loop"),
    ],
)
def test_a_finding_that_proposes_no_record_quotes_none(domain: str, code: str) -> None:
    finding = _finding(_audit(ZONE, domain), code)
    assert finding.changes == ()
    assert not _QUOTED_RECORD.search(finding.remediation), finding.remediation


def _public_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


@pytest.mark.parametrize(
    ("domain", "code"),
    [("docmx.prop", "mx.documentation_address"), ("badkey.prop", "dkim.invalid_record")],
)
def test_a_proposed_record_pasted_literally_clears_its_finding(domain: str, code: str) -> None:
    # Given the finding and its typed changes, each placeholder filled in by the owner
    before = _audit(ZONE, domain)
    finding = _finding(before, code)
    assert finding.changes and all(code in c.fixes for c in finding.changes)
    assert not _QUOTED_RECORD.search(finding.remediation), finding.remediation
    owner = {
        # globally routable, no well-known service's; the zone is only read, never dialled
        "<your-public-ipv4>": "5.1.2.3",
        "<your-public-ipv6>": "2a0c:5bc0::25",
        "<base64 public key>": _public_key(),
    }
    filled = []
    for change in finding.changes:
        proposed = change.proposed or ""
        for placeholder in change.placeholders:
            proposed = proposed.replace(placeholder, owner[placeholder])
        filled.append(change.__class__(**{**change.__dict__, "proposed": proposed}))
    # When they are applied to the zone as written and the domain is audited again
    edit = apply_changes(ZONE, filled, zones=["prop"], origin="prop")
    assert len(edit.applied) == len(filled) and not edit.not_found, edit
    after = _audit(edit.text, domain)
    # Then the finding is gone and nothing new is reported
    codes_after = {f.code for f in after.findings}
    assert code not in codes_after
    assert codes_after <= {f.code for f in before.findings}, codes_after
