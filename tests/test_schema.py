"""The committed JSON Schema is the model's, and every JSON we produce conforms to it."""

from __future__ import annotations

import asyncio
import json

import jsonschema
import pytest
from fixture_zone import FIXTURE_DOMAINS, ZONE

from mailauth_audit.asyncapi import audit_domains
from mailauth_audit.report.renderers import JsonRenderer
from mailauth_audit.report.schema import build_schema, committed_schema
from mailauth_audit.resolver.static import StaticResolver

ALL_FIXTURE_DOMAINS = [*FIXTURE_DOMAINS, "not a domain"]


def test_committed_schema_is_generated_from_the_model() -> None:
    # If this fails: run `python -m mailauth_audit.report.schema` to regenerate schema.json,
    # and bump SCHEMA_VERSION's major number if the change breaks existing consumers.
    assert committed_schema() == build_schema()


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(committed_schema())


@pytest.fixture(scope="module")
def fixture_report() -> dict:  # type: ignore[type-arg]
    run = asyncio.run(audit_domains(ALL_FIXTURE_DOMAINS, resolver=StaticResolver(ZONE)))
    return json.loads(JsonRenderer().render(run))  # type: ignore[no-any-return]


def test_json_of_every_fixture_domain_validates(fixture_report: dict) -> None:  # type: ignore[type-arg]
    jsonschema.validate(fixture_report, committed_schema())
    assert len(fixture_report["domains"]) == len(ALL_FIXTURE_DOMAINS)


def test_json_has_the_fields_the_contract_promises(fixture_report: dict) -> None:  # type: ignore[type-arg]
    good = fixture_report["domains"][0]
    assert good["domain"] == "good.example" and good["status"] == "completed"
    spf = good["checks"]["spf"]["result"]
    assert spf["record"] == "v=spf1 include:_spf.provider.example -all"
    assert spf["dns_lookups"] == 3 and spf["void_lookups"] == 0
    assert spf["tree"]["children"], "the include tree is in the result even when SPF passes"
    dmarc = good["checks"]["dmarc"]["result"]
    assert dmarc["record_domain"] == "_dmarc.good.example"
    assert dmarc["policy"] == "reject" and dmarc["effective_policy"] == "reject"
    sels = {s["selector"]: s for s in good["checks"]["dkim"]["result"]["selectors"]}
    assert sels["selector1"]["key_type"] == "rsa" and sels["selector1"]["key_bits"] == 2048
