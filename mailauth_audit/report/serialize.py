"""Turn the typed model into plain JSON values: the contract compliance workflows consume.

The shape is fixed by `schema.json` next to this module; `SCHEMA_VERSION` changes with it
(major bump for anything that breaks an existing consumer).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from enum import Enum
from typing import Any

try:  # optional speed-up: the same bytes, cheaper to make (see domain_json_line)
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency
    orjson = None  # type: ignore[assignment]

from ..model import AuditRun, CheckOutcome, DomainReport, Finding
from ..version import __version__
from .checklist import provider_checklist
from .score import DomainScore

# 1.1: per-domain score and provider checklist
# 1.2: no grade without evidence: a domain with a check in error has score.grade and
#      score.score null, score.grade_status "not_graded", score.not_graded_reason,
#      score.provisional_score and score.checks_in_error
# 1.3: top-level provenance (mode live/draft/sample, the resolvers or zone files with their
#      SHA-256, the time, the tool version); error reason outside_zone_file
SCHEMA_VERSION = "1.3"
TOOL_NAME = "mailauth-audit"


_PLAIN = frozenset({str, int, float, bool, type(None)})
# dataclass -> its field names (None: not a dataclass). A cache of class structure, not of
# values: bulk runs serialise a report per domain and dataclasses.fields() is slow.
_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    try:
        return _FIELD_NAMES[cls]
    except KeyError:
        names = None
        if dataclasses.is_dataclass(cls):
            names = tuple(f.name for f in dataclasses.fields(cls))
        _FIELD_NAMES[cls] = names
        return names


def to_jsonable(value: Any) -> Any:
    """Frozen dataclasses, enums and tuples to dicts, strings and lists, recursively."""
    cls = type(value)
    if cls in _PLAIN:
        return value
    if cls is tuple or cls is list:
        return [v if type(v) in _PLAIN else to_jsonable(v) for v in value]
    if cls is not DomainReport and cls is not CheckOutcome and not isinstance(value, Enum):
        names = _field_names(cls)
        if names is not None:
            out = {}
            for name in names:
                v = getattr(value, name)
                out[name] = v if type(v) in _PLAIN else to_jsonable(v)
            return out
    if value is None or isinstance(value, (bool, int, float, str)):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, DomainReport):
        return domain_to_json(value)
    if isinstance(value, CheckOutcome):
        return outcome_to_json(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def finding_to_json(finding: Finding) -> dict[str, Any]:
    return to_jsonable(finding)


def outcome_to_json(outcome: CheckOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status.value,
        "result": to_jsonable(outcome.result),
        "findings": [finding_to_json(f) for f in outcome.findings],
        "error": to_jsonable(outcome.error),
        "skip_reason": outcome.skip_reason,
    }


def domain_to_json(report: DomainReport) -> dict[str, Any]:
    return {
        "domain": report.domain,
        "input": report.input,
        "status": report.status.value,
        "error": report.error,
        "dns_queries": report.dns_queries,
        "checks": {cid.value: outcome_to_json(o) for cid, o in report.checks.items()},
        "findings": [finding_to_json(f) for f in report.findings],
        "score": to_jsonable(report.verdict),
        "checklist": to_jsonable(provider_checklist(report)),
        "resolver_notes": to_jsonable(report.resolver_notes),
    }


def domain_json_line(report: DomainReport, score: DomainScore | None = None) -> bytes:
    """`domain_to_json` as compact UTF-8 JSON: exactly the bytes of
    `json.dumps(domain_to_json(report), ensure_ascii=False, separators=(",", ":")).encode()`.

    Why: a bulk run writes one such line per domain, and building the dict tree and encoding
    it with the json module is a large share of a domain's CPU; orjson encodes the frozen
    dataclasses, the StrEnums and the tuples directly (fields in definition order, as
    `to_jsonable` does), without that tree (figures: docs/BENCHMARKS.md). Anything orjson
    refuses (a lone surrogate, an integer beyond 64 bits) goes the json module's way, so the
    result or the error is the same.
    """
    if orjson is not None:
        try:
            return orjson.dumps(_native_doc(report, score))
        except orjson.JSONEncodeError:
            pass
    doc = domain_to_json(report)
    if score is not None:
        doc["score"] = to_jsonable(score)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _native_doc(report: DomainReport, score: DomainScore | None) -> dict[str, Any]:
    """The `domain_to_json` shape with the dataclasses left in, for orjson to encode."""
    return {
        "domain": report.domain,
        "input": report.input,
        "status": report.status.value,
        "error": report.error,
        "dns_queries": report.dns_queries,
        "checks": {
            cid.value: {
                "status": o.status.value,
                "result": o.result,
                "findings": o.findings,
                "error": o.error,
                "skip_reason": o.skip_reason,
            }
            for cid, o in report.checks.items()
        },
        "findings": report.findings,
        "score": score if score is not None else report.verdict,
        "checklist": provider_checklist(report),
        "resolver_notes": report.resolver_notes,
    }


def run_to_json(run: AuditRun) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": run.tool_version or __version__},
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "dns_queries": run.dns_queries,
        "provenance": to_jsonable(run.provenance),
        "domains": [domain_to_json(d) for d in run.domains],
    }
