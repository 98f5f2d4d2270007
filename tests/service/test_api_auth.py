"""Every endpoint of the OpenAPI document but /healthz: refused without a token, with an
unknown or revoked one, and (write endpoints) with a read token; no CORS headers; the
per-token rate limit answers 429 with Retry-After."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from service_app import Api, make_store, offline_options
from starlette.testclient import TestClient

from mailauth_audit.options import ServiceLimits
from mailauth_audit.service.app import create_app
from mailauth_audit.service.jobs import JobManager
from mailauth_audit.service.ratelimit import TokenBuckets
from mailauth_audit.service.server import openapi_document
from mailauth_audit.store.store import open_store

DOC = openapi_document()
OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in DOC["paths"].items()
    for method in item
    if path != "/healthz"
)
WRITE_METHODS = {"POST", "PATCH", "DELETE", "PUT"}


def _concrete(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", lambda m: "shop.example" if "domain" in m[0] else "1", path)


def test_the_document_lists_every_endpoint_of_the_issue() -> None:
    paths = set(DOC["paths"])
    assert {
        "/v1/audits",
        "/v1/domains/{domain}",
        "/v1/domains/{domain}/history",
        "/v1/domains/{domain}/diff",
        "/v1/schedules",
        "/v1/schedules/{schedule_id}",
        "/v1/alerts",
        "/v1/alerts/ack",
        "/metrics",
        "/healthz",
    } <= paths
    assert "security" not in json.dumps(DOC["paths"]["/healthz"])


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_endpoint_refuses_no_unknown_and_revoked_tokens(
    api: Api, method: str, path: str
) -> None:
    url = _concrete(path)
    for token in (None, "maa_never-issued", "Basic abc", api.tokens["revoked"]):
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        r = api.client.request(method, url, headers=headers, content=b"{}")
        assert r.status_code == 401, (method, url, token, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
        assert "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_read_tokens_may_read_but_not_write(api: Api, method: str, path: str) -> None:
    r = api.client.request(method, _concrete(path), headers=api.headers("read"), content=b"{}")
    if method in WRITE_METHODS:
        assert r.status_code == 403, (method, path, r.text)
        assert "scope is read" in r.json()["detail"]
    else:
        assert r.status_code in (200, 404), (method, path, r.text)
    assert "access-control-allow-origin" not in r.headers


def test_no_cors_even_for_a_preflight(api: Api) -> None:
    r = api.client.options(
        "/v1/schedules",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in r.headers
    assert r.status_code in (401, 405)


def test_token_bucket_refills_at_its_rate(tmp_path: Path) -> None:
    now = [1000.0]
    store = open_store(str(tmp_path / "buckets.db"))
    try:
        buckets = TokenBuckets(store, rate=2.0, burst=3, clock=lambda: now[0])
        assert [buckets.take(1) for _ in range(3)] == [0.0, 0.0, 0.0]
        assert buckets.take(1) == pytest.approx(0.5)
        assert buckets.take(2) == 0.0  # another token has its own bucket
        now[0] += 0.5
        assert buckets.take(1) == 0.0
        assert buckets.take(1) > 0
        now[0] -= 100  # a clock set back refills nothing, then or when it is right again
        assert buckets.take(1) > 0
        now[0] += 100
        assert buckets.take(1) > 0
        # the bucket is the store's: another process's view of it is the same bucket
        assert TokenBuckets(store, rate=2.0, burst=3, clock=lambda: now[0]).take(1) > 0
        # its commits skip the fsync; the store's other commits keep it (FULL = 2)
        with store.engine.connect() as conn:
            level = conn.connection.driver_connection.execute("PRAGMA synchronous")  # type: ignore[union-attr]
            assert level.fetchone()[0] == 2
    finally:
        store.close()


def test_rate_limit_is_429_with_retry_after_per_token(tmp_path: Path) -> None:
    store, tokens = make_store(tmp_path / "audits.db")
    limits = ServiceLimits(rate_per_second=0.01, rate_burst=3)
    app = create_app(store, JobManager(store, offline_options(), limits))
    try:
        with TestClient(app) as client:
            read = {"Authorization": f"Bearer {tokens['read']}"}
            codes = [client.get("/v1/schedules", headers=read).status_code for _ in range(5)]
            assert codes == [200, 200, 200, 429, 429]
            r = client.get("/v1/alerts", headers=read)
            assert r.status_code == 429
            assert int(r.headers["retry-after"]) >= 1
            assert "rate_per_second" in r.json()["detail"]
            admin = {"Authorization": f"Bearer {tokens['admin']}"}
            assert client.get("/v1/schedules", headers=admin).status_code == 200
            assert client.get("/healthz").status_code == 200  # health is never limited
            metrics = client.get("/metrics", headers=admin).text
            assert 'mailauth_audit_requests_refused_total{reason="rate_limited"} 3.0' in metrics
    finally:
        store.close()
