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
TLS-RPT record, which protect mail sent *to* the domain (`transport_items`). An MTA-STS
policy this run did not fetch (--no-probes, an address not probed) leaves its item unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from ..checks.dkim import DkimResult, DkimSelectorResult, DkimSelectorStatus
from ..checks.dmarc import DmarcResult
from ..checks.spf import SpfResult
from ..model import (
    CheckId,
    CheckOutcome,
    CheckStatus,
    DomainReport,
    DomainStatus,
    sort_findings,
)

GMAIL, YAHOO, MICROSOFT = "Gmail", "Yahoo", "Microsoft"
ALL_PROVIDERS = (GMAIL, YAHOO, MICROSOFT)
PROVIDER_SOURCES: tuple[str, ...] = (
    "Gmail: Email sender guidelines, https://support.google.com/a/answer/81126",
    "Yahoo: Sender best practices, https://senders.yahooinc.com/best-practices/",
    "Microsoft: Outlook.com requirements for high-volume senders (enforced from May 2025)",
)


class EvidenceSource(StrEnum):
    DNS = "dns"  # proved (or disproved) by the records this audit read
    TEST_MESSAGE = "test_message"  # needs a message sent through the domain's real mail path
    PROVIDER_ONLY = "provider_only"  # only the mailbox provider can see it
    PROBE = "probe"  # proved (or disproved) by connecting to the domain's servers (STARTTLS)


class ChecklistState(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"  # the DNS check it depends on errored or was skipped
    NEEDS_TEST_MESSAGE = "needs_test_message"
    NOT_OBSERVABLE = "not_observable"


@dataclass(frozen=True)
class ChecklistItem:
    """One provider requirement and what the audit can say about it."""

    id: str  # stable: "spf", "dkim_key_length", "spam_rate", ...
    requirement: str  # one line, as the providers state it
    providers: tuple[str, ...]  # who requires it of bulk senders: "Gmail", "Yahoo", "Microsoft"
    source: EvidenceSource
    state: ChecklistState
    evidence: str  # what was seen, or why it cannot be seen from here
    references: tuple[str, ...]


@dataclass(frozen=True)
class ProviderChecklist:
    """Gmail/Yahoo/Microsoft bulk-sender requirements for one domain."""

    items: tuple[ChecklistItem, ...]
    met: int  # items proved by DNS
    not_met: int  # items DNS proves are not met
    open: int  # items DNS cannot settle: unknown, needs_test_message or not_observable


def _result(report: DomainReport, cid: CheckId) -> tuple[CheckOutcome | None, object | None]:
    outcome = report.checks.get(cid)
    if outcome is None or outcome.status in (CheckStatus.ERROR, CheckStatus.SKIPPED):
        return outcome, None
    return outcome, outcome.result


def _unknown(outcome: CheckOutcome | None) -> str:
    if outcome is None or outcome.status is CheckStatus.SKIPPED:
        return "not checked in this run"
    message = outcome.error.message if outcome.error else "error"
    # engine messages already say "could not check: ..."; say it once
    prefix = "could not check:"
    if message.lower().startswith(prefix):
        message = message[len(prefix) :].lstrip()
    return f"{prefix} {message}"


def _usable_keys(dkim: DkimResult) -> list[DkimSelectorResult]:
    return [
        s
        for s in dkim.selectors
        if s.status is DkimSelectorStatus.KEY and s.error is None and not s.revoked
    ]


def _dns_item(
    id_: str,
    requirement: str,
    providers: tuple[str, ...],
    references: tuple[str, ...],
    verdict: tuple[bool, str] | None,
    outcome: CheckOutcome | None,
) -> ChecklistItem:
    if verdict is None:
        state, evidence = ChecklistState.UNKNOWN, _unknown(outcome)
    else:
        ok, evidence = verdict
        state = ChecklistState.MET if ok else ChecklistState.NOT_MET
    source = EvidenceSource.DNS
    return ChecklistItem(id_, requirement, providers, source, state, evidence, references)


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
    """From the starttls check's facts (read by field name): every MX address that could be
    tested completed a STARTTLS handshake. Not probed or not testable: no verdict."""
    if outcome is None or outcome.status in (CheckStatus.ERROR, CheckStatus.SKIPPED):
        return None
    tested = with_tls = 0
    for host in getattr(outcome.result, "hosts", ()) or ():
        for a in host.addresses:
            if a.probe is None and a.error is None:
                continue
            if a.probe is None and getattr(a.error, "reason", None) != "tls_handshake_failed":
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
        _tls_item(report.checks.get(CheckId.STARTTLS)),
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
    ]
    items += transport_items(report)
    met = sum(i.state is ChecklistState.MET for i in items)
    not_met = sum(i.state is ChecklistState.NOT_MET for i in items)
    return ProviderChecklist(
        items=tuple(items), met=met, not_met=not_met, open=len(items) - met - not_met
    )


# Transport security: no mailbox provider requires these of bulk senders (hence no
# providers), but they decide whether mail *to* the domain can be forged or intercepted.
# Results are read by field name: the report layer does not import the checks' internals.


