"""`serve` end to end: the real uvicorn server on a loopback port, audits against nsd, the
store on SQLite. Auth on every endpoint, bad input (4xx, never 5xx), the domains cap, and
a POST -> poll -> results round trip whose lines decode with the report codec."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fixture_zone import ZONE
from serve_process import serve_process

from mailauth_audit.report.codec import from_json
from mailauth_audit.service.server import committed_openapi, openapi_text
from mailauth_audit.store.store import open_store
from mailauth_audit.store.tokens import TokenScope, create_token, revoke_token

ROOT = Path(__file__).resolve().parent.parent.parent
CAP = 5  # --max-domains-per-request of the test server


@dataclass(frozen=True)
class Service:
    base: str
    tokens: dict[str, str]  # "read", "write", "revoked" -> token
    log: Path

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def service(
    nsd_session_server: Callable[..., tuple[str, int]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    host, port = nsd_session_server({"example": ZONE})
    folder = tmp_path_factory.mktemp("service")
    db = str(folder / "audits.db")
    store = open_store(db)
    try:
        tokens = {
            "read": create_token(store, "reader", TokenScope.READ)[1],
            "write": create_token(store, "writer", TokenScope.WRITE)[1],
            "revoked": create_token(store, "gone", TokenScope.ADMIN)[1],
        }
        revoke_token(store, "gone")
    finally:
        store.close()
    flags = ["--nameserver", f"{host}:{port}", "--timeout", "2"]
    flags += ["--max-domains-per-request", str(CAP)]
    with serve_process(db, *flags, log=folder / "serve.log") as served:
        yield Service(served.base, tokens, served.log)


ENDPOINTS = [
    ("POST", "/v1/audits", TokenScope.WRITE),
    ("GET", "/v1/audits/1", TokenScope.READ),
    ("GET", "/v1/audits/1/results", TokenScope.READ),
    ("GET", "/v1/domains/good.example", TokenScope.READ),
    ("GET", "/v1/openapi.json", TokenScope.READ),
]


@pytest.mark.parametrize(("method", "path", "needed"), ENDPOINTS)
def test_every_endpoint_refuses_missing_unknown_revoked_and_weak_tokens(
    service: Service, method: str, path: str, needed: TokenScope
) -> None:
    body = json.dumps({"domains": ["good.example"], "checks": ["mx"]})
    for token in (None, "maa_not-issued-here", "garbage", service.tokens["revoked"]):
        with service.client(token) as c:
            r = c.request(method, path, content=body)
        assert r.status_code == 401, (token, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
    with service.client(service.tokens["read"]) as c:
        r = c.request(method, path, content=body)
    if needed is TokenScope.WRITE:
        assert r.status_code == 403 and "scope is read" in r.json()["detail"]
    else:
        assert r.status_code in (200, 404), r.text
    assert "access-control-allow-origin" not in r.headers  # no CORS


def test_health_needs_no_token(service: Service) -> None:
    r = httpx.get(service.base + "/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def post(service: Service, content: bytes | str) -> httpx.Response:
    with service.client(service.tokens["write"]) as c:
        return c.post("/v1/audits", content=content)


def test_garbage_domain_names_are_422_with_a_reason_each(service: Service) -> None:
    names = ["a..b", "exa mple.com", "ok.example", 7, "http://x.example/"]
    r = post(service, json.dumps({"domains": names}))
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [e["index"] for e in errors] == [0, 1, 3, 4]
    assert all(e["reason"] for e in errors)
    assert "empty label" in errors[0]["reason"]


def test_the_domains_cap_refuses_the_whole_request(service: Service) -> None:
    r = post(service, json.dumps({"domains": [f"d{i}.example" for i in range(CAP + 1)]}))
    assert r.status_code == 422 and f"at most {CAP}" in r.json()["detail"]
    huge = json.dumps({"domains": [f"d{i}.example" for i in range(100_000)]})
    r = post(service, huge)
    assert r.status_code == 422, r.text
    assert "100000 domains in one request" in r.json()["detail"]
    assert "max_domains_per_request" in r.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        b"{bad",
        b"",
        b"\xff\xfe\x00",
        b"[" * 100_000,
        b"[1, 2]",
        b'"good.example"',
        b'{"domains": "good.example"}',
        b'{"domains": []}',
        b'{"domains": ["good.example"], "checks": ["nope"]}',
        b'{"domains": ["good.example"], "checks": "mx"}',
        b'{"domains": ["good.example"], "options": {"allow_private_targets": true}}',
    ],
)
def test_malformed_bodies_are_4xx_never_5xx(service: Service, body: bytes) -> None:
    r = post(service, body)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.json()["detail"]


def test_oversized_body_is_413(service: Service) -> None:
    r = post(service, b'{"domains": ["' + b"a" * (5 * 1024 * 1024) + b'"]}')
    assert r.status_code == 413 and "max_request_bytes" in r.json()["detail"]


def test_bad_ids_and_names_in_paths(service: Service) -> None:
    with service.client(service.tokens["read"]) as c:
        assert c.get("/v1/audits/abc").status_code == 422
        assert c.get("/v1/audits/999999").status_code == 404
        assert c.get("/v1/audits/999999/results").status_code == 404
        assert c.get("/v1/domains/a..b").status_code == 422
        assert c.get("/v1/domains/never-audited.example").status_code == 404


def test_post_poll_results_round_trip(service: Service) -> None:
    domains = ["weak.example", "good.example", "GOOD.example."]  # the last is the second again
    checks = ["mx", "spf", "dmarc", "starttls"]
    r = post(service, json.dumps({"domains": domains, "checks": checks}))
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["total"] == 2 and r.headers["location"] == f"/v1/audits/{job['id']}"
    with service.client(service.tokens["read"]) as c:
        deadline = time.monotonic() + 180
        while True:
            status = c.get(f"/v1/audits/{job['id']}").json()
            if status["status"] not in ("queued", "running"):
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.3)
        assert status["status"] == "done", status
        assert status["audited"] == status["recorded"] == 2
        assert status["checks"] == sorted(checks)
        results = c.get(f"/v1/audits/{job['id']}/results")
        assert results.status_code == 200
        assert results.headers["content-type"].startswith("application/x-ndjson")
        lines = results.text.splitlines()
        docs = [json.loads(line) for line in lines]
        assert [d["domain"] for d in docs] == ["weak.example", "good.example"]  # input order
        reports = [from_json(d) for d in docs]  # the CLI's codec reads them back
        ran = {c.value for c, o in reports[1].checks.items() if o.skip_reason != "not requested"}
        assert ran == set(checks)
        # the MX hosts are documentation addresses: probes refused, not attempted
        assert "not probed" in json.dumps(docs[1]["checks"]["starttls"])
        latest = c.get("/v1/domains/good.example")
        assert latest.status_code == 200 and latest.json() == docs[1]
    assert "maa_" not in service.log.read_text(errors="replace")  # no token in the logs


def test_committed_openapi_document_is_the_generated_one(service: Service) -> None:
    assert committed_openapi() == openapi_text(), (
        "docs/openapi.json is stale: python -m mailauth_audit.service.server"
    )
    with service.client(service.tokens["read"]) as c:
        served = c.get("/v1/openapi.json").json()
    committed = json.loads(committed_openapi())
    assert served["paths"].keys() == committed["paths"].keys()
    assert served["openapi"].startswith("3.")
