"""The mailbox providers' bulk-sender requirements, each mapped to the evidence we have.

Gmail and Yahoo (February 2024) and Microsoft's Outlook.com (May 2025) ask senders of bulk
mail for the same core: SPF and DKIM, a DMARC policy of at least p=none with alignment
possible, DKIM keys of at least 1024 bits, valid forward and reverse DNS, TLS, one-click
unsubscribe and a low spam rate. A DNS audit proves only part of this. Every item therefore
says where its evidence comes from:

- `dns`: this audit's records prove it now (met / not met / unknown when a check errored);
- `test_message`: only a message sent through the domain's real path shows it; marked
  `needs_test_message` until the tool can receive one;
- `provider_only`: no outside tool can observe it (the spam complaint rate lives in Google
  Postmaster Tools and Yahoo's Sender Hub); always `not_observable`, never passed.

Two items no provider requires follow (`providers` empty): MTA-STS in enforce mode and a
TLS-RPT record, which protect mail sent *to* the domain (`transport.py`). An MTA-STS
policy this run did not fetch (--no-probes, an address not probed) leaves its item unknown.
"""

from __future__ import annotations

from ..checks.dkim import DkimResult, DkimSelectorResult, DkimSelectorStatus
from ..checks.dmarc import DmarcResult
from ..checks.spf import SpfResult
from ..checks.starttls.result import StarttlsResult
from ..model import (
    CheckId,
    CheckOutcome,
    CheckStatus,
    DomainReport,
    DomainStatus,
    ErrorReason,
    sort_findings,
)
from .checklist_items import (
    ALL_PROVIDERS,
    GMAIL,
    MICROSOFT,
    PROVIDER_SOURCES,
    YAHOO,
    ChecklistItem,
    ChecklistState,
    EvidenceSource,
    ProviderChecklist,
)
from .checklist_items import dns_item as _dns_item
from .checklist_items import outcome_result as _result
from .checklist_items import unknown_evidence as _unknown
from .transport import transport_items

__all__ = [
    "ALL_PROVIDERS",
    "GMAIL",
    "MICROSOFT",
    "PROVIDER_SOURCES",
    "YAHOO",
    "ChecklistItem",
    "ChecklistState",
    "EvidenceSource",
    "ProviderChecklist",
    "provider_checklist",
    "transport_items",
]


def _usable_keys(dkim: DkimResult) -> list[DkimSelectorResult]:
    return [
        s
        for s in dkim.selectors
        if s.status is DkimSelectorStatus.KEY and s.error is None and not s.revoked
    ]


def _spf_verdict(spf: SpfResult | None, outcome: CheckOutcome | None) -> tuple[bool, str] | None:
    if spf is None or outcome is None:
        return None
    if spf.record is None:
        n = len(spf.records_found)
        return False, "no SPF record" if n == 0 else f"{n} SPF records published; only one counts"
    if spf.syntax_error:
        return False, f"SPF record does not parse: {spf.syntax_error}"
    if spf.dns_lookups > 10:
        return False, f"SPF needs {spf.dns_lookups} DNS lookups (limit 10): receivers fail it"
    if outcome.status is CheckStatus.FAIL and outcome.findings:
        worst = sort_findings(outcome.findings)[0]
        return False, f"SPF record published, but it fails: {worst.title}"
    return True, f"one valid SPF record, {spf.dns_lookups} of 10 DNS lookups"


def _dkim_verdict(dkim: DkimResult | None) -> tuple[bool, str] | None:
    if dkim is None:
        return None
    keys = _usable_keys(dkim)
    if not keys:
        probed = len(dkim.selectors_probed)
        return False, f"no usable DKIM key at the {probed} selectors probed"
    names = ", ".join(s.selector for s in keys)
    return True, f"DKIM key published at selector(s) {names}"


