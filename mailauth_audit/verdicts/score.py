"""One score and one letter grade per domain, the same in every output format.

The formula is deliberately simple so that a reader can recompute it by hand from the
findings list, and so that HTML, text, CSV, JUnit and JSON can never disagree:

    score = max(0, 100 - sum of the penalties of the domain's findings)

    penalty:   critical 40   high 20   medium 8   low 3   info 0

    grade from the score:  A >= 90,  B >= 75,  C >= 60,  D >= 40,  else F
    capped by the worst finding: a critical finding gives F, a high one at most D,
    a medium one at most B (an A means nothing above low is wrong).

No grade without evidence: a domain with any check in `error` (it could not be completed:
DNS timeout, SERVFAIL, REFUSED...) is **not graded**. Its `grade` and `score` are None, and
`provisional_score` holds what the formula gives over the checks that did complete, to be shown
beside the "not graded" verdict and never as the grade: a lost check adds no penalty, so that
number can only be too kind (a DMARC `p=none` finding lost to a SERVFAIL is a missing 8).
Skipped checks count for nothing. An invalid domain name has no score and no grade.

`score_domain` is the judgement, made once per domain (`DomainReport.verdict`); every renderer
reads that result, and `report/verdict_text.py` for the words, so no format can grade
differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..fastinit import fast_init
from ..model import CheckId, CheckOutcome, CheckStatus, DomainReport, DomainStatus, Severity

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
# read once here: an enum class's attribute goes through EnumType.__getattr__'s slow path,
# and score_domain runs for every domain of a bulk run
_SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)
_CRITICAL, _HIGH, _MEDIUM, _LOW, _INFO = _SEVERITIES
_PENALTIES = tuple(PENALTY[sev] for sev in _SEVERITIES)
_ERROR, _INVALID = CheckStatus.ERROR, DomainStatus.INVALID
# where each severity's count sits in DomainScore.counts()
_COUNT_INDEX: dict[Severity, int] = {sev: i for i, sev in enumerate(_SEVERITIES)}


class GradeStatus(StrEnum):
    """Whether a domain has a grade, and if not, why not."""

    GRADED = "graded"
    NOT_GRADED = "not_graded"  # a check could not complete: no evidence for a grade
    INVALID = "invalid"  # the domain name is invalid: nothing was audited


@fast_init
@dataclass(frozen=True)
class DomainScore:
    """A domain's score (0-100) and grade (A-F), from its findings' severities."""

    score: int | None  # None unless graded (invalid name, or a check in error)
    grade: str | None  # "A".."F"; None unless graded
    complete: bool  # False when a check ended in error (then there is no grade)
    penalty: int  # the sum of the findings' penalties (before clamping at 0)
    critical: int  # number of findings of each severity
    high: int
    medium: int
    low: int
    info: int
    grade_status: GradeStatus = GradeStatus.GRADED
    # set when not graded: why, in one line ("2 checks could not complete: dmarc (dns_servfail), …")
    not_graded_reason: str | None = None
    # set when not graded because of errors: the score over the checks that did complete,
    # which can only be too kind (a lost check adds no penalty); never shown as the grade
    provisional_score: int | None = None
    checks_in_error: tuple[CheckId, ...] = ()  # the checks that could not complete

    @property
    def graded(self) -> bool:
        return self.grade_status is GradeStatus.GRADED

    def counts(self) -> tuple[int, int, int, int, int]:
        """Findings by severity: critical, high, medium, low, info."""
        return (self.critical, self.high, self.medium, self.low, self.info)

    def count(self, severity: Severity) -> int:
        """How many findings of `severity` the domain has."""
        return self.counts()[_COUNT_INDEX[severity]]


def grade_for(score: int, worst: Severity | None) -> str:
    """The letter for a score, capped by the worst finding (see the module docstring)."""
    grade = next((g for g, floor in GRADE_THRESHOLDS if score >= floor), "F")
    cap = GRADE_CAP.get(worst) if worst is not None else None
    if cap is not None and GRADES.index(cap) > GRADES.index(grade):
        return cap
    return grade


def score_domain(report: DomainReport) -> DomainScore:
    """The domain's verdict; prefer `report.verdict`, which computes this once per report."""
    # counted by severity in one pass and built once: this runs for every domain of a bulk run
    critical = high = medium = low = info = 0
    for f in report.findings:
        severity = f.severity
        if severity == _INFO:
            info += 1
        elif severity == _LOW:
            low += 1
        elif severity == _MEDIUM:
            medium += 1
        elif severity == _HIGH:
            high += 1
        elif severity == _CRITICAL:
            critical += 1
        else:
            raise KeyError(severity)
    p_critical, p_high, p_medium, p_low, p_info = _PENALTIES
    penalty = (
        critical * p_critical + high * p_high + medium * p_medium + low * p_low + info * p_info
    )
    if report.status is _INVALID:
        return DomainScore(
            None,
            None,
            False,
            0,
            critical,
            high,
            medium,
            low,
            info,
            grade_status=GradeStatus.INVALID,
            not_graded_reason="invalid domain name: nothing was audited",
        )
    score = max(0, 100 - penalty)
    errors = [o for o in report.checks.values() if o.status is _ERROR]
    if errors:
        return DomainScore(
            None,
            None,
            False,
            penalty,
            critical,
            high,
            medium,
            low,
            info,
            grade_status=GradeStatus.NOT_GRADED,
            not_graded_reason=_not_graded_reason(errors),
            provisional_score=score,
            checks_in_error=tuple(o.check for o in errors),
        )
    return DomainScore(
        score,
        grade_for(score, report.worst_severity),
        True,
        penalty,
        critical,
        high,
        medium,
        low,
        info,
    )


def _not_graded_reason(errors: list[CheckOutcome]) -> str:
    """E.g. "2 checks could not complete: dmarc (dns_servfail), spf (dns_refused)"."""
    parts = ", ".join(
        f"{o.check.value} ({o.error.reason.value if o.error else 'error'})" for o in errors
    )
    return f"{checks_phrase(len(errors))} could not complete: {parts}"


def checks_phrase(n: int) -> str:
    return f"{n} check{'' if n == 1 else 's'}"


def sort_key(s: DomainScore) -> tuple[int, int]:
    """Worst first: not graded first (nobody can vouch for them), then F before A, invalid
    names last; lower score first within a grade."""
    if s.grade_status is GradeStatus.NOT_GRADED:
        return (-len(GRADES), s.provisional_score or 0)
    if s.grade is None or s.score is None:
        return (len(GRADES), 0)
    return (-GRADES.index(s.grade), s.score)
