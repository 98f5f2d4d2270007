"""Inbound transport security on the checklist: MTA-STS, TLS-RPT, DNSSEC and DANE. No
mailbox provider requires these of bulk senders (hence no providers), but they decide
whether mail *to* the domain can be forged or intercepted. Results are read through each
check's typed `result` module (the contract other layers may read), never its internals."""

from __future__ import annotations

from dataclasses import replace

from ..checks.dnssec.result import DnssecResult, DnssecVerdict
from ..checks.mta_sts.result import MtaStsResult, PolicyFetchState
from ..checks.tls_rpt.result import TlsRptResult
from ..model import CheckId, CheckOutcome, DomainReport, sort_findings
from .checklist_items import (
    ChecklistItem,
    ChecklistState,
    EvidenceSource,
    dns_item,
    outcome_result,
)

__all__ = ["transport_items"]


def _dnssec_verdict(result: DnssecResult) -> tuple[bool, str] | None:
    if not result.names:
        return None
    bad = [
        f"{n.name} {n.verdict.value}" for n in result.names if n.verdict is not DnssecVerdict.SECURE
    ]
    if bad:
        return False, "not secure: " + ", ".join(bad)
    return True, "secure: " + ", ".join(n.name for n in result.names)


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
    dnssec_o, dnssec = outcome_result(report, CheckId.DNSSEC)
    dane_o, dane = outcome_result(report, CheckId.DANE)
    dane_verdict = None if dane_o is None or dane is None else _dane_verdict(dane_o)
    requirement = "MX TLS certificates are pinned with DANE TLSA records"
    dane_item = dns_item("dane", requirement, (), ("RFC 7672",), dane_verdict, dane_o)
    if dane_verdict is None and dane is not None:
        dane_item = replace(
            dane_item, evidence="could not check: the MX could not be probed to match its TLSA"
        )
    return [
        dns_item(
            "dnssec",
            "DNS answers for the domain and its MX hosts validate with DNSSEC",
            (),
            ("RFC 4035", "RFC 7672 §2.2"),
            _dnssec_verdict(dnssec) if isinstance(dnssec, DnssecResult) else None,
            dnssec_o,
        ),
        dane_item,
    ]


_RECOMMENDED = "(recommended; no provider requires it)"


_NOT_FETCHED = (PolicyFetchState.NOT_PROBED, PolicyFetchState.SKIPPED)


def _mta_sts_verdict(
    result: MtaStsResult | None, outcome: CheckOutcome | None
) -> tuple[bool, str] | None:
    if result is None or outcome is None:
        return None
    if not result.records_found:
        return False, "no MTA-STS record"
    if result.record is None:
        return False, f"MTA-STS record invalid: {result.syntax_error}"
    fetch = result.policy
    if fetch is None or fetch.state in _NOT_FETCHED or fetch.parser_limit:
        return None
    policy = fetch.policy
    if policy is None:
        return False, f"MTA-STS policy not usable: {fetch.reason}"
    mode = policy.mode.value
    if mode != "enforce":
        return False, f"MTA-STS policy in mode {mode}: senders do not require TLS"
    broken = [f.title for f in outcome.findings if f.severity.rank >= 3]
    if broken:
        return False, f"MTA-STS in enforce mode, but: {broken[0]}"
    return True, "MTA-STS policy in enforce mode covering every MX host"


def _tls_rpt_verdict(result: TlsRptResult | None) -> tuple[bool, str] | None:
    if result is None:
        return None
    record = result.record
    if record is None:
        found = result.records_found
        return False, "no valid TLS-RPT record" if found else "no TLS-RPT record"
    rua = record.supported_rua
    if not rua:
        return False, "TLS-RPT record names no mailto: or https: destination"
    return True, "TLS reports go to " + ", ".join(u.uri for u in rua)


def transport_items(report: DomainReport) -> list[ChecklistItem]:
    """Inbound transport security: what MTA-STS and TLS-RPT show (no provider asks them of
    bulk senders; they protect mail *to* the domain)."""
    sts_o, sts_any = outcome_result(report, CheckId.MTA_STS)
    rpt_o, rpt = outcome_result(report, CheckId.TLS_RPT)
    sts = sts_any if isinstance(sts_any, MtaStsResult) else None
    requirement = f"Mail to the domain requires TLS: MTA-STS in enforce mode {_RECOMMENDED}"
    sts_verdict = _mta_sts_verdict(sts, sts_o)
    fetch = None if sts is None else sts.policy
    if sts_verdict is None and fetch is not None:
        # the policy was not fetched (or judged) in this run: unknown, with the reason
        reason = fetch.reason or "policy not fetched"
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
        item = dns_item("mta_sts", requirement, (), ("RFC 8461",), sts_verdict, sts_o)
    return [
        item,
        dns_item(
            "tls_rpt",
            f"TLS failures are reported: a TLS-RPT record {_RECOMMENDED}",
            (),
            ("RFC 8460",),
            _tls_rpt_verdict(rpt if isinstance(rpt, TlsRptResult) else None),
            rpt_o,
        ),
        *_dnssec_dane_items(report),
    ]
