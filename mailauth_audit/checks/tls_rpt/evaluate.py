"""Judging TLS-RPT facts (RFC 8460 §3). Pure. A missing record matters only where a
TLS policy is deployed (MTA-STS or DANE): then failures go unreported."""

from __future__ import annotations

from collections.abc import Mapping

from ...findings import tls_rpt as F
from ...findings.clip import clip_text
from ...model import CheckId, CheckOutcome, CheckStatus, Finding
from ...records.tls_rpt import TlsRptNoteKind
from ..dane.result import DaneResult
from ..dnssec.result import DnssecVerdict
from ..mta_sts.result import MtaStsResult
from .remediation import tls_rpt_zone_line
from .result import TlsRptResult

DANE = CheckId.DANE


SHOWN_RECORDS = 10  # records quoted as evidence; a zone may publish hundreds
SHOWN_CHARS = 1024  # characters of each quoted record


def shown(texts: tuple[str, ...]) -> tuple[str, ...]:
    """A stranger's records as evidence: the first few, each cut short."""
    return tuple(clip_text(t, SHOWN_CHARS) for t in texts[:SHOWN_RECORDS])


def deployed_policies(outcomes: Mapping[CheckId, CheckOutcome]) -> list[str]:
    """The TLS policies the domain deploys, as far as the run's outcomes show."""
    found: list[str] = []
    mta_sts = outcomes.get(CheckId.MTA_STS)
    if mta_sts is not None and _completed(mta_sts) and _mta_sts_deployed(mta_sts.result):
        found.append("MTA-STS")
    dane = outcomes.get(DANE)
    if dane is not None and _completed(dane) and _dane_deployed(dane.result):
        found.append("DANE")
    return found


def _completed(outcome: CheckOutcome | None) -> bool:
    return outcome is not None and outcome.status not in (CheckStatus.ERROR, CheckStatus.SKIPPED)


def _mta_sts_deployed(result: object) -> bool:
    """A `v=STSv1` record is published (valid or not: the owner meant to deploy it)."""
    return isinstance(result, MtaStsResult) and bool(result.records_found)


def _dane_deployed(result: object) -> bool:
    """TLSA records at some MX host that DANE senders act on: not behind an insecure answer
    (senders ignore those, RFC 7672 §2.2); bogus ones count, the owner meant to deploy DANE."""
    if not isinstance(result, DaneResult):
        return False
    return any(h.has_tlsa and h.verdict is not DnssecVerdict.INSECURE for h in result.hosts)


def judge(
    facts: TlsRptResult, domain: str, outcomes: Mapping[CheckId, CheckOutcome]
) -> list[Finding]:
    values = {
        "domain": domain,
        "txt_name": facts.txt_name,
        "zone_line": tls_rpt_zone_line(facts.txt_name, domain),
    }
    if not facts.records_found:
        if facts.lookalikes:
            return [
                F.RECORD_IGNORED(
                    values, record=shown(facts.lookalikes)[0], evidence=shown(facts.lookalikes)
                )
            ]
        policies = deployed_policies(outcomes)
        if policies:
            return [F.MISSING(values, mechanisms=" and ".join(policies))]
        return []
    if len(facts.records_found) > 1:
        return [
            F.MULTIPLE_RECORDS(
                values, count=len(facts.records_found), evidence=shown(facts.records_found)
            )
        ]
    record = facts.record
    if record is None:
        return [
            F.SYNTAX_ERROR(
                values,
                message=facts.syntax_error,
                position=facts.syntax_error_position,
                evidence=shown(facts.records_found),
            )
        ]
    findings: list[Finding] = []
    unsupported = [u.uri for u in record.rua if not u.supported]
    if not record.supported_rua:
        findings.append(
            F.NO_SUPPORTED_RUA(
                values, uris=", ".join(unsupported), evidence=shown(facts.records_found)
            )
        )
    elif unsupported:
        findings.append(F.UNSUPPORTED_SCHEME(values, uris=", ".join(unsupported)))
    notes = [n for n in record.notes if n.kind is not TlsRptNoteKind.UNSUPPORTED_SCHEME]
    if notes:
        findings.append(
            F.RECORD_NOTES(
                values,
                notes="; ".join(n.message for n in notes),
                evidence=shown(facts.records_found),
            )
        )
    return findings
