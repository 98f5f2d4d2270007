"""JSON Schema of `mailauth-audit verify --format json` (and of each report `receive` writes),
generated from the message model's type hints like `schema.py` does for domain reports.

Regenerate the committed file with `python -m mailauth_audit.report.message_schema`; a test
fails when the model changed without it.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from ..messages.model import MessageReport
from .schema import SchemaBuilder

MESSAGE_SCHEMA_VERSION = "1.2"  # 1.2: findings carry `changes`, the records they propose
SCHEMA_FILE = "message_schema.json"


def build_message_schema() -> dict[str, Any]:
    b = SchemaBuilder()
    report = b.dataclass_ref(MessageReport)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:mailauth-audit:message-report:{MESSAGE_SCHEMA_VERSION}",
        "title": "mailauth-audit message verification report",
        "type": "object",
        "properties": {
            "schema_version": {"const": MESSAGE_SCHEMA_VERSION},
            "tool": {
                "type": "object",
                "properties": {"name": {"const": "mailauth-audit"}, "version": {"type": "string"}},
                "required": ["name", "version"],
            },
            "message": report,
        },
        "required": ["schema_version", "tool", "message"],
        "additionalProperties": False,
        "$defs": dict(sorted(b.defs.items())),
    }


def committed_message_schema() -> dict[str, Any]:
    text = resources.files("mailauth_audit.report").joinpath(SCHEMA_FILE).read_text("utf-8")
    return json.loads(text)


if __name__ == "__main__":  # python -m mailauth_audit.report.message_schema
    target = resources.files("mailauth_audit.report").joinpath(SCHEMA_FILE)
    with resources.as_file(target) as path:
        path.write_text(json.dumps(build_message_schema(), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")
