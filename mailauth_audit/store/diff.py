"""What changed between two audits of a domain: records, findings, statuses, grade. Pure.

Records are compared only where the check completed in both audits: a record behind a DNS
timeout is "not checked", never "removed".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..checks.dkim.result import DkimResult
from ..checks.dmarc.result import DmarcResult
from ..checks.mx.result import MxResult
from ..checks.spf import SpfResult
from ..model import CheckId, CheckStatus, DomainReport

__all__ = [
    "AuditDiff",
    "FindingChange",
    "RecordChange",
    "StatusChange",
    "diff_reports",
    "finding_changes",
    "record_changes",
    "record_servers",
    "record_ttls",
    "records_seen",
]

RecordKey = tuple[str, str]  # (type, owner name): ("MX", "example.com")


@dataclass(frozen=True)
class RecordChange:
    type: str  # "MX", "SPF", "DMARC", "DKIM"
    name: str  # the owner name
    change: str  # "added", "removed", "changed"
    before: tuple[str, ...]  # the values before (empty when added)
    after: tuple[str, ...]  # the values after (empty when removed)
    # the TTL each audit's answer carried; None when that audit had no such record
    ttl_before: int | None = None
    ttl_after: int | None = None
    # who answered each audit's question: the server the report's facts name
    # ("127.0.0.1:53", "zone-file:PATH"; reports of schema 1.10 on); for an older report
    # the run's one DNS source ("resolver 127.0.0.1:53"); None when neither says
    server_before: str | None = None
    server_after: str | None = None

    @property
    def servers_differ(self) -> bool:
        """Both audits name who answered, and not the same server: the change may be two
        servers disagreeing (a zone not yet transferred everywhere), not an edit."""
        a, b = self.server_before, self.server_after
        # an older report's fallback names its run's source as "resolver 127.0.0.1:53"
        return (
            a is not None
            and b is not None
            and a.removeprefix("resolver ") != b.removeprefix("resolver ")
        )


@dataclass(frozen=True)
class FindingChange:
    code: str
    check: str
    severity: str
    change: str  # "appeared" or "resolved"


@dataclass(frozen=True)
class StatusChange:
    check: str
    before: str | None  # None: the check was not in that audit
    after: str | None


@dataclass(frozen=True)
class AuditDiff:
    domain: str
    before_audit: int | None  # store ids; None when the report was not from the store
    after_audit: int | None
    before_at: str | None
    after_at: str | None
    grade_before: str | None
    grade_after: str | None
    score_before: int | None
    score_after: int | None
    statuses: tuple[StatusChange, ...]
    records: tuple[RecordChange, ...]
    findings: tuple[FindingChange, ...]
    # checks not compared for records: in error (or skipped) in one of the two audits
    not_compared: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(
            self.statuses or self.records or self.findings or self.grade_before != self.grade_after
        )


def _completed(report: DomainReport, check: CheckId) -> bool:
    outcome = report.checks.get(check)
    return (
        outcome is not None
        and outcome.result is not None
        and outcome.status not in (CheckStatus.ERROR, CheckStatus.SKIPPED)
    )


def _result(report: DomainReport, check: CheckId) -> Any:
    # Any: the caller names the check's result type (`mx: MxResult = ...`)
    return report.checks[check].result


def record_ttls(report: DomainReport) -> dict[RecordKey, int | None]:
    """The TTL each of `records_seen`'s records was answered with, by the same keys."""
    out: dict[RecordKey, int | None] = {}
    if _completed(report, CheckId.MX):
        out[("MX", report.domain)] = _result(report, CheckId.MX).ttl
    if _completed(report, CheckId.SPF):
        out[("SPF", report.domain)] = _result(report, CheckId.SPF).record_ttl
    if _completed(report, CheckId.DMARC):
        out[("DMARC", f"_dmarc.{report.domain}")] = _result(report, CheckId.DMARC).record_ttl
    if _completed(report, CheckId.DKIM):
        for s in _result(report, CheckId.DKIM).selectors:
            out[("DKIM", s.name)] = s.ttl
    return out


def record_servers(report: DomainReport) -> dict[RecordKey, str | None]:
    """Who answered each of `records_seen`'s records, by the same keys (None: the report
    does not say: facts saved before the answering server was kept)."""
    out: dict[RecordKey, str | None] = {}
    if _completed(report, CheckId.MX):
        out[("MX", report.domain)] = _result(report, CheckId.MX).server
    if _completed(report, CheckId.SPF):
        out[("SPF", report.domain)] = _result(report, CheckId.SPF).server
    if _completed(report, CheckId.DMARC):
        out[("DMARC", f"_dmarc.{report.domain}")] = _result(report, CheckId.DMARC).server
    if _completed(report, CheckId.DKIM):
        dkim: DkimResult = _result(report, CheckId.DKIM)
        for s in dkim.selectors:
            out[("DKIM", s.name)] = s.server or dkim.server
    return out