def _dnssec_verdict(result: object) -> tuple[bool, str] | None:
    names = list(getattr(result, "names", ()) or ())
    if not names:
        return None
    verdicts = [(str(getattr(n, "name", "")), str(getattr(n, "verdict", ""))) for n in names]
    bad = [f"{name} {verdict}" for name, verdict in verdicts if verdict != "secure"]
    if bad:
        return False, "not secure: " + ", ".join(bad)
    return True, "secure: " + ", ".join(name for name, _ in verdicts)


def _dane_verdict(outcome: CheckOutcome) -> tuple[bool, str] | None:
    codes = {f.code for f in outcome.findings}
    if codes & {"dane.tlsa_bogus", "dane.no_match", "dane.no_tls"}:
        worst = sort_findings(outcome.findings)[0]
        return False, worst.title
    if "dane.chain_not_checked" in codes:
        return None
    if "dane.authenticated" in codes and not codes & {"dane.tlsa_insecure", "dane.mx_insecure"}:
        return True, "TLSA records match the certificates the MX hosts present"
    if "dane.not_deployed" in codes:
        return False, "no TLSA record at any MX host"
    return False, "TLSA records published, but DANE senders cannot use them"


def _dnssec_dane_items(report: DomainReport) -> list[ChecklistItem]:
    """DNSSEC and DANE; "not checked in this run" when their checks did not run, so every
    domain's checklist has the same ids."""
    dnssec_o, dnssec = _result(report, CheckId.DNSSEC)
    dane_o, dane = _result(report, CheckId.DANE)
    dane_verdict = None if dane_o is None or dane is None else _dane_verdict(dane_o)
    requirement = "MX TLS certificates are pinned with DANE TLSA records"
    dane_item = _dns_item("dane", requirement, (), ("RFC 7672",), dane_verdict, dane_o)
    if dane_verdict is None and dane is not None:
        dane_item = replace(
            dane_item, evidence="could not check: the MX could not be probed to match its TLSA"
        )
    return [
        _dns_item(
            "dnssec",
            "DNS answers for the domain and its MX hosts validate with DNSSEC",
            (),
            ("RFC 4035", "RFC 7672 §2.2"),
            None if dnssec is None else _dnssec_verdict(dnssec),
            dnssec_o,
        ),
        dane_item,
    ]


_RECOMMENDED = "(recommended; no provider requires it)"


def _mta_sts_verdict(result: object, outcome: CheckOutcome | None) -> tuple[bool, str] | None:
    """Read by attribute (report/ sees checks only through the registry)."""
    if result is None or outcome is None:
        return None
    if not getattr(result, "records_found", ()):
        return False, "no MTA-STS record"
    if getattr(result, "record", None) is None:
        return False, f"MTA-STS record invalid: {getattr(result, 'syntax_error', '')}"
    fetch = getattr(result, "policy", None)
    state = str(getattr(getattr(fetch, "state", None), "value", ""))
    if fetch is None or state in ("not_probed", "skipped") or getattr(fetch, "parser_limit", None):
        return None
    policy = getattr(fetch, "policy", None)
    if policy is None:
        return False, f"MTA-STS policy not usable: {getattr(fetch, 'reason', '')}"
    mode = str(getattr(policy.mode, "value", policy.mode))
    if mode != "enforce":
        return False, f"MTA-STS policy in mode {mode}: senders do not require TLS"
    broken = [f.title for f in outcome.findings if f.severity.rank >= 3]
    if broken:
        return False, f"MTA-STS in enforce mode, but: {broken[0]}"
    return True, "MTA-STS policy in enforce mode covering every MX host"


def _tls_rpt_verdict(result: object) -> tuple[bool, str] | None:
    if result is None:
        return None
    record = getattr(result, "record", None)
    if record is None:
        found = getattr(result, "records_found", ())
        return False, "no valid TLS-RPT record" if found else "no TLS-RPT record"
    rua = getattr(record, "supported_rua", ())
    if not rua:
        return False, "TLS-RPT record names no mailto: or https: destination"
    return True, "TLS reports go to " + ", ".join(u.uri for u in rua)


def transport_items(report: DomainReport) -> list[ChecklistItem]:
    """Inbound transport security: what MTA-STS and TLS-RPT show (no provider asks them of
    bulk senders; they protect mail *to* the domain)."""
    sts_o, sts = _result(report, CheckId.MTA_STS)
    rpt_o, rpt = _result(report, CheckId.TLS_RPT)
    requirement = f"Mail to the domain requires TLS: MTA-STS in enforce mode {_RECOMMENDED}"
    sts_verdict = _mta_sts_verdict(sts, sts_o)
    fetch = getattr(sts, "policy", None)
    if sts_verdict is None and fetch is not None:
        # the policy was not fetched (or judged) in this run: unknown, with the reason
        reason = getattr(fetch, "reason", None) or "policy not fetched"
        item = ChecklistItem(
            "mta_sts",
            requirement,
            (),
            EvidenceSource.DNS,
            ChecklistState.UNKNOWN,
            f"MTA-STS policy not checked: {reason}",
            ("RFC 8461",),
        )
    else:
        item = _dns_item("mta_sts", requirement, (), ("RFC 8461",), sts_verdict, sts_o)
    return [
        item,
        _dns_item(
            "tls_rpt",
            f"TLS failures are reported: a TLS-RPT record {_RECOMMENDED}",
            (),
            ("RFC 8460",),
            _tls_rpt_verdict(rpt),
            rpt_o,
        ),
        *_dnssec_dane_items(report),
    ]