def _key_length_verdict(dkim: DkimResult | None) -> tuple[bool, str] | None:
    if dkim is None:
        return None
    rsa = [s for s in _usable_keys(dkim) if (s.key_type or "rsa") == "rsa" and s.key_bits]
    if not rsa:
        return False, "no RSA DKIM key found to measure"
    short = [s for s in rsa if (s.key_bits or 0) < 1024]
    sizes = ", ".join(f"{s.selector}: {s.key_bits} bits" for s in rsa)
    if short:
        return False, f"RSA key shorter than 1024 bits ({sizes})"
    return True, sizes


def _dmarc_verdict(dmarc: DmarcResult | None) -> tuple[bool, str] | None:
    if dmarc is None:
        return None
    if dmarc.record is None or dmarc.effective_policy is None:
        return False, "no DMARC record applies to this domain"
    where = dmarc.record_domain or ""
    return True, f"p={dmarc.effective_policy} applies (record at {where})"


def _alignment_verdict(
    dmarc: DmarcResult | None, spf: SpfResult | None, spf_ok: bool, dkim: DkimResult | None
) -> tuple[bool, str] | None:
    if dmarc is None or (spf is None and dkim is None):
        return None
    has_dmarc = dmarc.record is not None and dmarc.effective_policy is not None
    has_spf = spf_ok
    has_dkim = dkim is not None and bool(_usable_keys(dkim))
    if not has_dmarc:
        return False, "no valid DMARC record applies, so alignment is not evaluated"
    if not (has_spf or has_dkim):
        return False, "neither a working SPF record nor a DKIM key is published for this domain"
    how = " and ".join(x for x, ok in (("SPF", has_spf), ("DKIM", has_dkim)) if ok)
    return True, f"{how} published for the From: domain, so DMARC alignment is possible"


def _tls_verdict(outcome: CheckOutcome | None) -> tuple[bool, str] | None:
    """From the starttls check's facts: every MX address that could be tested completed a
    STARTTLS handshake. Not probed or not testable: no verdict."""
    if outcome is None or outcome.status in (CheckStatus.ERROR, CheckStatus.SKIPPED):
        return None
    if not isinstance(outcome.result, StarttlsResult):
        return None
    tested = with_tls = 0
    for host in outcome.result.hosts:
        for a in host.addresses:
            if a.probe is None and (
                a.error is None or a.error.reason is not ErrorReason.TLS_HANDSHAKE_FAILED
            ):
                continue
            tested += 1
            with_tls += a.probe is not None and a.probe.tls is not None
    if not tested:
        return None
    if with_tls == tested:
        return True, f"all {tested} MX address(es) tested accept mail over STARTTLS"
    return False, f"{tested - with_tls} of {tested} MX address(es) tested accept no STARTTLS"


def _tls_item(outcome: CheckOutcome | None) -> ChecklistItem:
    """Gmail asks for TLS in transmission; what an outside tool sees is the receiving half,
    the domain's own MX hosts (replies and bounces to it travel there)."""
    verdict = _tls_verdict(outcome)
    if verdict is None:
        state = ChecklistState.UNKNOWN
        if outcome is not None and outcome.status is CheckStatus.SKIPPED:
            evidence = f"MX not probed: {outcome.skip_reason or 'skipped'}"
        else:
            evidence = _unknown(outcome)
    else:
        state = ChecklistState.MET if verdict[0] else ChecklistState.NOT_MET
        evidence = verdict[1]
    return ChecklistItem(
        "tls",
        "Transmit mail over TLS",
        (GMAIL,),
        EvidenceSource.PROBE,
        state,
        evidence,
        ("RFC 3207",),
    )