def records_seen(report: DomainReport) -> dict[RecordKey, tuple[str, ...]]:
    """The published records a report's facts hold, by (type, name), for completed checks."""
    out: dict[RecordKey, tuple[str, ...]] = {}
    if _completed(report, CheckId.MX):
        mx: MxResult = _result(report, CheckId.MX)
        if mx.records:
            out[("MX", report.domain)] = tuple(sorted(mx.records))
    if _completed(report, CheckId.SPF):
        spf: SpfResult = _result(report, CheckId.SPF)
        if spf.records_found:
            out[("SPF", report.domain)] = tuple(sorted(spf.records_found))
    if _completed(report, CheckId.DMARC):
        dmarc: DmarcResult = _result(report, CheckId.DMARC)
        if dmarc.records_found:
            out[("DMARC", f"_dmarc.{report.domain}")] = tuple(sorted(dmarc.records_found))
    if _completed(report, CheckId.DKIM):
        dkim: DkimResult = _result(report, CheckId.DKIM)
        for s in dkim.selectors:
            value = s.record if s.record is not None else f"CNAME {s.cname_target}"
            out[("DKIM", s.name)] = (value,)
    return out


def record_changes(
    before: Mapping[RecordKey, tuple[str, ...]],
    after: Mapping[RecordKey, tuple[str, ...]],
    ttls: tuple[Mapping[RecordKey, int | None], Mapping[RecordKey, int | None]],
    servers: tuple[Mapping[RecordKey, str | None], Mapping[RecordKey, str | None]],
    run_servers: tuple[str | None, str | None],
) -> tuple[RecordChange, ...]:
    changes = []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key, ()), after.get(key, ())
        if a == b:
            continue
        kind = "added" if not a else "removed" if not b else "changed"
        changes.append(
            RecordChange(
                key[0],
                key[1],
                kind,
                a,
                b,
                ttls[0].get(key) if a else None,
                ttls[1].get(key) if b else None,
                (servers[0].get(key) or run_servers[0]) if a else None,
                (servers[1].get(key) or run_servers[1]) if b else None,
            )
        )
    return tuple(changes)


def diff_reports(
    before: DomainReport,
    after: DomainReport,
    *,
    before_audit: int | None = None,
    after_audit: int | None = None,
    before_at: str | None = None,
    after_at: str | None = None,
    before_server: str | None = None,
    after_server: str | None = None,
) -> AuditDiff:
    """`before_server`/`after_server`: the run's one DNS source, said of a record whose
    report does not name who answered it (facts saved before the server was kept)."""
    statuses = []
    for check in sorted(before.checks.keys() | after.checks.keys()):
        a, b = before.checks.get(check), after.checks.get(check)
        sa = a.status.value if a is not None else None
        sb = b.status.value if b is not None else None
        if sa != sb:
            statuses.append(StatusChange(check.value, sa, sb))
    comparable = [c for c in CheckId if _completed(before, c) and _completed(after, c)]
    not_compared = tuple(
        c.value
        for c in CheckId
        if c not in comparable and (c in before.checks or c in after.checks)
    )
    seen_a = {k: v for k, v in records_seen(before).items() if _check_of(k) in comparable}
    seen_b = {k: v for k, v in records_seen(after).items() if _check_of(k) in comparable}
    old = {(f.check.value, f.code): f.severity.value for f in before.findings}
    new = {(f.check.value, f.code): f.severity.value for f in after.findings}
    findings = finding_changes(old, new)
    return AuditDiff(
        domain=after.domain,
        before_audit=before_audit,
        after_audit=after_audit,
        before_at=before_at,
        after_at=after_at,
        grade_before=before.grade,
        grade_after=after.grade,
        score_before=before.verdict.score,
        score_after=after.verdict.score,
        statuses=tuple(statuses),
        records=record_changes(
            seen_a,
            seen_b,
            (record_ttls(before), record_ttls(after)),
            (record_servers(before), record_servers(after)),
            (before_server, after_server),
        ),
        findings=tuple(findings),
        not_compared=not_compared,
    )


_CHECK_OF_TYPE = {
    "MX": CheckId.MX,
    "SPF": CheckId.SPF,
    "DMARC": CheckId.DMARC,
    "DKIM": CheckId.DKIM,
}


FindingKeys = dict[tuple[str, str], str]  # (check, code) -> severity, of one audit


def finding_changes(old: FindingKeys, new: FindingKeys) -> list[FindingChange]:
    """The findings that appeared, then those resolved, each in (check, code) order."""
    return [
        FindingChange(code, check, sev, "appeared")
        for (check, code), sev in sorted(new.items())
        if (check, code) not in old
    ] + [
        FindingChange(code, check, sev, "resolved")
        for (check, code), sev in sorted(old.items())
        if (check, code) not in new
    ]


def _check_of(key: RecordKey) -> CheckId:
    return _CHECK_OF_TYPE[key[0]]
