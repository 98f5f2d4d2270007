"""How every human-facing format words a verdict (text, HTML, JUnit, the demo's lines).

The judgement itself is `verdicts.score`; this module only phrases `DomainReport.verdict`.
"""

from __future__ import annotations

from ..verdicts.score import DomainScore, GradeStatus, checks_phrase

__all__ = ["grade_label", "verdict_line"]


def grade_label(s: DomainScore) -> str:
    """How every human-facing format writes the grade: "B (82/100)", "not graded", "invalid"."""
    if s.grade_status is GradeStatus.INVALID:
        return "invalid"
    if s.grade_status is GradeStatus.NOT_GRADED or s.grade is None:
        n = len(s.checks_in_error)
        return f"not graded — {checks_phrase(n)} could not complete"
    return f"{s.grade} ({s.score}/100)"


def verdict_line(s: DomainScore) -> str:
    """The one-line verdict every human-facing format puts first.

    Not graded says so before anything else, and "nothing to fix" is only ever said of a
    domain whose every check completed.
    """
    if s.grade_status is GradeStatus.INVALID:
        return "Not audited: invalid domain name."
    if s.grade_status is GradeStatus.NOT_GRADED:
        return (
            f"NOT GRADED: {s.not_graded_reason}. Provisional score {s.provisional_score}/100 "
            "from the checks that did complete; it leaves out whatever the failed checks "
            "would have found. Run again when DNS answers."
        )
    worst = _worst_counts(s)
    if not worst:
        return f"Grade {grade_label(s)}: nothing to fix (no finding above info)."
    return f"Grade {grade_label(s)}: {worst} to fix."


def _worst_counts(s: DomainScore) -> str:
    counts = [(s.critical, "critical"), (s.high, "high"), (s.medium, "medium"), (s.low, "low")]
    parts = [f"{n} {name}" for n, name in counts if n]
    if not parts:
        return ""
    total = sum(n for n, _ in counts)
    return f"{total} finding{'' if total == 1 else 's'} ({', '.join(parts)})"
