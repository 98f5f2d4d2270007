"""Whole-message verification: SPF for the delivery, DMARC alignment and disposition,
hygiene, malformed input, the Authentication-Results header, and the JSON/HTML reports."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import spf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from verify_helpers import (
    CLIENT_IP,
    DOMAIN,
    key_zone_line,
    message,
    rsa_key,
    sign,
    zone,
)

from mailauth_audit.errors import DnsTimeout
from mailauth_audit.messages.alignment import aligned, disposition
from mailauth_audit.messages.model import (
    AuthResult,
    DmarcDisposition,
    Envelope,
    EnvelopeSource,
    MessageReport,
)
from mailauth_audit.messages.verify import VerifyOptions, read_message, verify_message_sync
from mailauth_audit.model import CheckStatus
from mailauth_audit.report.message import (
    MessageFormat,
    message_report_to_json,
    render_message,
)
from mailauth_audit.report.message_schema import build_message_schema, committed_message_schema
from mailauth_audit.resolver.static import StaticResolver

SPF_OK = f'@ 300 IN TXT "v=spf1 ip4:{CLIENT_IP} -all"'
BOUNCE = f"bounce@{DOMAIN}"


def envelope(ip: str = CLIENT_IP, mail_from: str | None = BOUNCE, helo: str | None = None):
    return Envelope(ip, helo or f"mail.{DOMAIN}", mail_from, EnvelopeSource.GIVEN)


def run(raw: bytes, *lines: str, env: Envelope | None = None, **kw: object) -> MessageReport:
    report = verify_message_sync(raw, StaticResolver(zone(*lines), **kw), env)  # type: ignore[arg-type]
    jsonschema.validate(message_report_to_json(report), committed_message_schema())
    return report


def codes(report: MessageReport) -> set[str]:
    return {f.code for f in report.findings}


def signed() -> bytes:
    return sign(message(), rsa_key())


# --- SPF ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "ip", "result", "code"),
    [
        (SPF_OK, CLIENT_IP, AuthResult.PASS, None),
        (SPF_OK, "198.51.100.9", AuthResult.FAIL, "spf_auth.fail"),
        ('@ 300 IN TXT "v=spf1 ~all"', CLIENT_IP, AuthResult.SOFTFAIL, "spf_auth.softfail"),
        ('@ 300 IN TXT "v=spf1 ?all"', CLIENT_IP, AuthResult.NEUTRAL, "spf_auth.neutral"),
        ('@ 300 IN TXT "not spf"', CLIENT_IP, AuthResult.NONE, "spf_auth.none"),
        (
            '@ 300 IN TXT "v=spf1 inclde:x.example -all"',
            CLIENT_IP,
            AuthResult.PERMERROR,
            "spf_auth.permerror",
        ),
        (
            f'@ 300 IN TXT "v=spf1 a:mail.{DOMAIN} -all"\nmail 300 IN A {CLIENT_IP}',
            CLIENT_IP,
            AuthResult.PASS,
            None,
        ),
        (
            f'@ 300 IN TXT "v=spf1 mx -all"\n@ 300 IN MX 10 mx1\nmx1 300 IN A {CLIENT_IP}',
            CLIENT_IP,
            AuthResult.PASS,
            None,
        ),
    ],
)
def test_spf_mail_from(record: str, ip: str, result: AuthResult, code: str | None) -> None:
    report = run(signed(), key_zone_line(rsa_key()), record, env=envelope(ip))
    assert report.spf is not None and report.spf.mail_from is not None
    assert report.spf.mail_from.result is result
    assert report.spf.mail_from.domain == DOMAIN
    spf_codes = {c for c in codes(report) if c.startswith("spf_auth.")}
    assert spf_codes == ({code} if code else set())


def test_spf_dns_timeout_is_temperror() -> None:
    report = run(signed(), key_zone_line(rsa_key()), env=envelope(), faults={DOMAIN: DnsTimeout})
    assert report.spf is not None and report.spf.mail_from is not None
    assert report.spf.mail_from.result is AuthResult.TEMPERROR


def test_spf_null_sender_uses_helo() -> None:
    lines = (f'mail 300 IN TXT "v=spf1 ip4:{CLIENT_IP} -all"', key_zone_line(rsa_key()))
    report = run(signed(), *lines, env=envelope(mail_from=""))
    assert report.spf is not None and report.spf.mail_from is not None
    assert report.spf.mail_from.sender == f"postmaster@mail.{DOMAIN}"
    assert report.spf.mail_from.result is AuthResult.PASS


def test_envelope_from_topmost_received_header() -> None:
    # Given a message whose receiving server recorded the client; a lower, forged header lies
    raw = message(
        extra=(
            f"Return-Path: <{BOUNCE}>",
            f"Received: from mail.{DOMAIN} (mail.{DOMAIN} [{CLIENT_IP}]) by mx.receiver.example "
            "with ESMTPS; Wed, 25 Nov 2026 10:00:01 +0000",
            "Received: from forged.example ([203.0.113.66]) by mail.sender.example",
        )
    )
    report = run(raw, SPF_OK)
    assert report.envelope.source is EnvelopeSource.RECEIVED_HEADER
    assert (report.envelope.client_ip, report.envelope.helo) == (CLIENT_IP, f"mail.{DOMAIN}")
    assert report.spf is not None and report.spf.mail_from is not None
    assert report.spf.mail_from.result is AuthResult.PASS


def test_no_client_ip_means_spf_not_checked() -> None:
    report = run(signed(), key_zone_line(rsa_key()), SPF_OK)
    assert report.spf is not None and report.spf.not_checked_reason
    assert "spf_auth.not_checked" in codes(report)


def test_pyspf_lookup_is_restored_outside_verification() -> None:
    # After a verification, pyspf's module-level lookup routes to the original function
    run(signed(), key_zone_line(rsa_key()), SPF_OK, env=envelope())
    from mailauth_audit.messages import spf_eval

    assert spf_eval._LOOKUP.get() is None
    assert spf.DNSLookup is spf_eval._dispatch  # the dispatcher, which falls back when unset


# --- DMARC ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dmarc", "sig_domain", "spf_ip", "result", "disp", "code"),
    [
        ("p=reject", DOMAIN, CLIENT_IP, AuthResult.PASS, DmarcDisposition.NONE, None),
        # DKIM alone, aligned
        ("p=reject", DOMAIN, "198.51.100.9", AuthResult.PASS, DmarcDisposition.NONE, None),
        # DKIM from a subdomain: relaxed aligns, strict does not; SPF fails too
        (
            "p=reject",
            f"news.{DOMAIN}",
            "198.51.100.9",
            AuthResult.PASS,
            DmarcDisposition.NONE,
            None,
        ),
        (
            "p=reject; adkim=s",
            f"news.{DOMAIN}",
            "198.51.100.9",
            AuthResult.FAIL,
            DmarcDisposition.REJECT,
            "dmarc_auth.fail",
        ),
        (
            "p=quarantine",
            "other.example",
            "198.51.100.9",
            AuthResult.FAIL,
            DmarcDisposition.QUARANTINE,
            "dmarc_auth.fail",
        ),
        (
            "p=reject; t=y",
            "other.example",
            "198.51.100.9",
            AuthResult.FAIL,
            DmarcDisposition.QUARANTINE,
            "dmarc_auth.fail",
        ),
        (
            "p=none",
            "other.example",
            "198.51.100.9",
            AuthResult.FAIL,
            DmarcDisposition.NONE,
            "dmarc_auth.fail",
        ),
        (None, DOMAIN, CLIENT_IP, AuthResult.NONE, DmarcDisposition.NONE, "dmarc_auth.none"),
    ],
)
def test_dmarc(
    dmarc: str | None,
    sig_domain: str,
    spf_ip: str,
    result: AuthResult,
    disp: DmarcDisposition,
    code: str | None,
) -> None:
    raw = sign(message(), rsa_key(), domain=sig_domain)
    lines = [SPF_OK]
    if dmarc:
        lines.append(f'_dmarc 300 IN TXT "v=DMARC1; {dmarc}"')
    if sig_domain == "other.example":  # a second zone, after this domain's own records
        lines.append(zone(key_zone_line(rsa_key(), "other.example"), domain="other.example"))
    else:
        lines.append(key_zone_line(rsa_key(), sig_domain))
    report = run(raw, *lines, env=envelope(spf_ip))
    d = report.dmarc
    assert d is not None
    assert (d.result, d.disposition) == (result, disp)
    assert d.from_domain == DOMAIN
    dmarc_codes = {c for c in codes(report) if c in ("dmarc_auth.fail", "dmarc_auth.none")}
    assert dmarc_codes == ({code} if code else set())
    assert f"dmarc={result.value}" in report.authentication_results


def test_dmarc_fail_with_reject_is_critical() -> None:
    raw = sign(message(), rsa_key(), domain="other.example")
    z = zone(SPF_OK, '_dmarc 300 IN TXT "v=DMARC1; p=reject"') + zone(
        key_zone_line(rsa_key(), "other.example"), domain="other.example"
    )
    report = verify_message_sync(raw, StaticResolver(z), envelope("198.51.100.9"))
    fail = next(f for f in report.findings if f.code == "dmarc_auth.fail")
    assert fail.severity.value == "critical"
    assert "dmarc_auth.dkim_not_aligned" in codes(report)
    assert report.status is CheckStatus.FAIL


def test_dmarc_spf_alignment_relaxed_and_strict() -> None:
    lines = (f'bounces 300 IN TXT "v=spf1 ip4:{CLIENT_IP} -all"',)
    env = envelope(mail_from=f"x@bounces.{DOMAIN}")
    relaxed = run(message(), *lines, '_dmarc 300 IN TXT "v=DMARC1; p=reject"', env=env)
    strict = run(message(), *lines, '_dmarc 300 IN TXT "v=DMARC1; p=reject; aspf=s"', env=env)
    assert relaxed.dmarc is not None and strict.dmarc is not None
    assert (relaxed.dmarc.spf_aligned, relaxed.dmarc.result) == (True, AuthResult.PASS)
    assert (strict.dmarc.spf_aligned, strict.dmarc.result) == (False, AuthResult.FAIL)
    assert strict.dmarc.spf_domain == f"bounces.{DOMAIN}"
    assert "dmarc_auth.spf_not_aligned" in codes(strict)


def test_dmarc_temperror() -> None:
    report = run(signed(), key_zone_line(rsa_key()), faults={f"_dmarc.{DOMAIN}": DnsTimeout})
    assert report.dmarc is not None and report.dmarc.result is AuthResult.TEMPERROR
    assert "dmarc_auth.temperror" in codes(report)


@pytest.mark.parametrize(
    ("a", "b", "mode", "expected"),
    [
        ("example.com", "example.com", "s", True),
        ("mail.example.com", "example.com", "s", False),
        ("mail.example.com", "example.com", "r", True),
        ("example.co.uk", "other.co.uk", "r", False),
        ("a.example.co.uk", "b.example.co.uk", "r", True),
        ("EXAMPLE.com.", "example.com", "s", True),
        ("", "example.com", "r", False),
    ],
)
def test_aligned(a: str, b: str, mode: str, expected: bool) -> None:
    assert aligned(a, b, mode) is expected


@pytest.mark.parametrize(
    ("result", "policy", "testing", "expected"),
    [
        (AuthResult.PASS, "reject", False, DmarcDisposition.NONE),
        (AuthResult.FAIL, "reject", False, DmarcDisposition.REJECT),
        (AuthResult.FAIL, "reject", True, DmarcDisposition.QUARANTINE),
        (AuthResult.FAIL, "quarantine", True, DmarcDisposition.NONE),
        (AuthResult.FAIL, None, False, DmarcDisposition.NONE),
        (AuthResult.TEMPERROR, "reject", False, DmarcDisposition.NONE),
    ],
)
def test_disposition(result: AuthResult, policy: str | None, testing: bool, expected) -> None:
    assert disposition(result, policy, testing) is expected


# --- hygiene and malformed messages ---------------------------------------------------------

MALFORMED = {
    "no_from": (message(from_header=None), {"message.no_from", "dmarc_auth.not_checked"}),
    "two_from_headers": (message(extra=(f"From: other@{DOMAIN}",)), {"message.multiple_from"}),
    "two_addresses": (
        message(from_header=f"a@{DOMAIN}, b@other.example"),
        {"message.multiple_from"},
    ),
    "no_domain": (message(from_header="alerts"), {"message.from_without_domain"}),
    "no_date": (message(date=None), {"message.missing_date"}),
    "bad_date": (message(date="yesterday"), {"message.invalid_date"}),
    "no_message_id": (message(message_id=None), {"message.missing_message_id"}),
    "bad_message_id": (message(message_id="abc"), {"message.invalid_message_id"}),
    "duplicate_subject": (message(extra=("Subject: again",)), {"message.duplicate_header"}),
    "broken_mime": (
        message().replace(
            b"Content-Type: text/plain; charset=us-ascii",
            b'Content-Type: multipart/mixed; boundary="zz"',
        ),
        {"message.mime_defect"},
    ),
    "eight_bit_junk_header": (
        b"X-Junk: \xff\xfe\x80 caf\xc3\xa9\r\n" + message(),
        {"message.non_ascii_header"},
    ),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_messages_give_findings(case: str) -> None:
    raw, expected = MALFORMED[case]
    report = run(raw, SPF_OK, env=envelope())
    assert expected <= codes(report)


def test_header_line_without_colon_is_unparsable_not_an_exception() -> None:
    raw = b"From: a@sender.example\r\nthis is not a header\r\n\r\nbody\r\n"
    report = run(raw)
    assert report.parsed is False
    assert codes(report) == {"message.unparsable"}


def test_empty_message() -> None:
    report = run(b"")
    assert "message.no_from" in codes(report)


def test_size_limit(tmp_path: Path) -> None:
    # Given a 30 MB message file (sparse: it costs no disk), and the default 10 MiB limit
    path = tmp_path / "big.eml"
    with path.open("wb") as fh:
        fh.write(message())
        fh.truncate(30 * 1024 * 1024)
    raw, size = read_message(path)
    assert size == 30 * 1024 * 1024 and len(raw) == VerifyOptions().max_size + 1
    report = verify_message_sync(raw, StaticResolver(zone()), size=size)
    assert report.too_large and codes(report) == {"message.too_large"}
    assert report.dkim == () and report.dmarc is None
    jsonschema.validate(message_report_to_json(report), committed_message_schema())


def test_one_click_unsubscribe_signed_and_unsigned() -> None:
    extra = (
        "List-Unsubscribe: <https://sender.example/u?t=1>, <mailto:u@sender.example>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    )
    heads = ("from", "subject", "date", "list-unsubscribe", "list-unsubscribe-post")
    covered = sign(message(extra=extra), rsa_key(), headers=heads)
    uncovered = sign(message(extra=extra), rsa_key(), headers=heads[:3])
    z = (key_zone_line(rsa_key()),)
    good, bad = run(covered, *z), run(uncovered, *z)
    assert good.hygiene is not None and good.hygiene.one_click and good.hygiene.unsubscribe_signed
    assert not {"message.unsubscribe_not_signed", "message.no_one_click_unsubscribe"} & codes(good)
    assert "message.unsubscribe_not_signed" in codes(bad)
    assert "message.no_one_click_unsubscribe" in codes(run(signed(), *z))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600) | st.text(max_size=400).map(lambda t: t.encode("utf-8")))
def test_any_bytes_give_a_report_never_an_exception(raw: bytes) -> None:
    report = verify_message_sync(raw, StaticResolver(zone(SPF_OK)), envelope())
    assert report.status in set(CheckStatus)
    render_message(report, MessageFormat.HTML)
    render_message(report, MessageFormat.TEXT)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=1, max_size=300))
def test_signed_message_with_arbitrary_signature_field(junk: bytes) -> None:
    raw = b"DKIM-Signature: " + junk.replace(b"\r", b"").replace(b"\n", b" ") + b"\r\n" + signed()
    report = verify_message_sync(raw, StaticResolver(zone(key_zone_line(rsa_key()))))
    if report.parsed:
        assert report.dkim[-1].result is AuthResult.PASS  # the real one still verifies


# --- Authentication-Results and reports ------------------------------------------------------


def test_authentication_results_header() -> None:
    report = run(
        signed(),
        key_zone_line(rsa_key()),
        SPF_OK,
        '_dmarc 300 IN TXT "v=DMARC1; p=reject"',
        env=envelope(),
    )
    ar = report.authentication_results
    assert ar.startswith("Authentication-Results: mailauth-audit;\r\n\t")
    assert f"dkim=pass (2048-bit key) header.d={DOMAIN}" in ar
    assert "spf=pass" in ar and f"smtp.mailfrom={BOUNCE}" in ar
    assert f"dmarc=pass (p=REJECT dis=NONE) header.from={DOMAIN}" in ar


def test_hostile_values_cannot_inject_results() -> None:
    # Given a signature result whose d= and reason try to close the comment and add a result
    from mailauth_audit.messages.authresults import authentication_results
    from mailauth_audit.messages.model import BodyHashResult, DkimSignatureResult

    sig = DkimSignatureResult(
        index=0,
        result=AuthResult.FAIL,
        reason="x) ; dkim=pass (",
        domain="a.example; dkim=pass",
        selector="s\r\n",
        algorithm="rsa-sha256",
        canonicalization=None,
        identity=None,
        signed_headers=(),
        body_length=None,
        timestamp=None,
        expiration=None,
        key_record_name=None,
        key_record=None,
        key_type=None,
        key_bits=None,
        body_hash=BodyHashResult.NOT_CHECKED,
        covers_from=False,
        header_b=None,
    )
    ar = authentication_results("mx.example", (sig,), None, None, None)
    # Then the value is quoted and the comment escaped: one resinfo, and it says fail
    assert 'header.d="a.example; dkim=pass"' in ar
    assert "(x\\) ; dkim=pass \\()" in ar
    assert ar.splitlines()[1].lstrip().startswith("dkim=fail")
    assert len(ar.split("\r\n")) == 2


def test_committed_message_schema_is_current() -> None:
    assert committed_message_schema() == json.loads(json.dumps(build_message_schema()))


def test_html_report_escapes_hostile_headers() -> None:
    raw = message(subject="<script>alert(1)</script>")
    html = render_message(run(raw), MessageFormat.HTML)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
