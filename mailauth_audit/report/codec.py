"""The one codec between a typed `DomainReport` and its JSON document, both ways.

Why one: the JSON output, the bulk results line and (next) the history store all hold the
same facts, and saved facts must decode back to the typed report a newer `evaluate` can
judge again without asking DNS. Encoding walks the values (frozen dataclasses in field
order, enums by value, tuples as lists); decoding is driven by the dataclasses' type hints,
the same information `schema.py` builds the JSON Schema from, so a field the schema
describes is a field the decoder reads.

What a document stores and what it derives: `findings` (every check's findings, sorted),
`score` (the verdict) and `checklist` (the provider checklist) are computed from the report,
so `from_json` ignores them and recomputes them on demand; `CheckOutcome.check` is the key
of `checks`. Everything else is stored, so `from_json(to_json(r)) == r`.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from ..model import CheckOutcome, DomainReport
from ..verdicts.score import DomainScore
from .decode import DERIVED_KEYS, FORMAT_KEY, CodecError, decode_value, from_json
from .decode import keep as _keep

__all__ = [
    "DERIVED_KEYS",
    "FORMAT_KEY",
    "CodecError",
    "decode_value",
    "encode_value",
    "from_json",
    "report_document",
    "to_json",
]

_PLAIN = frozenset({str, int, float, bool, type(None)})
# dataclass -> its field names (None: not a dataclass). A cache of class structure, not of
# values: bulk runs encode ~1,000 reports a second and dataclasses.fields() is slow.
_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


# ---- encoding ----------------------------------------------------------------------------


def _field_names(cls: type) -> tuple[str, ...] | None:
    try:
        return _FIELD_NAMES[cls]
    except KeyError:
        names = None
        if dataclasses.is_dataclass(cls):
            names = tuple(f.name for f in dataclasses.fields(cls))
        _FIELD_NAMES[cls] = names
        return names


def encode_value(value: Any) -> Any:
    """Frozen dataclasses, enums and tuples to dicts, strings and lists, recursively."""
    cls = type(value)
    if cls in _PLAIN:
        return value
    if cls is tuple or cls is list:
        return [v if type(v) in _PLAIN else encode_value(v) for v in value]
    if cls is not DomainReport and cls is not CheckOutcome and not isinstance(value, Enum):
        names = _field_names(cls)
        if names is not None:
            out = {}
            for name in names:
                v = getattr(value, name)
                out[name] = v if type(v) in _PLAIN else encode_value(v)
            return out
    if value is None or isinstance(value, (bool, int, float, str)):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, DomainReport):
        return to_json(value)
    if isinstance(value, CheckOutcome):
        return _outcome(value, encode_value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(encode_value(k)): encode_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode_value(v) for v in value]
    if isinstance(value, bytes):
        # DER certificates of a probe: base64, so the bytes survive (DANE re-reads them)
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return value.isoformat()  # what orjson writes for the same value
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _outcome(outcome: CheckOutcome, leaf: Callable[[Any], Any]) -> dict[str, Any]:
    return {
        "status": outcome.status.value,
        "result": leaf(outcome.result),
        "findings": [leaf(f) for f in outcome.findings],
        "error": leaf(outcome.error),
        "skip_reason": outcome.skip_reason,
    }


def report_document(
    report: DomainReport,
    score: DomainScore | None = None,
    *,
    native: bool = False,
) -> dict[str, Any]:
    """The document of one domain: the shape `schema.json` fixes, in its key order.

    native=True leaves the dataclasses, enums and tuples in place for orjson, which encodes
    them exactly as `encode_value` would (the bulk fast path); otherwise plain JSON values.
    `score` is the verdict when the caller has already judged the report.
    """
    leaf = _keep if native else encode_value
    findings: Any = report.findings if native else [encode_value(f) for f in report.findings]
    return {
        "domain": report.domain,
        "input": report.input,
        "status": report.status.value,
        "error": report.error,
        "dns_queries": report.dns_queries,
        "checks": {cid.value: _outcome(o, leaf) for cid, o in report.checks.items()},
        "findings": findings,
        "score": leaf(score if score is not None else report.verdict),
        "checklist": leaf(report.checklist),
        "resolver_notes": leaf(report.resolver_notes),
    }


def to_json(report: DomainReport) -> dict[str, Any]:
    """The report as plain JSON values (`check --format json`'s per-domain object)."""
    return report_document(report)
