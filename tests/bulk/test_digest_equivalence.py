"""digest_report (read off the typed report, in the workers) must equal digest (read off the
results line, on --resume), for lines of every format: otherwise a resumed run's summary
would differ from a straight one."""

from __future__ import annotations

import orjson
import pytest
from codec_cases import CASES, DOMAINS, audit, hand_built
from old_lines import as_read_back, format3_line, format4_line

from mailauth_audit.bulk.jsonl import LINE_FORMAT, bulk_line
from mailauth_audit.bulk.summary import digest, digest_report
from mailauth_audit.model import DomainReport
from mailauth_audit.report.codec import from_json
from mailauth_audit.report.serialize import domain_json_line


def _lines(report: DomainReport) -> dict[str, dict]:  # type: ignore[type-arg]
    return {
        "format 1": orjson.loads(domain_json_line(report)),
        "format 3": orjson.loads(format3_line(report)),
        "format 4": orjson.loads(format4_line(report)),
        f"format {LINE_FORMAT}": orjson.loads(bulk_line(report)),
    }


@pytest.mark.parametrize(("name", "resolver", "options"), CASES, ids=[c[0] for c in CASES])
def test_digest_of_the_report_equals_digest_of_its_line(
    name: str, resolver: object, options: object
) -> None:
    reports = audit(resolver(), DOMAINS, options)  # type: ignore[operator, arg-type]
    assert len(reports) == len(DOMAINS)
    for report in [*reports, hand_built()]:
        want = digest_report(report)
        for fmt, doc in _lines(report).items():
            # format 4 dropped a skipped check's facts; format 5 keeps or derives them
            back = as_read_back(report) if fmt == "format 4" else report
            assert from_json(doc) == back, (fmt, report.domain)
            assert digest(doc) == want, (fmt, report.domain)
            assert digest_report(from_json(doc)) == want, (fmt, report.domain)


def test_the_cases_cover_errors_skips_and_invalid_names() -> None:
    seen_status = set()
    seen_check_status = set()
    for _, resolver, options in CASES:
        for report in audit(resolver(), DOMAINS, options):  # type: ignore[operator]
            seen_status.add(report.status.value)
            seen_check_status.update(o.status.value for o in report.checks.values())
    assert {"completed", "invalid"} <= seen_status
    assert {"error", "skipped", "pass", "fail", "warn"} <= seen_check_status
