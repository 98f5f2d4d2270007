"""Drift detectors: what changed between two audits of a domain that someone should hear of.

Each event has a stable code and a severity, like a finding, and comes from one detector in
`DETECTORS`; a later check (MTA-STS, certificate expiry) adds its detector there. Detectors
are pure: two typed reports in, events out. A check that could not complete in either audit
is compared by no detector but `check.now_errors`: "could not check" is never "gone".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..checks.dkim.result import DkimResult
from ..checks.dmarc.result import DmarcResult
from ..checks.mx.result import MxResult
from ..checks.spf import SpfResult
from ..model import CheckId, CheckOutcome, CheckStatus, DomainReport, Severity

__all__ = [
    "DETECTORS",
    "EVENT_SPECS",
    "DriftEvent",
    "EventSpec",
    "detect",
    "include_targets",
]


@dataclass(frozen=True)
class EventSpec:
    code: str  # stable: "dmarc.policy_weakened"; never renamed once released
    severity: Severity
    title: str


@dataclass(frozen=True)
class DriftEvent:
    code: str
    severity: Severity
    subject: str  # what changed: a selector name, a record name, a check, a finding code
    before: str | None
    after: str | None


_SPECS = (
    EventSpec("dkim.key_replaced", Severity.MEDIUM, "DKIM key at a known selector replaced"),
    EventSpec("dkim.key_shortened", Severity.HIGH, "DKIM key at a known selector shortened"),
    EventSpec("dkim.key_revoked", Severity.HIGH, "DKIM key at a known selector revoked"),
    EventSpec("dkim.selector_gone", Severity.MEDIUM, "DKIM selector no longer published"),
    EventSpec("dkim.selector_new", Severity.INFO, "New DKIM selector seen"),
    EventSpec("spf.lookups_grew", Severity.LOW, "SPF tree needs more DNS lookups"),
    EventSpec("spf.lookups_crossed_8", Severity.MEDIUM, "SPF lookups reached 9 or more"),
    EventSpec("spf.lookups_crossed_10", Severity.HIGH, "SPF lookups exceed the limit of 10"),
    EventSpec("spf.include_changed", Severity.MEDIUM, "SPF include or redirect target changed"),
    EventSpec("spf.record_gone", Severity.HIGH, "SPF record disappeared"),
    EventSpec("dmarc.policy_weakened", Severity.HIGH, "DMARC policy (p) weakened"),
    EventSpec("dmarc.sp_weakened", Severity.MEDIUM, "DMARC subdomain policy (sp) weakened"),
    EventSpec("dmarc.np_weakened", Severity.MEDIUM, "DMARC non-existent subdomain policy weakened"),
    EventSpec("dmarc.pct_lowered", Severity.MEDIUM, "DMARC pct lowered"),
    EventSpec("dmarc.rua_removed", Severity.MEDIUM, "DMARC aggregate report address removed"),
    EventSpec("dmarc.record_gone", Severity.HIGH, "DMARC record disappeared"),
    EventSpec("mx.set_changed", Severity.MEDIUM, "MX set changed"),
    EventSpec("domain.grade_dropped", Severity.MEDIUM, "Grade dropped"),
    EventSpec("finding.new", Severity.HIGH, "New finding at or above the alert threshold"),
    EventSpec("check.now_errors", Severity.MEDIUM, "A check that completed now errors"),
)
EVENT_SPECS: dict[str, EventSpec] = {s.code: s for s in _SPECS}


def _event(
    code: str, subject: str, before: Any, after: Any, severity: Severity | None = None
) -> DriftEvent:
    spec = EVENT_SPECS[code]
    return DriftEvent(
        code,
        severity or spec.severity,
        subject,
        None if before is None else str(before),
        None if after is None else str(after),
    )


def _completed(outcome: CheckOutcome | None) -> bool:
    return outcome is not None and outcome.status not in (CheckStatus.ERROR, CheckStatus.SKIPPED)


def _results(old: DomainReport, new: DomainReport, check: CheckId) -> tuple[Any, Any] | None:
    # Any: each detector names the result type it reads (`pair: tuple[DkimResult, ...]`)
    """Both audits' facts of `check`, or None when either could not complete it."""
    a, b = old.checks.get(check), new.checks.get(check)
    if not (_completed(a) and _completed(b)) or a is None or b is None:
        return None
    if a.result is None or b.result is None:
        return None
    return a.result, b.result


