"""Pages for people under /ui/: log in with a token, the domains with their current grades,
a domain's grade over time and drift events, the latest report, a run's report.

Server-rendered (jinja2, autoescaped), no scripts: every answer carries a
Content-Security-Policy that allows none, and may not be framed. A login is a signed cookie
(session_cookie.py: HttpOnly, SameSite=Strict, Secure over https, expiring after
`ServiceLimits.session_seconds`); the token behind it is looked up on every request, so a
revoked token's sessions end at once. Every form carries a CSRF token, checked on POST (403
without it). Form bodies are read here, at most `ServiceLimits.max_form_bytes`, so no
multipart parser is needed. The pages are left out of the OpenAPI document (not an API).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any
from urllib.parse import parse_qs

import markupsafe
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from ..domain import normalize_domain
from ..errors import InvalidDomainError
from ..model import AuditRun, Provenance
from ..options import ServiceLimits
from ..report.codec import CodecError, decode_value
from ..report.history_html import score_chart_svg
from ..report.html import domain_views, environment, render_domain_page
from ..store.connect import StoreError
from ..store.schema import api_tokens
from ..store.store import Store
from ..store.tokens import ApiToken, TokenScope, find_token
from ..version import __version__
from .page_data import Grouping, domain_page, group_by_last_run, latest_report, overview
from .routes_results import PAGE_HEADERS
from .run_index import RunTooLarge, run_index_page
from .session_cookie import CSRF_COOKIE, SESSION_COOKIE, Session, SessionSigner

__all__ = ["pages_router"]

LOGIN = "/ui/login"
FORM_TYPE = "application/x-www-form-urlencoded"


class _Refused(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def _token_by_id(store: Store, token_id: int) -> ApiToken | None:
    with store.transaction(write=False) as conn:
        row = conn.execute(
            select(
                api_tokens.c.id,
                api_tokens.c.name,
                api_tokens.c.scope,
                api_tokens.c.created_at,
                api_tokens.c.revoked_at,
            ).where(api_tokens.c.id == token_id)
        ).first()
    if row is None:
        return None
    return ApiToken(
        int(row.id), str(row.name), TokenScope(row.scope), str(row.created_at), row.revoked_at
    )


def pages_router(
    store: Store,
    limits: ServiceLimits,
    signer: SessionSigner,
    grouping: Grouping = group_by_last_run,
) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    env = environment()

    def page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = env.get_template(f"service/{name}").render(
            tool_version=__version__, **{"who": None, "csrf": "", **values}
        )
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)

    def cookie_args(request: Request) -> dict[str, Any]:
        return {
            "httponly": True,
            "samesite": "strict",
            "secure": request.url.scheme == "https",
        }

    async def signed_in(request: Request) -> tuple[ApiToken, Session] | None:
        """The caller's token and session, or None: no cookie, a forged or expired one, or
        a token revoked (or deleted) since the login."""
        session = signer.read(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None
        token = await asyncio.to_thread(_token_by_id, store, session.token_id)
        if token is None or not token.active or not token.scope.allows(TokenScope.READ):
            return None
        return token, session

    async def form(request: Request) -> Mapping[str, list[str]]:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != FORM_TYPE:
            raise _Refused(415, "Not a form", f"a form POST is {FORM_TYPE}")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limits.max_form_bytes:
                raise _Refused(
                    413,
                    "Too large",
                    f"a form is at most {limits.max_form_bytes} bytes "
                    "(ServiceLimits.max_form_bytes)",
                )
        try:
            return parse_qs(body.decode("utf-8"), max_num_fields=10)
        except (UnicodeDecodeError, ValueError):
            raise _Refused(400, "Not a form", "the form could not be read") from None

    def csrf_refused() -> HTMLResponse:
        return page(
            "problem.html",
            403,
            title="Refused",
            detail="the form's CSRF token is missing or wrong: reload the page and try again",
        )

    async def guarded(
        request: Request, render: Callable[[ApiToken, str], Awaitable[Response]]
    ) -> Response:
        """A page for a logged-in caller (else to the login form), with its logout form."""
        try:
            who = await signed_in(request)
        except StoreError as exc:
            return store_down(exc)
        if who is None:
            return RedirectResponse(LOGIN, status_code=303, headers=PAGE_HEADERS)
        token, session = who
        try:
            return await render(token, signer.csrf_token(session.nonce))
        except _Refused as exc:
            return page(
                "problem.html",
                exc.status,
                who=token,
                csrf=signer.csrf_token(session.nonce),
                title=exc.title,
                detail=exc.detail,
            )
        except StoreError as exc:
            return store_down(exc)

    def store_down(exc: StoreError) -> HTMLResponse:
        return page("problem.html", 503, title="The store cannot be read now", detail=str(exc))

    @router.get("/")
    async def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=303)

    @router.get(LOGIN)
    async def login_form(request: Request) -> Response:
        try:
            if await signed_in(request) is not None:
                return RedirectResponse("/ui/", status_code=303, headers=PAGE_HEADERS)
        except StoreError as exc:
            return store_down(exc)
        return _login_page(request, None, 200)

    def _login_page(request: Request, problem: str | None, status: int) -> Response:
        seed = secrets.token_urlsafe(16)
        response = page("login.html", status, problem=problem, csrf=signer.csrf_token(seed))
        response.set_cookie(CSRF_COOKIE, seed, max_age=3600, path=LOGIN, **cookie_args(request))
        return response

    @router.post(LOGIN)
    async def login(request: Request) -> Response:
        try:
            fields = await form(request)
        except _Refused as exc:
            return page("problem.html", exc.status, title=exc.title, detail=exc.detail)
        if not signer.csrf_ok(request.cookies.get(CSRF_COOKIE), _one(fields, "csrf")):
            return csrf_refused()
        presented = (_one(fields, "token") or "").strip()
        try:
            token = await asyncio.to_thread(find_token, store, presented)
        except StoreError as exc:
            return store_down(exc)
        if token is None or not token.active:
            reason = "unknown token" if token is None else "this token was revoked"
            return _login_page(request, reason, 401)
        _, cookie = signer.issue(token.id)
        response = RedirectResponse("/ui/", status_code=303, headers=PAGE_HEADERS)
        response.set_cookie(
            SESSION_COOKIE, cookie, max_age=signer.lifetime, path="/ui", **cookie_args(request)
        )
        response.delete_cookie(CSRF_COOKIE, path=LOGIN, **cookie_args(request))
        return response

    @router.post("/ui/logout")
    async def logout(request: Request) -> Response:
        try:
            fields = await form(request)
        except _Refused as exc:
            return page("problem.html", exc.status, title=exc.title, detail=exc.detail)
        session = signer.read(request.cookies.get(SESSION_COOKIE))
        if session is None or not signer.csrf_ok(session.nonce, _one(fields, "csrf")):
            return csrf_refused()
        response = RedirectResponse(LOGIN, status_code=303, headers=PAGE_HEADERS)
        response.delete_cookie(SESSION_COOKIE, path="/ui", **cookie_args(request))
        return response

    @router.get("/ui/")
    async def home(request: Request) -> Response:
        async def render(token: ApiToken, csrf: str) -> Response:
            found = await asyncio.to_thread(overview, store, limits.max_page_domains, grouping)
            return page("overview.html", who=token, csrf=csrf, overview=found)

        return await guarded(request, render)

    @router.get("/ui/domains/{domain}")
    async def domain(request: Request, domain: str) -> Response:
        async def render(token: ApiToken, csrf: str) -> Response:
            name = _name(domain)
            found = await asyncio.to_thread(domain_page, store, name, limits.max_history_points)
            if found is None:
                raise _Refused(404, "Not found", f"no audit of {name} in the store")
            chart = markupsafe.Markup(score_chart_svg(found.history.entries))  # escaped inside
            return page("domain.html", who=token, csrf=csrf, page=found, chart=chart)

        return await guarded(request, render)

    @router.get("/ui/domains/{domain}/report")
    async def domain_report(request: Request, domain: str) -> Response:
        async def render(token: ApiToken, csrf: str) -> Response:
            name = _name(domain)
            found = await asyncio.to_thread(latest_report, store, name)
            if found is None:
                raise _Refused(404, "Not found", f"no audit of {name} in the store")
            row, report, provenance = found
            run = AuditRun(
                started_at=row.audited_at,
                finished_at=row.audited_at,
                domains=(report,),
                tool_version=__version__,
                provenance=_provenance(provenance),
            )
            (view,) = domain_views([report])
            html = render_domain_page(run, view, index_href="/ui/")
            return HTMLResponse(html, headers=PAGE_HEADERS)

        return await guarded(request, render)

    @router.get("/ui/audits/{audit_id}/report")
    async def run_report(
        request: Request,
        audit_id: int,
        page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
    ) -> Response:
        async def render(token: ApiToken, csrf: str) -> Response:
            try:
                html = await asyncio.to_thread(
                    run_index_page,
                    store,
                    audit_id,
                    page_number,
                    max_domains=limits.max_report_domains,
                    page_href="report?page={}",
                    domain_href="/ui/domains/{}",
                )
            except LookupError:
                raise _Refused(404, "Not found", f"no audit {audit_id}") from None
            except RunTooLarge as exc:
                raise _Refused(422, "Too large", str(exc)) from None
            if html is None:
                raise _Refused(404, "Not found", f"audit {audit_id} has no page {page_number}")
            return HTMLResponse(html, headers=PAGE_HEADERS)

        return await guarded(request, render)

    return router


def _one(fields: Mapping[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return values[0] if values and len(values) == 1 else None


def _name(domain: str) -> str:
    try:
        return normalize_domain(domain)
    except InvalidDomainError as exc:
        raise _Refused(422, "Not a domain name", str(exc)) from None


def _provenance(value: object) -> Provenance | None:
    try:
        decoded = decode_value(Provenance, value)
    except CodecError:
        return None
    return decoded if isinstance(decoded, Provenance) else None
