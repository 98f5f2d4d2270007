"""`fix` as people read it: the change set per name, what needs their input, the grades
before and after, and what remains. Presents the outcome; judges nothing."""

from __future__ import annotations

import difflib
from itertools import groupby

from ..model import DomainReport
from ..report.changes import change_lines
from ..report.html_text import printable
from .runner import FixOutcome

__all__ = ["render_fix", "zone_diff"]


def _grade(report: DomainReport) -> str:
    verdict = report.verdict
    if verdict.grade is None:
        return "not graded"
    return f"{verdict.grade} ({verdict.score}/100)"


def render_fix(outcome: FixOutcome) -> str:
    """The change set and the re-audit, as text."""
    out = [f"{outcome.domain}: change set from {outcome.source}", ""]
    plan = outcome.plan
    if not plan.changes:
        out.append("  No record changes to propose.")
    elif not outcome.applied:
        out.append("  No change can be made without your input (below).")
    for name, changes in groupby(outcome.applied, key=lambda c: c.name):
        out.append(f"  {name}")
        for change in changes:
            out += ["    " + printable(line) for line in change_lines(change)]
            out.append("      fixes: " + ", ".join(change.fixes))
    if plan.needs_input:
        out += ["", "  Needs your input (not applied: fill in the placeholders, then publish):"]
        for change in plan.needs_input:
            out.append(f"  {change.name}  (for {', '.join(change.fixes)})")
            out += ["    " + printable(line) for line in change_lines(change)]
    edit = outcome.edit
    if edit is not None and edit.not_found:
        out += ["", "  Not in the zone file (the audit saw them elsewhere; change them there):"]
        out += [f"    {c.name} {c.rtype} {printable(c.current or '')}" for c in edit.not_found]
    if edit is not None and edit.outside:
        out += ["", "  Outside the zones of this file (for their operators to publish):"]
        out += [f"    {c.name} {c.rtype} {printable(c.proposed or '')}" for c in edit.outside]
    out += [
        "",
        f"  Grade before: {_grade(outcome.before)}",
        f"  Grade after:  {_grade(outcome.after)}  (re-audited "
        + ("the corrected zone)" if outcome.corrected_zone is not None else "with the changes)"),
    ]
    if outcome.fixed:
        codes = ", ".join(dict.fromkeys(f.code for f in outcome.fixed))
        out.append(f"  Fixed: {codes}")
    if outcome.came_back:
        out.append(
            "  Claimed fixed but still reported: " + ", ".join(f.code for f in outcome.came_back)
        )
    if outcome.after.findings:
        out.append("  Remaining:")
        out += [
            f"    {f.severity.value:<8} {f.code}: {printable(f.title)}"
            for f in outcome.after.findings
        ]
    if outcome.corrected_zone is not None and edit is not None and edit.applied:
        out += ["", "  Increase the SOA serial before you publish the corrected zone."]
    return "\n".join(out) + "\n"


def zone_diff(outcome: FixOutcome, name: str = "zone") -> str:
    """A unified diff of the zone file and the corrected zone ("" without a zone file)."""
    if outcome.zone_text is None or outcome.corrected_zone is None:
        return ""
    return "".join(
        difflib.unified_diff(
            outcome.zone_text.splitlines(keepends=True),
            outcome.corrected_zone.splitlines(keepends=True),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
        )
    )
