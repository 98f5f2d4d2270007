"""The findings catalogue stays consistent: unique stable codes, each cites its standard."""

from mailauth_audit.findings import all_specs
from mailauth_audit.model import CheckId


def test_codes_are_unique_prefixed_and_referenced() -> None:
    specs = all_specs()
    codes = [s.code for s in specs]
    assert len(codes) == len(set(codes)), "duplicate finding codes"
    assert len(specs) >= 30
    for spec in specs:
        assert spec.code.startswith(spec.check.value + "."), spec.code
        assert spec.code == spec.code.lower() and " " not in spec.code
        assert spec.title and spec.detail and spec.remediation, spec.code
        assert spec.references, f"{spec.code} cites no standard"
    assert {s.check for s in specs} == set(CheckId)
