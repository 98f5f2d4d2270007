"""One domain's diff within a run diff, read from what each audit's row already says.

Why not decode both reports whole, as `diff --domain` does: in a run diff the same work
repeats for every changed domain, and the typed decode of a report (every check's result,
every finding's texts) is most of it. Statuses and findings are in the rows' `facts`
column, grades in their own columns; only the published records (MX, SPF, DMARC, DKIM) need
the documents, and only for the checks that completed in both audits and whose results
differ: just those outcomes are decoded. A row whose facts this version does not read
whole (written without them, a check or a finding code it does not know) returns None, and
the caller diffs the two typed reports as before.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ..model import CheckId, CheckStatus
from ..report.codec import FORMAT_KEY, CodecError
from .diff import (
    AuditDiff,
    StatusChange,
    finding_changes,
    record_changes,
    record_servers,
    record_ttls,
    records_seen,
)
from .facts import AuditFacts, parse_facts
from .record import decode_document

__all__ = ["UNREADABLE", "PairRow", "facts_diff"]

_RECORD_CHECKS = (CheckId.MX, CheckId.SPF, CheckId.DMARC, CheckId.DKIM)
_NOT_COMPLETED = {CheckStatus.ERROR.value, CheckStatus.SKIPPED.value}
_KNOWN_CHECKS = {c.value for c in CheckId}
_KNOWN_STATUSES = {s.value for s in CheckStatus}


class _Unreadable:
    """A report this version cannot decode: the run diff compares grades only."""


UNREADABLE = _Unreadable()

# (audit id, audited_at, grade, score, facts text) of one audit of the pair
PairRow = tuple[int, str, str | None, int | None, str | None]


@cache
def _check_of_code() -> dict[str, str]:
    from .. import findings  # the catalogue's modules, imported on first use

    return {s.code: s.check.value for s in findings.all_specs()}


def _readable(facts: AuditFacts | None, doc: dict[str, Any]) -> bool:
    """Facts this version reads whole, and that hold every check the document holds."""
    if facts is None:
        return False
    checks = doc.get("checks")
    if type(checks) is not dict or checks.keys() != facts.statuses.keys():
        return False
    known = _check_of_code()
    return (
        facts.statuses.keys() <= _KNOWN_CHECKS
        and all(s in _KNOWN_STATUSES for s in facts.statuses.values())
        and all(code in known for code, _ in facts.findings)
    )


def _completed(facts: AuditFacts, doc: dict[str, Any], check: str) -> bool:
    outcome = doc["checks"].get(check)
    return (
        facts.statuses.get(check, "error") not in _NOT_COMPLETED
        and type(outcome) is dict
        and outcome.get("result") is not None
    )


def _partial(doc: dict[str, Any], checks: list[str]) -> dict[str, Any]:
    """The document with only these checks, without their findings (the facts have them)."""
    kept = {c: {**doc["checks"][c], "findings": []} for c in checks}
    return {**doc, "checks": kept}


def facts_diff(
    domain: str,
    before: PairRow,
    after: PairRow,
    docs: tuple[dict[str, Any], dict[str, Any]],
    servers: tuple[str | None, str | None],
) -> AuditDiff | _Unreadable | None:
    """The pair's AuditDiff; UNREADABLE when the outcomes it must decode do not decode;
    None when the facts do not suffice (the caller decodes the reports whole)."""
    fa, fb = parse_facts(before[4]), parse_facts(after[4])
    doc_a, doc_b = docs
    if fa is None or fb is None or not (_readable(fa, doc_a) and _readable(fb, doc_b)):
        return None
    statuses = tuple(
        StatusChange(check, fa.statuses.get(check), fb.statuses.get(check))
        for check in sorted(fa.statuses.keys() | fb.statuses.keys())
        if fa.statuses.get(check) != fb.statuses.get(check)
    )
    comparable = [
        c for c in CheckId if _completed(fa, doc_a, c.value) and _completed(fb, doc_b, c.value)
    ]
    not_compared = tuple(
        c.value
        for c in CheckId
        if c not in comparable and (c.value in fa.statuses or c.value in fb.statuses)
    )
    same_form = doc_a.get(FORMAT_KEY) == doc_b.get(FORMAT_KEY)
    # a result equal in both documents (the same domain, the same form) holds equal records
    to_read = [
        c.value
        for c in _RECORD_CHECKS
        if c in comparable
        and not (
            same_form and doc_a["checks"][c.value]["result"] == doc_b["checks"][c.value]["result"]
        )
    ]
    records: tuple[Any, ...] = ()
    if to_read:
        try:
            report_a = decode_document(_partial(doc_a, to_read))
            report_b = decode_document(_partial(doc_b, to_read))
        except CodecError:
            return UNREADABLE
        records = record_changes(
            records_seen(report_a),
            records_seen(report_b),
            (record_ttls(report_a), record_ttls(report_b)),
            (record_servers(report_a), record_servers(report_b)),
            servers,
        )
    check_of = _check_of_code()
    old = {(check_of[code], code): sev for code, sev in fa.findings}
    new = {(check_of[code], code): sev for code, sev in fb.findings}
    findings = finding_changes(old, new)
    return AuditDiff(
        domain=domain,
        before_audit=before[0],
        after_audit=after[0],
        before_at=before[1],
        after_at=after[1],
        grade_before=before[2],
        grade_after=after[2],
        score_before=before[3],
        score_after=after[3],
        statuses=statuses,
        records=records,
        findings=tuple(findings),
        not_compared=not_compared,
    )
