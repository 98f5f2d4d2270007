"""schemathesis against the API's own OpenAPI document, in process (ASGI): for every
operation, generated requests (half with the path pointing at a stored domain or id, so
the 200 answers are exercised, not only the 404/422 ones) give no 5xx, only documented
status codes and content types, and bodies that match their schemas."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.openapi.checks import JsonSchemaError
from service_app import DOMAIN, Api

import mailauth_audit.service.routes_domains as routes_domains

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = int(os.environ.get("MAILAUTH_FUZZ_EXAMPLES", "20"))  # per operation


def _schema(api: Api) -> Any:
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(api.app.openapi())))  # type: ignore[attr-defined]
    schema.app = api.app
    return schema


def _known(case: Any) -> Any:
    """The case with its path naming the stored domain, or id 1 (an audit run, a schedule)."""
    params = dict(case.path_parameters or {})
    for key in params:
        params[key] = DOMAIN if key == "domain" else 1
    case.path_parameters = params
    return case


def _fuzz(api: Api, operation: Any, examples: int, seen: list[int]) -> None:
    strategy = operation.as_strategy()
    headers = api.headers("admin")

    @given(case=st.one_of(strategy, strategy.map(_known)))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        seen.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    run()


def _operations() -> list[str]:
    from mailauth_audit.service.server import openapi_document

    doc = openapi_document()
    return [f"{m.upper()} {p}" for p, item in doc["paths"].items() for m in item]


@pytest.fixture(scope="module")
def schema(api: Api) -> Any:
    # a schedule with id 1 for the "known" cases (created once; DELETE may remove it)
    body = {"name": "fuzzed", "cron": "@daily", "domains": [DOMAIN]}
    api.client.post("/v1/schedules", headers=api.headers("admin"), content=json.dumps(body))
    return _schema(api)


@pytest.mark.parametrize("label", _operations())
def test_fuzz_operation_no_5xx_and_every_response_matches_its_schema(
    api: Api, schema: Any, label: str
) -> None:
    method, path = label.split(" ", 1)
    seen: list[int] = []
    _fuzz(api, schema[path][method], EXAMPLES, seen)
    assert seen and max(seen) < 500, seen


def test_the_fuzzer_catches_a_response_off_its_schema(
    api: Api, schema: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        routes_domains, "json_document", lambda kind, view: json.dumps({"kind": kind})
    )
    with pytest.raises(BaseExceptionGroup) as caught:
        _fuzz(api, schema["/v1/domains/{domain}/history"]["GET"], 30, [])
    assert caught.group_contains(JsonSchemaError)
