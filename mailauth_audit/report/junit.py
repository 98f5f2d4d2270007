"""JUnit XML: one test case per check per domain, so CI dashboards show a failing domain like
a failing test.

Mapping: a check with a finding at or above the failure threshold is a <failure> whose type is
the worst severity and whose message lists the codes at or above it; below the threshold the
test passes, with its findings in <system-out>. The threshold is `--fail-on` when given, so
that the build (exit 1) and the test report never disagree; without it, high (the checks
whose status is `fail`), since a dashboard should not go red over a medium finding. `error`
is an <error> (the check could not be completed: not a verdict on the domain, which is then
not graded); `skipped` is <skipped>; a passed check with no findings has no child. The suite
of a domain carries its verdict as properties (grade and score empty when not graded). An
invalid domain name is one test case with an <error>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..model import AuditRun, CheckStatus, DomainReport, DomainStatus, Severity, sort_findings
from .escape import JUNIT_KEEP, escape
from .verdict_text import grade_label

DEFAULT_FAILURE_THRESHOLD = Severity.HIGH  # without --fail-on: the checks with status `fail`


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters at all, and a dashboard shows the text
    to people: escape as every renderer does, keeping XML's whitespace (report/escape.py)."""
    return escape(text, JUNIT_KEEP)


def _suite(report: DomainReport, threshold: Severity) -> ET.Element:
    s = report.verdict
    suite = ET.Element("testsuite", name=_clean(report.domain))
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="grade", value=s.grade or "")
    ET.SubElement(props, "property", name="score", value="" if s.score is None else str(s.score))
    ET.SubElement(props, "property", name="grade_label", value=grade_label(s))
    ET.SubElement(props, "property", name="grade_status", value=s.grade_status.value)
    if s.not_graded_reason is not None:
        ET.SubElement(props, "property", name="not_graded_reason", value=s.not_graded_reason)
    if s.provisional_score is not None:
        ET.SubElement(props, "property", name="provisional_score", value=str(s.provisional_score))
    tests = failures = errors = skipped = 0
    if report.status is DomainStatus.INVALID:
        case = ET.SubElement(suite, "testcase", name="domain", classname=_clean(report.domain))
        ET.SubElement(case, "error", type="invalid_domain", message=_clean(report.error or ""))
        tests, errors = 1, 1
    for cid, outcome in report.checks.items():
        tests += 1
        case = ET.SubElement(
            suite, "testcase", name=cid.value, classname=_clean(report.domain), time="0"
        )
        findings = sort_findings(outcome.findings)
        report_text = _clean(
            "\n\n".join(
                f"[{f.severity.value}] {f.code}: {f.title}\n{f.detail}\nfix: {f.remediation}"
                for f in findings
            )
        )
        failing = [f for f in findings if f.severity.rank >= threshold.rank]
        if failing and outcome.status is not CheckStatus.ERROR:
            failures += 1
            codes = ", ".join(f.code for f in failing)
            el = ET.SubElement(
                case,
                "failure",
                type=failing[0].severity.value,
                message=_clean(f"{outcome.status.value}: {codes}"),
            )
            el.text = report_text
        elif findings and outcome.status is not CheckStatus.ERROR:
            ET.SubElement(case, "system-out").text = report_text
        elif outcome.status is CheckStatus.ERROR:
            errors += 1
            reason = outcome.error.reason.value if outcome.error else "error"
            message = outcome.error.message if outcome.error else "could not check"
            ET.SubElement(case, "error", type=reason, message=_clean(message))
        elif outcome.status is CheckStatus.SKIPPED:
            skipped += 1
            ET.SubElement(case, "skipped", message=_clean(outcome.skip_reason or ""))
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    return suite


def junit_xml(run: AuditRun, fail_on: Severity | None = None) -> str:
    """`fail_on`: the `--fail-on` severity; a finding at or above it is a <failure>."""
    threshold = fail_on if fail_on is not None else DEFAULT_FAILURE_THRESHOLD
    root = ET.Element("testsuites", name="mailauth-audit")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for report in run.domains:
        suite = _suite(report, threshold)
        for k in totals:
            totals[k] += int(suite.get(k, "0"))
        root.append(suite)
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
