"""The pages for people in a real Chromium, against the real uvicorn server on loopback.

A person types a read-scope token into the login form and clicks; the browser keeps an
HttpOnly, SameSite=Strict cookie (no script can read it); the overview lists the domains
with their grades; a domain page draws the score chart as inline SVG and lists the drift
events, a hostile record among them shown as text; the latest report opens; logging out
ends the session. A revoked token is turned away at the form. CSRF: a POST without the
form's token, or with a wrong one, is refused 403; the cookie flags are read from the
Set-Cookie header itself.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from chromium_pages import Browser
from pages_server import Service, start_service
from test_html_in_chromium import ARTIFACTS

from mailauth_audit.service.session_cookie import CSRF_COOKIE, SESSION_COOKIE


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    yield from start_service(tmp_path_factory.mktemp("pages"))


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    b = Browser(tmp_path / "profile")
    try:
        yield b
    finally:
        b.close()


def _log_in(browser: Browser, service: Service, token: str) -> None:
    browser.goto(service.base + "/ui/")
    assert browser.url == service.base + "/ui/login"  # no session: sent to the form
    browser.type_into("#token", token)
    browser.click("#login")


def test_log_in_browse_and_log_out_in_chromium(service: Service, browser: Browser) -> None:
    _log_in(browser, service, service.tokens["read"])  # read scope is enough for every page
    assert browser.url == service.base + "/ui/"
    assert browser.evaluate("document.getElementById('who').textContent") == "reader (read)"
    # the overview: each domain's latest audit with its grade, grouped by run
    assert browser.count("tr.domain-line") >= 3
    assert "d000.example" in browser.dom() and "nomail.example" in browser.dom()
    # the cookie: HttpOnly (no script sees it), SameSite=Strict, not Secure over plain http
    (cookie,) = [c for c in browser.cookies(service.base + "/ui/") if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False and cookie["path"] == "/ui"
    assert browser.evaluate("document.cookie") == ""
    assert service.tokens["read"] not in cookie["value"]  # the token itself is not kept

    browser.click('a[href="/ui/domains/shop.example"]')
    assert browser.url == service.base + "/ui/domains/shop.example"
    # the score chart: inline SVG, one point per audit; the drift events as a list
    assert browser.count("#chart svg polyline") == 1
    assert browser.count("#chart svg circle") == 3
    events = browser.evaluate("document.getElementById('events').textContent")
    assert "dmarc.policy_weakened" in events and "spf.include_changed" in events
    # the hostile SPF record is shown as text: no element of its own in the page
    assert '"><img' in events
    assert browser.count("img") == 0 and browser.count("script") == 0
    ARTIFACTS.mkdir(exist_ok=True)
    browser.screenshot(ARTIFACTS / "ui-domain-page.png")  # for people to look at

    browser.click("#latest-report")
    assert browser.url == service.base + "/ui/domains/shop.example/report"
    assert "shop.example" in browser.evaluate("document.title")
    assert browser.count("script") == 0

    browser.goto(service.base + "/ui/")
    browser.click("#logout")
    assert browser.url == service.base + "/ui/login"
    assert not [c for c in browser.cookies(service.base + "/ui/") if c["name"] == SESSION_COOKIE]
    browser.goto(service.base + "/ui/domains/shop.example")
    assert browser.url == service.base + "/ui/login"  # logged out: the pages are closed


def test_a_revoked_token_cannot_log_in(service: Service, browser: Browser) -> None:
    _log_in(browser, service, service.tokens["revoked"])
    assert browser.url == service.base + "/ui/login"
    assert browser.evaluate("document.getElementById('problem').textContent") == (
        "this token was revoked"
    )
    assert not [c for c in browser.cookies(service.base + "/ui/") if c["name"] == SESSION_COOKIE]


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None, html
    return match.group(1)


def test_csrf_is_checked_on_every_form_and_cookie_flags(service: Service) -> None:
    with httpx.Client(base_url=service.base, timeout=30) as c:
        form = c.get("/ui/login")
        seed_header = form.headers["set-cookie"]
        assert seed_header.startswith(f"{CSRF_COOKIE}=")
        token = {"token": service.tokens["read"]}
        # no CSRF field, a wrong one, one from another browser's form: all refused
        assert c.post("/ui/login", data=token).status_code == 403
        assert c.post("/ui/login", data={**token, "csrf": "forged"}).status_code == 403
        with httpx.Client(base_url=service.base) as other:
            theirs = _csrf(other.get("/ui/login").text)
        assert c.post("/ui/login", data={**token, "csrf": theirs}).status_code == 403
        assert SESSION_COOKIE not in c.cookies
        # the form's own token logs in; the Set-Cookie header carries the flags
        r = c.post("/ui/login", data={**token, "csrf": _csrf(form.text)})
        assert r.status_code == 303 and r.headers["location"] == "/ui/"
        (session_header,) = [
            h for h in r.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}=")
        ]
        flags = {part.strip().lower() for part in session_header.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/ui"} <= flags
        assert "secure" not in flags  # plain http on loopback; over https it is set
        assert any(f.startswith("max-age=") for f in flags)
        page = c.get("/ui/")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "form-action 'self'" in csp
        assert page.headers["x-frame-options"] == "DENY"
        # logout is a form too: without its token, or with a wrong one, the session stays
        assert c.post("/ui/logout", data={"other": "x"}).status_code == 403
        assert c.post("/ui/logout", data={"csrf": theirs}).status_code == 403
        assert c.get("/ui/").status_code == 200
        assert c.post("/ui/logout", data={"csrf": _csrf(page.text)}).status_code == 303
        assert c.get("/ui/").status_code == 303


def test_forged_expired_and_oversized_are_refused(service: Service) -> None:
    with httpx.Client(base_url=service.base, timeout=30) as c:
        c.cookies.set(SESSION_COOKIE, "eyJ0IjoxLCJlIjo5OTk5OTk5OTk5LCJuIjoieCJ9.AAAA", path="/ui")
        assert c.get("/ui/").status_code == 303  # a made-up signature: to the login form
        form = c.get("/ui/login")
        big = {"csrf": _csrf(form.text), "token": "x" * 10_000}
        assert c.post("/ui/login", data=big).status_code == 413
        assert c.post("/ui/login", json={"token": "x"}).status_code == 415
