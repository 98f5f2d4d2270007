"""Message reports (`verify` / `receive`) lead with the DMARC verdict a receiver would reach:
pass, fail or none, with the problems below it; an unsigned message is never shown as a
success, and the page's footer does not speak of a grade it does not have."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "messages"))

from verify_helpers import CLIENT_IP, DOMAIN, message, zone

from mailauth_audit.messages.model import Envelope, EnvelopeSource, MessageReport
from mailauth_audit.messages.verify import verify_message_sync
from mailauth_audit.report.message import MessageFormat, render_message
from mailauth_audit.resolver.static import StaticResolver

SPF_OK = f'@ 300 IN TXT "v=spf1 ip4:{CLIENT_IP} -all"'


def verify(*lines: str, ip: str = CLIENT_IP) -> MessageReport:
    env = Envelope(ip, f"mail.{DOMAIN}", f"bounce@{DOMAIN}", EnvelopeSource.GIVEN)
    return verify_message_sync(message(), StaticResolver(zone(*lines)), env)


@pytest.mark.parametrize(
    ("lines", "ip", "first_line"),
    [
        (
            (SPF_OK, '_dmarc 300 IN TXT "v=DMARC1; p=reject"'),
            CLIENT_IP,
            "DMARC pass for sender.example: aligned SPF; a receiver delivers it",
        ),
        (
            (SPF_OK, '_dmarc 300 IN TXT "v=DMARC1; p=reject"'),
            "198.51.100.9",
            "DMARC fail for sender.example: neither SPF nor DKIM aligned; a receiver rejects it",
        ),
        (
            (SPF_OK,),
            CLIENT_IP,
            "DMARC none for sender.example: no policy published, none for a receiver to apply",
        ),
    ],
    ids=["pass", "fail", "none"],
)
def test_text_headline_is_the_dmarc_verdict(
    lines: tuple[str, ...], ip: str, first_line: str
) -> None:
    text = render_message(verify(*lines, ip=ip), MessageFormat.TEXT)
    out = text.splitlines()
    assert out[0] == first_line
    assert out[1].startswith("  problems: ")
    assert "dkim: none (no DKIM-Signature header: the message is unsigned)" in text


def test_html_headline_unsigned_and_footer() -> None:
    report = verify(SPF_OK, '_dmarc 300 IN TXT "v=DMARC1; p=quarantine"', ip="198.51.100.9")
    page = render_message(report, MessageFormat.HTML)
    assert '<h1 id="msg-title">DMARC <span class="status status-fail">fail</span></h1>' in page
    assert "a receiver quarantines it (spam folder)" in page
    # "No DKIM-Signature header" is not styled as a success (class "none" is the green line)
    assert '<p class="none">No DKIM-Signature header' not in page
    assert '<span class="status status-fail">unsigned</span> No DKIM-Signature header' in page
    assert "Grade" not in page.split('<footer class="site">')[1]
