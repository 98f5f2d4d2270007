"""The session cookie and CSRF tokens of the pages, without a browser: what a forged,
tampered, expired or foreign cookie gets (nothing), and the Secure flag over https."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

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