# ---- DKIM -----------------------------------------------------------------------------


def dkim_drift(old: DomainReport, new: DomainReport, threshold: Severity) -> list[DriftEvent]:
    pair: tuple[DkimResult, DkimResult] | None = _results(old, new, CheckId.DKIM)
    if pair is None:
        return []
    before = {s.selector: s for s in pair[0].selectors}
    after = {s.selector: s for s in pair[1].selectors}
    events = []
    for name, was in before.items():
        now = after.get(name)
        if now is None:
            events.append(_event("dkim.selector_gone", name, was.record, None))
            continue
        if now.revoked and not was.revoked:
            events.append(_event("dkim.key_revoked", name, was.key_bits, "revoked"))
        elif was.key_bits and now.key_bits and now.key_bits < was.key_bits:
            events.append(_event("dkim.key_shortened", name, was.key_bits, now.key_bits))
        elif was.public_key and now.public_key and was.public_key != now.public_key:
            events.append(
                _event("dkim.key_replaced", name, _short(was.public_key), _short(now.public_key))
            )
    events.extend(
        _event("dkim.selector_new", n, None, s.record) for n, s in after.items() if n not in before
    )
    return events


def _short(key: str) -> str:
    return key if len(key) <= 24 else f"{key[:10]}…{key[-10:]}"


# ---- SPF ------------------------------------------------------------------------------


def include_targets(record: str | None) -> frozenset[str]:
    """The include: and redirect= targets of an SPF record, as written (lower case)."""
    if not record:
        return frozenset()
    out = set()
    for term in record.split()[1:]:
        low = term.lower().lstrip("+-~?")
        for prefix in ("include:", "redirect="):
            if low.startswith(prefix):
                out.add(low.removeprefix(prefix).rstrip("."))
    return frozenset(out)


def spf_drift(old: DomainReport, new: DomainReport, threshold: Severity) -> list[DriftEvent]:
    pair: tuple[SpfResult, SpfResult] | None = _results(old, new, CheckId.SPF)
    if pair is None:
        return []
    was, now = pair
    events = []
    if was.record and not now.record and not now.records_found:
        events.append(_event("spf.record_gone", new.domain, was.record, None))
        return events
    if now.dns_lookups > was.dns_lookups:
        events.append(_event("spf.lookups_grew", new.domain, was.dns_lookups, now.dns_lookups))
        if was.dns_lookups <= 8 < now.dns_lookups:
            events.append(
                _event("spf.lookups_crossed_8", new.domain, was.dns_lookups, now.dns_lookups)
            )
        if was.dns_lookups <= 10 < now.dns_lookups:
            events.append(
                _event("spf.lookups_crossed_10", new.domain, was.dns_lookups, now.dns_lookups)
            )
    a, b = include_targets(was.record), include_targets(now.record)
    if was.record and now.record and a != b:
        events.append(
            _event("spf.include_changed", new.domain, " ".join(sorted(a)), " ".join(sorted(b)))
        )
    return events


# ---- DMARC ----------------------------------------------------------------------------

_POLICY_RANK = {"none": 0, "quarantine": 1, "reject": 2}


def _weaker(before: str | None, after: str | None) -> bool:
    if before is None:
        return False
    return _POLICY_RANK.get(after or "none", 0) < _POLICY_RANK.get(before, 0)


