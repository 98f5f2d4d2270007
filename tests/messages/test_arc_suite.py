"""The public ARC validation suite (ValiMail arc_test_suite, 171 cases) through verify's ARC
path, read from ../shared/conformance/arc/ (skipped when absent, failed under CI=true; never
copied here).

Each YAML document is a scenario: `tests` maps a case name to a `message` and the expected
chain validation `cv` (Pass / Fail / None, or empty); `txt-records` maps DNS names to the
key records, served here by a StaticResolver. An empty `cv` marks a chain an earlier hop
already sealed as failed: the suite's reference (dkimpy) returns no status, and RFC 8617
§5.2 step 2 says the status is then "fail", which is what we report (with a reason saying
the chain is terminated).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from shared_data import conformance_params, require_conformance

from mailauth_audit.messages.model import AuthResult, Envelope, EnvelopeSource
from mailauth_audit.messages.verify import verify_message_sync
from mailauth_audit.resolver.static import StaticResolver

yaml = pytest.importorskip("yaml")

SUITE = ("arc", "arc-draft-validation-tests.yml")  # inside ../shared/conformance
NO_ENVELOPE = Envelope(None, None, None, EnvelopeSource.GIVEN)


def _zone_line(name: str, value: str) -> str:
    text = " ".join(value.split())
    chunks = [text[i : i + 200] for i in range(0, len(text), 200)] or [""]
    quoted = " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)
    return f"{name.rstrip('.')}. 300 IN TXT {quoted}"


def _cases(suite: Path) -> list[Any]:
    out = []
    for doc in yaml.safe_load_all(suite.read_text(encoding="utf-8")):
        if not doc:
            continue
        records = doc.get("txt-records") or doc.get("txt_records") or {}
        zone = "\n".join(_zone_line(n, v) for n, v in records.items()) + "\n"
        for name, case in doc["tests"].items():
            out.append(pytest.param(zone, case["message"], case.get("cv"), id=name))
    return out


CASES = conformance_params(_cases, ("zone", "text", "cv"), *SUITE)


def test_suite_is_complete() -> None:
    require_conformance(*SUITE)
    assert len(CASES) == 171


def _expected(cv: object) -> AuthResult:
    text = str(cv or "").strip().lower()
    if text in ("", "fail"):
        return AuthResult.FAIL
    return AuthResult(text)


@pytest.mark.parametrize(("zone", "text", "cv"), CASES)
def test_arc_validation(zone: str, text: str, cv: object) -> None:
    raw = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    report = verify_message_sync(raw, StaticResolver(zone), NO_ENVELOPE)
    if not report.parsed:  # a header section the suite made unparsable: no chain to pass
        assert _expected(cv) is not AuthResult.PASS
        return
    assert report.arc is not None
    assert report.arc.result is _expected(cv), report.arc.reason
    if str(cv or "").strip() == "":
        assert "terminated" in report.arc.reason
    if report.arc.result is AuthResult.FAIL:
        assert "arc.fail" in {f.code for f in report.findings}
        assert "arc=fail" in report.authentication_results
