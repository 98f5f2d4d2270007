"""The sparse form of a finding, for lines that are stored by the million.

Why: a finding's title, detail, remediation and references are the catalogue's templates
filled with a few values, and a bulk results line that spells them out for every domain is
mostly the same English again. The sparse form is the finding's code, severity, template
values (`params`, an object), evidence and any other field that is not at its default;
`check`, `title`, `detail`, `remediation` and `references` are written only where they are
not what the catalogue gives (a clipped text, a report from an older version).
`dense_report` puts them back, so a line decodes (`codec.from_json`) to the same report.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from ..findings.base import FindingSpec
from ..model import Finding
from .codec import CodecError

__all__ = ["catalogue", "dense_finding", "dense_report", "sparse_finding"]

_FINDING_TEXTS = ("check", "title", "detail", "remediation", "references")
_WRITTEN = frozenset({"code", "severity", "params", "evidence", *_FINDING_TEXTS})
# Finding's other fields, each left out while it holds its default
_OTHERS = tuple(
    (f.name, f.default)
    for f in dataclasses.fields(Finding)
    if f.name not in _WRITTEN and f.default is not dataclasses.MISSING
)
_MUST_WRITE = tuple(
    f.name
    for f in dataclasses.fields(Finding)
    if f.name not in _WRITTEN and f.default is dataclasses.MISSING
)
_CATALOGUE: dict[str, FindingSpec] = {}


@functools.cache
def catalogue() -> dict[str, FindingSpec]:
    from .. import findings

    return {spec.code: spec for spec in findings.all_specs()}


def sparse_finding(f: Finding) -> dict[str, Any]:
    """The finding as a results line holds it (values left for orjson to write)."""
    d = f.__dict__
    code, params = d["code"], d["params"]
    out: dict[str, Any] = {"code": code, "severity": d["severity"]._value_}
    if params:
        out["params"] = dict(params)
    if d["evidence"]:
        out["evidence"] = d["evidence"]
    spec = (_CATALOGUE or _CATALOGUE.update(catalogue()) or _CATALOGUE).get(code)
    same = spec is not None and spec.check == d["check"] and spec.title == d["title"]
    texts: tuple[str, ...] = _FINDING_TEXTS
    if spec is not None and same and spec.references == d["references"]:
        if params or (d["detail"] == spec.detail and d["remediation"] == spec.remediation):
            texts = ()  # they follow from code and params
        else:
            texts = ("detail", "remediation")
    for name in texts:
        out[name] = d[name]
    for name, default in _OTHERS:
        if d[name] != default:
            out[name] = d[name]
    for name in _MUST_WRITE:
        out[name] = d[name]
    return out


def dense_finding(doc: Any) -> Any:
    """A sparse finding as the full finding object (`check --format json`'s)."""
    if type(doc) is not dict:
        return doc
    params = doc.get("params") or {}
    if type(params) is not dict or not all(type(v) is str for v in params.values()):
        raise CodecError(f"finding {doc.get('code')!r}: params must map names to strings")
    code = doc.get("code")
    if type(code) is not str:
        raise CodecError(f"finding code {code!r}: expected a string")
    spec = catalogue().get(code)
    base: dict[str, Any] = {}
    if spec is not None:
        base = {
            "check": spec.check.value,
            "title": spec.title,
            "references": list(spec.references),
        }
        if "detail" not in doc:
            base["detail"], base["remediation"] = spec.texts(params)
    elif not all(name in doc for name in _FINDING_TEXTS):
        raise CodecError(f"finding {doc.get('code')!r}: not in the catalogue, texts missing")
    return {**base, **doc, "params": [[k, v] for k, v in params.items()]}


def dense_report(doc: dict[str, Any]) -> dict[str, Any]:
    """A report document whose findings are sparse (a results line of format 3) as the full
    one; the outcomes' left-out parts have their defaults when decoded."""
    checks = doc.get("checks")
    if type(checks) is not dict:
        return doc
    dense_checks = {}
    for cid, outcome in checks.items():
        if type(outcome) is dict and type(outcome.get("findings")) is list:
            outcome = {**outcome, "findings": [dense_finding(f) for f in outcome["findings"]]}
        dense_checks[cid] = outcome
    return {**doc, "checks": dense_checks}