def dmarc_drift(old: DomainReport, new: DomainReport, threshold: Severity) -> list[DriftEvent]:
    pair: tuple[DmarcResult, DmarcResult] | None = _results(old, new, CheckId.DMARC)
    if pair is None:
        return []
    was, now = pair
    subject = was.record_domain or f"_dmarc.{new.domain}"
    if was.record and not now.record:
        return [_event("dmarc.record_gone", subject, was.record, None)]
    if not (was.record and now.record):
        return []
    events = []
    if _weaker(was.policy, now.policy):
        events.append(_event("dmarc.policy_weakened", subject, was.policy, now.policy))
    if _weaker(was.subdomain_policy, now.subdomain_policy or now.policy):
        events.append(
            _event("dmarc.sp_weakened", subject, was.subdomain_policy, now.subdomain_policy)
        )
    if _weaker(
        was.nonexistent_subdomain_policy,
        now.nonexistent_subdomain_policy or now.subdomain_policy or now.policy,
    ):
        events.append(
            _event(
                "dmarc.np_weakened",
                subject,
                was.nonexistent_subdomain_policy,
                now.nonexistent_subdomain_policy,
            )
        )
    pct_was = 100 if was.percentage is None else was.percentage
    pct_now = 100 if now.percentage is None else now.percentage
    if pct_now < pct_was:
        events.append(_event("dmarc.pct_lowered", subject, pct_was, pct_now))
    rua_was = {d.uri for d in was.report_destinations if d.tag == "rua"}
    rua_now = {d.uri for d in now.report_destinations if d.tag == "rua"}
    if rua_was and not rua_now:
        events.append(_event("dmarc.rua_removed", subject, " ".join(sorted(rua_was)), None))
    return events


# ---- MX, grade, findings, errors ------------------------------------------------------


def mx_drift(old: DomainReport, new: DomainReport, threshold: Severity) -> list[DriftEvent]:
    pair: tuple[MxResult, MxResult] | None = _results(old, new, CheckId.MX)
    if pair is None:
        return []
    a, b = sorted(pair[0].records), sorted(pair[1].records)
    if a == b:
        return []
    return [_event("mx.set_changed", new.domain, "; ".join(a) or None, "; ".join(b) or None)]


def grade_drift(old: DomainReport, new: DomainReport, threshold: Severity) -> list[DriftEvent]:
    was, now = old.grade, new.grade
    if was is None or now is None or now <= was:
        return []  # letters: "A" < "F"; no grade on either side is not a drop
    return [_event("domain.grade_dropped", new.domain, was, now)]


def finding_drift(old: DomainReport, new: DomainReport, threshold: Severity) -> list[DriftEvent]:
    seen = {(f.check, f.code) for f in old.findings}
    events = []
    for f in new.findings:
        if f.severity.rank >= threshold.rank and (f.check, f.code) not in seen:
            seen.add((f.check, f.code))
            events.append(_event("finding.new", f.code, None, f.severity.value, f.severity))
    return events


def error_drift(old: DomainReport, new: DomainReport, threshold: Severity) -> list[DriftEvent]:
    events = []
    for check, now in new.checks.items():
        was = old.checks.get(check)
        if _completed(was) and now.status is CheckStatus.ERROR:
            reason = now.error.reason.value if now.error is not None else None
            events.append(
                _event("check.now_errors", check.value, was.status.value if was else None, reason)
            )
    return events


Detector = Callable[[DomainReport, DomainReport, Severity], list[DriftEvent]]
DETECTORS: tuple[Detector, ...] = (
    dkim_drift,
    spf_drift,
    dmarc_drift,
    mx_drift,
    grade_drift,
    finding_drift,
    error_drift,
)


def detect(
    old: DomainReport, new: DomainReport, threshold: Severity = Severity.HIGH
) -> list[DriftEvent]:
    """Every detector's events, in registry order; `threshold` is finding.new's floor."""
    return [e for detector in DETECTORS for e in detector(old, new, threshold)]
