"""The endpoints' answers: the CLI's documents (validated with the CLI's schemas), schedules
created, listed, changed and deleted, alerts acknowledged, metrics, and bad input refused
with its reasons (never a 5xx)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest
from history_zones import BEFORE, audit
from service_app import DOMAIN, Api

from mailauth_audit.report.codec import to_json
from mailauth_audit.report.history import json_document
from mailauth_audit.store.record import RunInfo, utc_text
from mailauth_audit.store.views import diff_domain, domain_history


def _schema(name: str) -> dict[str, Any]:
    text = resources.files("mailauth_audit.report").joinpath(name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


HISTORY_SCHEMA = _schema("history_schema.json")


def test_history_and_diff_are_the_cli_documents(api: Api) -> None:
    r = api.client.get(f"/v1/domains/{DOMAIN}/history", headers=api.headers("read"))
    assert r.status_code == 200
    jsonschema.validate(r.json(), HISTORY_SCHEMA)
    assert r.json() == json.loads(json_document("history", domain_history(api.store, DOMAIN, 100)))
    assert [e["grade"] for e in r.json()["history"]["entries"]] == ["A", "B"]

    r = api.client.get(f"/v1/domains/{DOMAIN.upper()}./diff", headers=api.headers("read"))
    assert r.status_code == 200
    jsonschema.validate(r.json(), HISTORY_SCHEMA)
    assert r.json() == json.loads(json_document("diff", diff_domain(api.store, DOMAIN)))

    r = api.client.get("/v1/domains/never.example/diff", headers=api.headers("read"))
    assert r.status_code == 404 and "needs two" in r.json()["detail"]
    r = api.client.get("/v1/domains/never.example/history", headers=api.headers("read"))
    assert r.status_code == 200 and r.json()["history"]["entries"] == []
    for bad in ("a..b/history", "a..b/diff", f"{DOMAIN}/history?limit=0"):
        r = api.client.get(f"/v1/domains/{bad}", headers=api.headers("read"))
        assert r.status_code == 422, (bad, r.text)


def test_alerts_list_filter_and_acknowledge(api: Api) -> None:
    read, write = api.headers("read"), api.headers("write")
    r = api.client.get("/v1/alerts", headers=read, params={"include_acked": "true"})
    assert r.status_code == 200
    jsonschema.validate(r.json(), HISTORY_SCHEMA)
    events = r.json()["events"]
    codes = {e["code"] for e in events}
    assert {"dkim.key_shortened", "dmarc.policy_weakened"} <= codes, codes
    high = api.client.get("/v1/alerts", headers=read, params={"severity": "high"}).json()
    assert all(e["severity"] in ("high", "critical") for e in high["events"])
    one = api.client.get("/v1/alerts", headers=read, params={"limit": 1, "include_acked": True})
    assert len(one.json()["events"]) == 1
    assert one.headers["x-more-events"] == str(len(events) - 1)

    target = next(e["id"] for e in events if e["acked_at"] is None)
    r = api.client.post("/v1/alerts/ack", headers=write, content=json.dumps({"ids": [target]}))
    assert r.status_code == 200 and r.json() == {"acknowledged": 1}
    again = api.client.post("/v1/alerts/ack", headers=write, content=json.dumps({"ids": [target]}))
    assert again.json() == {"acknowledged": 0}
    listed = api.client.get("/v1/alerts", headers=read).json()["events"]
    assert target not in [e["id"] for e in listed]
    for body in (b"{bad", b"[]", b'{"ids": []}', b'{"ids": ["1"]}', b'{"ids": [1], "x": 1}'):
        r = api.client.post("/v1/alerts/ack", headers=write, content=body)
        assert r.status_code in (400, 422), (body, r.text)
    for params in ({"since": "yesterday"}, {"severity": "dire"}, {"domain": "a..b"}):
        assert api.client.get("/v1/alerts", headers=read, params=params).status_code == 422


SCHEDULE = {
    "name": "nightly",
    "cron": "0 3 * * *",
    "group": "customers",
    "domains": ["Shop.Example.", "other.example", "shop.example"],
    "checks": ["spf", "dmarc"],
    "webhooks": ["https://hooks.example/audit"],
    "emails": ["ops@example.com"],
}


def test_schedules_create_list_update_delete(api: Api) -> None:
    write, read = api.headers("write"), api.headers("read")
    r = api.client.post("/v1/schedules", headers=write, content=json.dumps(SCHEDULE))
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["domains"] == ["shop.example", "other.example"]  # normalised, each once
    assert made["checks"] == ["dmarc", "spf"] and made["enabled"] is True
    assert r.headers["location"] == f"/v1/schedules/{made['id']}"
    dup = api.client.post("/v1/schedules", headers=write, content=json.dumps(SCHEDULE))
    assert dup.status_code == 409 and "exists already" in dup.json()["detail"]

    listed = api.client.get("/v1/schedules", headers=read).json()["schedules"]
    assert made in listed
    one = api.client.get(f"/v1/schedules/{made['id']}", headers=read).json()
    assert one["ticks"] == [] and one["cron"] == "0 3 * * *"

    r = api.client.patch(
        f"/v1/schedules/{made['id']}",
        headers=write,
        content=json.dumps({"cron": "@hourly", "enabled": False}),
    )
    assert r.status_code == 200, r.text
    assert r.json()["cron"] == "@hourly" and r.json()["enabled"] is False
    assert r.json()["domains"] == made["domains"]  # fields not given keep their values
    assert r.json()["updated_at"] > made["updated_at"]

    assert api.client.delete(f"/v1/schedules/{made['id']}", headers=write).status_code == 204
    assert api.client.delete(f"/v1/schedules/{made['id']}", headers=write).status_code == 404
    assert api.client.get(f"/v1/schedules/{made['id']}", headers=read).status_code == 404
    assert api.client.get("/v1/schedules/0", headers=read).status_code == 422
    assert api.client.get(f"/v1/schedules/{2**40}", headers=read).status_code == 422


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"cron": "61 * * * *"}, "cron", "not a valid cron"),
        ({"cron": "* * * * * *"}, "cron", "five fields"),
        ({"cron": "@reboot"}, "cron", "unknown alias"),
        ({"domains": []}, "domains", "1 to"),
        ({"checks": ["nope"]}, "checks", "unknown check"),
        ({"webhooks": ["ftp://x.example/"]}, "webhooks", "http"),
        ({"webhooks": ["http://127.0.0.1:9/"]}, "webhooks", "non-global"),
        ({"webhooks": ["http://user:pw@hooks.example/"]}, "webhooks", "credentials"),
        ({"emails": ["not an address"]}, "emails", "an address like"),
        ({"enabled": "yes"}, "enabled", "true or false"),
        ({"surprise": 1}, "surprise", "unknown field"),
    ],
)
def test_bad_schedules_are_422_with_each_reason(
    api: Api, change: dict[str, Any], field: str, reason: str
) -> None:
    body = {**SCHEDULE, "name": "bad", **change}
    r = api.client.post("/v1/schedules", headers=api.headers("write"), content=json.dumps(body))
    assert r.status_code == 422, r.text
    assert any(e["field"] == field and reason in e["reason"] for e in r.json()["errors"]), r.text


def test_garbage_domain_names_get_a_reason_each(api: Api) -> None:
    names = ["ok.example", "a..b", "exa mple.com", 7, "-x.example", "x" * 300]
    body = {**SCHEDULE, "name": "garbage", "domains": names}
    r = api.client.post("/v1/schedules", headers=api.headers("write"), content=json.dumps(body))
    assert r.status_code == 422
    errors = [e for e in r.json()["errors"] if e["field"] == "domains"]
    assert [e["index"] for e in errors] == [1, 2, 3, 4, 5]
    assert all(e["reason"] for e in errors)


def test_100000_domains_are_refused_by_the_cap(api: Api) -> None:
    domains = [f"d{i}.example" for i in range(100_000)]
    for path, body in (
        ("/v1/audits", {"domains": domains}),
        ("/v1/schedules", {**SCHEDULE, "name": "huge", "domains": domains}),
    ):
        r = api.client.post(path, headers=api.headers("write"), content=json.dumps(body))
        assert r.status_code == 422, (path, r.text[:300])
        assert "100000 domains" in r.text and "max_domains_per_request" in r.text


@pytest.mark.parametrize("body", [b"{bad", b"", b"\xff\xfe", b"[" * 100_000, b"[1]", b'"x"'])
@pytest.mark.parametrize("path", ["/v1/schedules", "/v1/audits", "/v1/alerts/ack"])
def test_malformed_json_is_4xx(api: Api, path: str, body: bytes) -> None:
    r = api.client.post(path, headers=api.headers("write"), content=body)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.json()["detail"]
    r = api.client.patch("/v1/schedules/1", headers=api.headers("write"), content=body)
    assert 400 <= r.status_code < 500


def test_metrics_count_audits_dns_queries_and_errors(api: Api) -> None:
    read = api.headers("read")
    r = api.client.get("/metrics", headers=read)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    before = _samples(r.text)
    # two new audits after the app started: one as audited, one with its SPF check in error
    run = audit(BEFORE)
    api.store.record_run(run)
    doc = to_json(run.domains[0])
    doc["checks"]["spf"].update(
        status="error", error={"reason": "dns_timeout", "message": "timed out", "trace": None}
    )
    run_id, started = api.store.start_run(RunInfo("api", utc_text(), "test", None))
    api.store.record_documents(run_id, started, [doc])
    after = _samples(api.client.get("/metrics", headers=read).text)
    done = 'mailauth_audit_audits_total{status="completed"}'
    assert after[done] == before.get(done, 0) + 2
    timeouts = 'mailauth_audit_check_errors_total{reason="dns_timeout"}'
    assert after[timeouts] == before.get(timeouts, 0) + 1
    assert after["mailauth_audit_dns_queries_total"] > before["mailauth_audit_dns_queries_total"]
    assert "mailauth_audit_jobs" in r.text and 'state="queued"' in r.text
    assert "mailauth_audit_check_errors_total" in r.text


def _samples(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out