# the items no DNS answer settles, the same for every domain (frozen: shared by all)
_MESSAGE_ITEMS = (
    ChecklistItem(
        "aligned_mail",
        "Messages pass SPF or DKIM aligned with the From: domain",
        ALL_PROVIDERS,
        EvidenceSource.TEST_MESSAGE,
        ChecklistState.NEEDS_TEST_MESSAGE,
        "DNS shows what could pass; only a received message shows what does",
        ("RFC 9989 §4.4",),
    ),
    ChecklistItem(
        "forward_reverse_dns",
        "Sending IP addresses have valid forward and reverse DNS",
        (GMAIL, YAHOO),
        EvidenceSource.TEST_MESSAGE,
        ChecklistState.NEEDS_TEST_MESSAGE,
        "the sending addresses are known only from a received message",
        ("RFC 8601 §3", "RFC 1912 §2.1"),
    ),
)
_OBSERVED_ELSEWHERE = (
    ChecklistItem(
        "message_format",
        "Messages follow the Internet Message Format",
        (GMAIL, YAHOO),
        EvidenceSource.TEST_MESSAGE,
        ChecklistState.NEEDS_TEST_MESSAGE,
        "needs a received message to inspect",
        ("RFC 5322",),
    ),
    ChecklistItem(
        "one_click_unsubscribe",
        "Marketing mail offers one-click unsubscribe (List-Unsubscribe-Post)",
        (GMAIL, YAHOO),
        EvidenceSource.TEST_MESSAGE,
        ChecklistState.NEEDS_TEST_MESSAGE,
        "headers of a marketing message are needed",
        ("RFC 8058", "RFC 2369"),
    ),
    ChecklistItem(
        "spam_rate",
        "Spam complaint rate below 0.3% (aim for under 0.1%)",
        (GMAIL, YAHOO),
        EvidenceSource.PROVIDER_ONLY,
        ChecklistState.NOT_OBSERVABLE,
        "no outside tool can observe it: see Google Postmaster Tools and Yahoo Sender Hub",
        (),
    ),
)


def provider_checklist(report: DomainReport) -> ProviderChecklist:
    """Map the audit's evidence onto the providers' requirements (see the module docstring)."""
    if report.status is DomainStatus.INVALID:
        return ProviderChecklist(items=(), met=0, not_met=0, open=0)
    spf_o, spf = _result(report, CheckId.SPF)
    dkim_o, dkim = _result(report, CheckId.DKIM)
    dmarc_o, dmarc = _result(report, CheckId.DMARC)
    spf_r = spf if isinstance(spf, SpfResult) else None
    dkim_r = dkim if isinstance(dkim, DkimResult) else None
    dmarc_r = dmarc if isinstance(dmarc, DmarcResult) else None
    alignment_source = dmarc_o if dmarc_r is None else spf_o
    spf_verdict = _spf_verdict(spf_r, spf_o)
    items = [
        _dns_item(
            "spf",
            "Publish an SPF record for the sending domain",
            ALL_PROVIDERS,
            ("RFC 7208",),
            spf_verdict,
            spf_o,
        ),
        _dns_item(
            "dkim",
            "Sign with DKIM: publish the public key",
            ALL_PROVIDERS,
            ("RFC 6376",),
            _dkim_verdict(dkim_r),
            dkim_o,
        ),
        _dns_item(
            "dkim_key_length",
            "DKIM key of at least 1024 bits (2048 recommended)",
            (GMAIL, YAHOO),
            ("RFC 8301 §3.2",),
            _key_length_verdict(dkim_r),
            dkim_o,
        ),
        _dns_item(
            "dmarc",
            "Publish a DMARC policy, at least p=none",
            ALL_PROVIDERS,
            ("RFC 9989",),
            _dmarc_verdict(dmarc_r),
            dmarc_o,
        ),
        _dns_item(
            "dmarc_alignment_possible",
            "From: domain can align with SPF or DKIM",
            ALL_PROVIDERS,
            ("RFC 9989 §4.4",),
            _alignment_verdict(dmarc_r, spf_r, bool(spf_verdict and spf_verdict[0]), dkim_r),
            alignment_source,
        ),
        *_MESSAGE_ITEMS,
        _tls_item(report.checks.get(CheckId.STARTTLS)),
        *_OBSERVED_ELSEWHERE,
    ]
    items += transport_items(report)
    met = not_met = 0
    for i in items:
        if i.state is ChecklistState.MET:
            met += 1
        elif i.state is ChecklistState.NOT_MET:
            not_met += 1
    return ProviderChecklist(
        items=tuple(items), met=met, not_met=not_met, open=len(items) - met - not_met
    )
