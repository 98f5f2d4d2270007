"""One score and one letter grade per domain, the same in every output format.

The formula is deliberately simple so that a reader can recompute it by hand from the
findings list, and so that HTML, text, CSV, JUnit and JSON can never disagree:

    score = max(0, 100 - sum of the penalties of the domain's findings)

    penalty:   critical 40   high 20   medium 8   low 3   info 0

    grade from the score:  A >= 90,  B >= 75,  C >= 60,  D >= 40,  else F
    capped by the worst finding: a critical finding gives F, a high one at most D,
    a medium one at most B (an A means nothing above low is wrong).

A check that could not be completed (status `error`) adds no penalty — "could not check" is
never evidence against the domain — but it makes the score `complete=False`, shown as
"incomplete" next to the grade. Skipped checks count for nothing. An invalid domain name has
no score and no grade.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import CheckStatus, DomainReport, DomainStatus, Severity

PENALTY: dict[Severity, int] = {
    Severity.CRITICAL: 40,
    Severity.HIGH: 20,
    Severity.MEDIUM: 8,
    Severity.LOW: 3,
    Severity.INFO: 0,
}
GRADE_THRESHOLDS: tuple[tuple[str, int], ...] = (("A", 90), ("B", 75), ("C", 60), ("D", 40))
GRADES: tuple[str, ...] = ("A", "B", "C", "D", "F")
# The best grade a domain can have while it has a finding of this severity.
GRADE_CAP: dict[Severity, str] = {
    Severity.CRITICAL: "F",
    Severity.HIGH: "D",
    Severity.MEDIUM: "B",
}


@dataclass(frozen=True)
class DomainScore:
    """A domain's score (0-100) and grade (A-F), from its findings' severities."""

    score: int | None  # None when the domain name is invalid (nothing was audited)
    grade: str | None  # "A".."F"; None when the domain name is invalid
    complete: bool  # False when a check ended in error: the score may be too kind
    penalty: int  # the sum of the findings' penalties (before clamping at 0)
    critical: int  # number of findings of each severity
    high: int
    medium: int
    low: int
    info: int


def grade_for(score: int, worst: Severity | None) -> str:
    """The letter for a score, capped by the worst finding (see the module docstring)."""
    grade = next((g for g, floor in GRADE_THRESHOLDS if score >= floor), "F")
    cap = GRADE_CAP.get(worst) if worst is not None else None
    if cap is not None and GRADES.index(cap) > GRADES.index(grade):
        return cap
    return grade


def score_domain(report: DomainReport) -> DomainScore:
    findings = report.findings
    counts = {s: 0 for s in Severity}
    for f in findings:
        counts[f.severity] += 1
    penalty = sum(PENALTY[f.severity] for f in findings)
    if report.status is DomainStatus.INVALID:
        return DomainScore(None, None, False, 0, *(counts[s] for s in Severity))
    score = max(0, 100 - penalty)
    complete = not any(o.status is CheckStatus.ERROR for o in report.checks.values())
    return DomainScore(
        score=score,
        grade=grade_for(score, report.worst_severity),
        complete=complete,
        penalty=penalty,
        critical=counts[Severity.CRITICAL],
        high=counts[Severity.HIGH],
        medium=counts[Severity.MEDIUM],
        low=counts[Severity.LOW],
        info=counts[Severity.INFO],
    )


def grade_label(s: DomainScore) -> str:
    """How every human-facing format writes the grade: "B (82/100)", "invalid"."""
    if s.grade is None or s.score is None:
        return "invalid"
    text = f"{s.grade} ({s.score}/100)"
    return text if s.complete else text + ", incomplete"


def sort_key(s: DomainScore) -> tuple[int, int]:
    """Worst first: F before A, invalid names last; lower score first within a grade."""
    if s.grade is None or s.score is None:
        return (len(GRADES), 0)
    return (-GRADES.index(s.grade), s.score)
