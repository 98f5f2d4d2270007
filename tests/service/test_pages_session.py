"""The session cookie and CSRF tokens of the pages, in process (no browser): what a forged,
tampered, expired or foreign cookie gets (nothing), the Secure flag over https, a revoked
token's session closing, the pages' bounds said on the page, the grouping swapped."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parents[1] / "store"))

from mailauth_audit.options import AuditOptions, ServiceLimits
from mailauth_audit.service.app import create_app
from mailauth_audit.service.jobs import JobManager
from mailauth_audit.service.session_cookie import (
    SECRET_ENV,
    SESSION_COOKIE,
    SessionSigner,
    secret_from_env,
)
from mailauth_audit.store.store import open_store
from mailauth_audit.store.tokens import TokenScope, create_token, revoke_token

SECRET = b"s" * 32


def test_a_cookie_reads_back_until_it_expires() -> None:
    signer = SessionSigner(SECRET, lifetime=60)
    session, cookie = signer.issue(7, now=1000)
    assert signer.read(cookie, now=1059) == session
    assert session.token_id == 7 and session.expires == 1060
    assert signer.read(cookie, now=1060) is None  # expired


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c.replace(c[3], "A" if c[3] != "A" else "B", 1),  # body changed
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),  # signature changed
        lambda c: c.split(".")[0],  # no signature
        lambda c: c + ".x",
        lambda c: "x" * 5000,
        lambda c: "",
    ],
)
def test_tampered_cookies_are_nobodys(mangle: object) -> None:
    signer = SessionSigner(SECRET, lifetime=60)
    _, cookie = signer.issue(7, now=1000)
    assert signer.read(mangle(cookie), now=1001) is None  # type: ignore[operator]


def test_another_servers_secret_signs_nothing_here() -> None:
    ours, theirs = SessionSigner(SECRET, 60), SessionSigner(b"t" * 32, 60)
    _, cookie = theirs.issue(1, now=1000)
    assert ours.read(cookie, now=1001) is None
    assert not ours.csrf_ok("seed", theirs.csrf_token("seed"))
    assert ours.csrf_ok("seed", ours.csrf_token("seed"))
    assert not ours.csrf_ok("seed", ours.csrf_token("other seed"))
    assert not ours.csrf_ok(None, ours.csrf_token("seed"))


def test_the_secret_from_the_environment() -> None:
    assert secret_from_env({SECRET_ENV: "k" * 40}) == b"k" * 40
    with pytest.raises(ValueError, match="at least 32"):
        secret_from_env({SECRET_ENV: "short"})
    assert secret_from_env({}) != secret_from_env({})  # random when not set


def _login(client: TestClient, token: str) -> str:
    form = client.get("/ui/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    r = client.post(
        "/ui/login", data={"token": token, "csrf": csrf.group(1)}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    (header,) = [h for h in r.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)]
    return header


def test_secure_over_https_and_revocation_ends_a_session(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "audits.db"))
    try:
        _, token = create_token(store, "person", TokenScope.READ)
        app = create_app(store, JobManager(store, AuditOptions(), ServiceLimits()))
        with TestClient(app, base_url="https://testserver") as client:
            form = client.get("/ui/login")
            assert "; secure" in form.headers["set-cookie"].lower()
            assert "; secure" in _login(client, token).lower()
            assert client.get("/ui/", follow_redirects=False).status_code == 200
            # the cookie lives on, but the token behind it is gone: the pages close
            revoke_token(store, "person")
            assert SESSION_COOKIE in client.cookies
            r = client.get("/ui/", follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    finally:
        store.close()


def test_bounds_are_said_and_the_grouping_can_be_swapped(tmp_path: Path) -> None:
    """Given a store of 3 domains with 3 audits of shop.example, and limits below both,
    the overview and the domain page say what they left out, a run too large for the index
    page is refused with the limit's name, and a grouping function given to the pages
    replaces the by-run one."""
    from fastapi import FastAPI
    from history_zones import BEFORE, KEY_1024, audit

    from mailauth_audit.service.page_data import DomainGroup, overview
    from mailauth_audit.service.pages import pages_router

    store = open_store(str(tmp_path / "audits.db"))
    try:
        domains = ("shop.example", "nomail.example", "other.example")
        for spec in (BEFORE, dict(BEFORE, dkim={"s1": KEY_1024}), BEFORE):
            store.record_run(audit(spec, domains))
        _, token = create_token(store, "person", TokenScope.READ)
        limits = ServiceLimits(max_page_domains=2, max_history_points=2, max_report_domains=2)
        app = create_app(store, JobManager(store, AuditOptions(), limits))
        with TestClient(app) as client:
            _login(client, token)
            page = client.get("/ui/")
            assert "2 of 3 domains are listed" in page.text and "max_page_domains" in page.text
            page = client.get("/ui/domains/shop.example")
            assert "latest 2 of 3 audits" in page.text and page.text.count("<circle") == 2
            page = client.get("/ui/audits/3/report")
            assert page.status_code == 422 and "max_report_domains" in page.text
            assert client.get("/ui/domains/never.example").status_code == 404
            assert client.get("/ui/domains/a..b").status_code == 422

        def one_group(lines, labels):  # type: ignore[no-untyped-def]
            return [DomainGroup("Everything", None, tuple(lines))]

        assert [g.name for g in overview(store, 10, one_group).groups] == ["Everything"]
        custom = FastAPI()
        signer = SessionSigner(SECRET, 60)
        custom.include_router(pages_router(store, ServiceLimits(), signer, one_group))
        with TestClient(custom) as client:
            _login(client, token)
            page = client.get("/ui/")
            assert "Everything" in page.text and "Run 3" not in page.text
    finally:
        store.close()
