"""The JSON Schema of `history`, `diff` and `alerts` JSON, from the store views' type hints.

One document shape per `kind`: {"kind": K, "format": HISTORY_FORMAT, K: <the view>}.
Regenerate the committed file with `python -m mailauth_audit.report.history_schema`.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from ..store.diff import AuditDiff
from ..store.views import HISTORY_FORMAT, DomainHistory, RunDiff, StoredEvent
from .schema import SchemaBuilder, schema_text

__all__ = ["build_history_schema", "committed_history_schema"]


def build_history_schema() -> dict[str, Any]:
    b = SchemaBuilder()
    kinds = {
        "history": b.of(DomainHistory),
        "diff": b.of(AuditDiff),
        "run_diff": b.of(RunDiff),
        "events": {"type": "array", "items": b.of(StoredEvent)},
    }
    run_diff = b.defs["RunDiff"]
    for name in ("worse", "better"):  # properties of RunDiff, written beside its fields
        run_diff["properties"][name] = {"type": "integer", "minimum": 0}
        run_diff["required"].append(name)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mailauth-audit.invalid/history.schema.json",
        "title": "mailauth-audit history, diff and alerts JSON",
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "kind": {"const": kind},
                    "format": {"const": HISTORY_FORMAT},
                    kind: body,
                },
                "required": ["kind", "format", kind],
                "additionalProperties": False,
            }
            for kind, body in kinds.items()
        ],
        "$defs": dict(sorted(b.defs.items())),
    }


def committed_history_schema() -> dict[str, Any]:
    text = resources.files("mailauth_audit.report").joinpath("history_schema.json")
    doc: dict[str, Any] = json.loads(text.read_text("utf-8"))
    return doc


if __name__ == "__main__":
    target = resources.files("mailauth_audit.report").joinpath("history_schema.json")
    with resources.as_file(target) as path:
        path.write_text(schema_text(build_history_schema()), encoding="utf-8")
        print(f"wrote {path}")
