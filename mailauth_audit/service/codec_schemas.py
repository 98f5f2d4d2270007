"""The CLI's JSON schemas as OpenAPI components: the API answers in the codec's shapes.

`report/schema.json` (a domain report, as `check -f json` writes it) and
`report/history_schema.json` (`history`, `diff`, `alerts -f json`) are copied into
`components/schemas` with their `$defs` prefixed (`Report_`, `History_`: both define a
`RecordChange`), so the served OpenAPI document, and schemathesis reading it, validate a
response against the very schema the CLI's output is tested with.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from fastapi import FastAPI

__all__ = [
    "DIFF_REF",
    "EVENTS_REF",
    "HISTORY_REF",
    "REPORT_REF",
    "codec_components",
    "json_ref",
    "with_codec_schemas",
]

REPORT_REF = "#/components/schemas/Report_DomainReport"
HISTORY_REF = "#/components/schemas/HistoryDocument"
DIFF_REF = "#/components/schemas/DiffDocument"
EVENTS_REF = "#/components/schemas/EventsDocument"


def json_ref(ref: str, description: str) -> dict[str, Any]:
    """A `responses` entry whose JSON body is the component at `ref`."""
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _load(name: str) -> dict[str, Any]:
    text = resources.files("mailauth_audit.report").joinpath(name).read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def _rewrite(value: Any, prefix: str) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith("#/$defs/"):
                out[key] = "#/components/schemas/" + prefix + item.removeprefix("#/$defs/")
            else:
                out[key] = _rewrite(item, prefix)
        return out
    if isinstance(value, list):
        return [_rewrite(v, prefix) for v in value]
    return value


@cache
def _components() -> str:
    schemas: dict[str, Any] = {}
    for name, prefix in (("schema.json", "Report_"), ("history_schema.json", "History_")):
        doc = _load(name)
        for key, value in doc.get("$defs", {}).items():
            schemas[prefix + key] = _rewrite(value, prefix)
        if prefix == "History_":
            branches = {b["required"][2]: b for b in doc["oneOf"]}
            for kind, component in (
                ("history", "HistoryDocument"),
                ("diff", "DiffDocument"),
                ("events", "EventsDocument"),
            ):
                schemas[component] = _rewrite(branches[kind], prefix)
    return json.dumps(schemas)


def codec_components() -> dict[str, Any]:
    """A fresh copy each call: the caller adds them to its document."""
    loaded: dict[str, Any] = json.loads(_components())
    return loaded


def with_codec_schemas(app: FastAPI) -> None:
    """Make `app.openapi()` add the codec's components to the document FastAPI generates."""
    generated = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = generated()
            doc.setdefault("components", {}).setdefault("schemas", {}).update(codec_components())
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
