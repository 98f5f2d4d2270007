"""JUnit XML: one test case per check per domain, so CI dashboards show a failing domain like
a failing test.

Mapping: a check with status `fail` (a critical or high finding) is a <failure> whose type is
the worst severity and whose message lists the findings' codes; `warn` passes, with its
findings in <system-out> (a dashboard should not go red over a medium finding); `error` is
an <error> (the check could not be completed: not a verdict on the domain); `skipped` is
<skipped>; `pass` has no child, or <system-out> when it has info findings. The
suite of a domain carries its grade and score as properties. An invalid domain name is one
test case with an <error>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..model import AuditRun, CheckStatus, DomainReport, DomainStatus, sort_findings
from .score import grade_label, score_domain


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters at all: show them as escapes."""
    return "".join(
        ch
        if ch in "\t\n\r"
        or (0x20 <= ord(ch) < 0xD800)
        or (0xE000 <= ord(ch) < 0xFFFE)
        or ord(ch) > 0xFFFF
        else f"\\x{ord(ch):02x}"
        for ch in text
    )


def _suite(report: DomainReport) -> ET.Element:
    s = score_domain(report)
    suite = ET.Element("testsuite", name=_clean(report.domain))
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="grade", value=s.grade or "")
    ET.SubElement(props, "property", name="score", value="" if s.score is None else str(s.score))
    ET.SubElement(props, "property", name="grade_label", value=grade_label(s))
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
        if outcome.status is CheckStatus.FAIL:
            failures += 1
            worst = findings[0].severity.value if findings else outcome.status.value
            codes = ", ".join(f.code for f in findings if f.severity.rank >= 3)
            el = ET.SubElement(
                case, "failure", type=worst, message=_clean(f"{outcome.status.value}: {codes}")
            )
            el.text = report_text
        elif findings and outcome.status in (CheckStatus.WARN, CheckStatus.PASS):
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


def junit_xml(run: AuditRun) -> str:
    root = ET.Element("testsuites", name="mailauth-audit")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for report in run.domains:
        suite = _suite(report)
        for k in totals:
            totals[k] += int(suite.get(k, "0"))
        root.append(suite)
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
