"""Generate the JSON Schema of our output from the model's type hints.

The committed `schema.json` is what consumers rely on; a test regenerates it and fails when
the model changed without the file (and, for breaking changes, the major version) following.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import datetime
from enum import Enum, IntEnum
from importlib import resources
from typing import Any

from ..model import (
    CheckError,
    CheckId,
    CheckStatus,
    DomainStatus,
    Finding,
    Provenance,
    ResolverNote,
)
from ..verdicts.checklist import ProviderChecklist
from ..verdicts.score import DomainScore
from .serialize import SCHEMA_VERSION

_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    bytes: {"type": "string", "contentEncoding": "base64"},  # DER certificates
    datetime: {"type": "string", "format": "date-time"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
}


class SchemaBuilder:
    """JSON Schema fragments from type hints; dataclasses become shared $defs (recursion ok)."""

    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}

    def of(self, tp: Any) -> dict[str, Any]:
        if tp in _SCALARS:
            return dict(_SCALARS[tp])
        if tp is Any or tp is object:
            return {}
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            return {"anyOf": [self.of(a) for a in args]}
        if origin is typing.Literal:
            return {"enum": list(args)}
        if origin in (tuple, list, frozenset, set):
            if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
                return {
                    "type": "array",
                    "prefixItems": [self.of(a) for a in args],
                    "minItems": len(args),
                    "maxItems": len(args),
                }
            return {"type": "array", "items": self.of(args[0]) if args else {}}
        if origin in (dict, typing.Mapping) or (
            origin is not None and getattr(origin, "__name__", "") == "Mapping"
        ):
            return {"type": "object", "additionalProperties": self.of(args[1]) if args else {}}
        if isinstance(tp, type) and issubclass(tp, Enum):
            kind = "integer" if issubclass(tp, IntEnum) else "string"
            return {"type": kind, "enum": [m.value for m in tp]}
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return self.dataclass_ref(tp)
        raise TypeError(f"no JSON schema for type {tp!r}")

    def dataclass_ref(self, cls: type) -> dict[str, Any]:
        name = cls.__name__
        if name not in self.defs:
            self.defs[name] = {}  # placeholder first: recursive types refer to themselves
            hints = typing.get_type_hints(cls)
            fields = dataclasses.fields(cls)
            self.defs[name] = {
                "type": "object",
                "properties": {f.name: self.of(hints[f.name]) for f in fields},
                "required": [f.name for f in fields],
                "additionalProperties": False,
            }
            doc = (cls.__doc__ or "").strip()
            if doc and not doc.startswith(f"{name}("):
                self.defs[name]["description"] = doc.splitlines()[0]
        return {"$ref": f"#/$defs/{name}"}


def build_schema() -> dict[str, Any]:
    """The schema of `mailauth-audit check --format json`, from the model's type hints."""
    from ..checks.registry import CHECKS

    b = SchemaBuilder()
    finding = b.dataclass_ref(Finding)
    error = b.dataclass_ref(CheckError)
    provenance = b.dataclass_ref(Provenance)
    checks: dict[str, Any] = {}
    for cid in CheckId:
        result = b.dataclass_ref(CHECKS[cid].result_type)
        checks[cid.value] = {
            "type": "object",
            "properties": {
                "status": b.of(CheckStatus),
                "result": {"anyOf": [result, {"type": "null"}]},
                "findings": {"type": "array", "items": finding},
                "error": {"anyOf": [error, {"type": "null"}]},
                "skip_reason": {"type": ["string", "null"]},
            },
            "required": ["status", "result", "findings", "error", "skip_reason"],
            "additionalProperties": False,
        }
    b.defs["DomainReport"] = {
        "type": "object",
        "properties": {
            "domain": {"type": "string"},
            "input": {"type": ["string", "null"]},
            "status": b.of(DomainStatus),
            "error": {"type": ["string", "null"]},
            "dns_queries": {"type": "integer", "minimum": 0},
            "checks": {
                "type": "object",
                "properties": checks,
                "additionalProperties": False,
            },
            "findings": {"type": "array", "items": finding},
            "score": b.dataclass_ref(DomainScore),
            "checklist": b.dataclass_ref(ProviderChecklist),
            "resolver_notes": {"type": "array", "items": b.dataclass_ref(ResolverNote)},
        },
        "required": [
            "domain",
            "input",
            "status",
            "error",
            "dns_queries",
            "checks",
            "findings",
            "score",
            "checklist",
            "resolver_notes",
        ],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:mailauth-audit:report:{SCHEMA_VERSION}",
        "title": "mailauth-audit report",
        "type": "object",
        "properties": {
            "schema_version": {"const": SCHEMA_VERSION},
            "tool": {
                "type": "object",
                "properties": {"name": {"const": "mailauth-audit"}, "version": {"type": "string"}},
                "required": ["name", "version"],
            },
            "started_at": {"type": "string"},
            "finished_at": {"type": "string"},
            "dns_queries": {"type": "integer", "minimum": 0},
            "provenance": {"anyOf": [provenance, {"type": "null"}]},
            "domains": {"type": "array", "items": {"$ref": "#/$defs/DomainReport"}},
        },
        "required": ["schema_version", "tool", "started_at", "finished_at", "domains"],
        "additionalProperties": False,
        "$defs": dict(sorted(b.defs.items())),
    }


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def committed_schema() -> dict[str, Any]:
    """The schema shipped with the package (what `mailauth-audit schema` prints)."""
    text = resources.files("mailauth_audit.report").joinpath("schema.json").read_text("utf-8")
    return json.loads(text)


if __name__ == "__main__":  # regenerate the committed file: python -m mailauth_audit.report.schema
    target = resources.files("mailauth_audit.report").joinpath("schema.json")
    with resources.as_file(target) as path:
        path.write_text(schema_text(build_schema()), encoding="utf-8")
        print(f"wrote {path}")
