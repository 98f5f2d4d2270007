"""Renderers read a finding's typed changes: "replace X with Y", never a bare line to append."""

from __future__ import annotations

from mailauth_audit.changes import ChangeAction, RecordChange
from mailauth_audit.model import (
    AuditRun,
    CheckId,
    CheckOutcome,
    CheckStatus,
    DomainReport,
    DomainStatus,
    Finding,
    Severity,
)
from mailauth_audit.report.changes import finding_blocks
from mailauth_audit.report.renderers import RENDERERS, OutputFormat

CHANGE = RecordChange(
    ChangeAction.REPLACE,
    "_dmarc.example.com",
    "TXT",
    300,
    current="v=DMARC1; p=none; fo=1",
    proposed="v=DMARC1; p=quarantine; fo=1",
    fixes=("dmarc.policy_none",),
)
FINDING = Finding(
    "dmarc.policy_none",
    Severity.MEDIUM,
    CheckId.DMARC,
    "DMARC policy is none",
    "detail",
    # the prose quotes the proposal with the default TTL: found by string comparison
    'Move to enforcement:\n_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=quarantine; fo=1"\n'
    "then reject.",
    changes=(CHANGE,),
)


def _run() -> AuditRun:
    outcome = CheckOutcome(CheckId.DMARC, CheckStatus.WARN, None, (FINDING,))
    report = DomainReport("example.com", DomainStatus.COMPLETED, {CheckId.DMARC: outcome})
    return AuditRun("", "", (report,))


def test_the_change_takes_the_place_of_the_quoted_record() -> None:
    blocks = finding_blocks(FINDING)
    assert [b.kind for b in blocks] == ["text", "change", "text"]
    change = blocks[1]
    assert change.summary == "Replace the TXT record at _dmarc.example.com"
    assert change.current == '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=none; fo=1"'
    assert change.proposed == '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=quarantine; fo=1"'
    assert "".join(t for _, t in blocks[2].parts) == "Then reject."


def test_text_and_html_show_replace_with() -> None:
    text = RENDERERS[OutputFormat.TEXT]().render(_run())
    assert 'replace  _dmarc.example.com. 300 IN TXT "v=DMARC1; p=none; fo=1"' in text
    assert 'with  _dmarc.example.com. 300 IN TXT "v=DMARC1; p=quarantine; fo=1"' in text
    assert "fix: _dmarc.example.com. 3600" not in text  # the change quotes it instead
    html = RENDERERS[OutputFormat.HTML]().render(_run())
    assert "Replace the TXT record at _dmarc.example.com" in html
    assert html.count('<pre class="zone') == 2  # current and proposed, once each
