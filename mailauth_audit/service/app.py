"""The HTTP API: FastAPI routes over the job manager and the store.

Every route but /healthz needs `Authorization: Bearer <token>` (tokens from
`mailauth-audit token create`); a read token may GET, a write token may also POST. No CORS
headers are sent: a browser page of another origin cannot read the answers. A request body
is read at most `ServiceLimits.max_request_bytes` far and parsed here rather than by
FastAPI, so any content type is accepted (`curl -d` sends a form type) and a malformed one
is a 400 with the parser's reason, never a 500. Callers choose domains and checks only:
the probe address rule and every other audit option are the operator's (`serve` flags).
"""

import asyncio
import json
import math
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from ..domain import normalize_domain
from ..errors import InvalidDomainError
from ..model import CheckId
from ..report.codec import to_json
from ..store.connect import StoreError
from ..store.store import Store
from ..store.tokens import ApiToken, TokenScope, find_token
from ..version import __version__
from .coalesce import CoalescedReads
from .codec_schemas import REPORT_REF, json_ref, with_codec_schemas
from .context import MAX_ID, ApiContext, Invalid
from .jobs import JobManager, ServiceBusy
from .metrics import ApiMetrics, metrics_router
from .pages import pages_router
from .ratelimit import TokenBuckets
from .routes_alerts import alerts_router
from .routes_domains import domains_router
from .routes_results import results_router
from .routes_schedules import schedules_router
from .schedules_loop import Scheduler
from .session_cookie import SessionSigner, secret_from_env

__all__ = ["create_app"]

_bearer = HTTPBearer(auto_error=False, description="A token from `mailauth-audit token create`")


class Health(BaseModel):
    status: str
    version: str


class JobCreated(BaseModel):
    id: int
    status: str
    total: int


class JobStatus(BaseModel):
    id: int
    status: str  # queued, running, done, failed, cancelled, interrupted
    created_at: str
    started_at: str | None
    finished_at: str | None
    checks: list[str]
    total: int
    audited: int
    recorded: int
    with_errors: int
    not_recorded: int
    error: str | None


class Problem(BaseModel):
    detail: str


class DomainProblem(BaseModel):
    index: int
    domain: str
    reason: str


class InvalidDomains(BaseModel):
    detail: str
    errors: list[DomainProblem]


def _request_schema(max_domains: int) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["domains"],
        "additionalProperties": False,
        "properties": {
            "domains": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "maxItems": max_domains,
            },
            "checks": {
                "type": "array",
                "items": {"type": "string", "enum": [c.value for c in CheckId]},
            },
        },
    }


def _refuse(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


def create_app(store: Store, manager: JobManager, *, scheduler: Scheduler | None = None) -> FastAPI:
    limits = manager.limits
    buckets = TokenBuckets(store, limits.rate_per_second, limits.rate_burst)
    metrics = ApiMetrics(store, limits.max_metrics_audits)
    # every request's token is read from the store (a revocation holds at the next request);
    # concurrent requests with one token share a read begun after each arrived (coalesce.py)
    token_reads: CoalescedReads[str, ApiToken | None] = CoalescedReads(
        lambda presented: asyncio.to_thread(find_token, store, presented)
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await metrics.start()
        ticking = asyncio.create_task(scheduler.run()) if scheduler is not None else None
        try:
            yield
        finally:
            if ticking is not None and scheduler is not None:
                ticking.cancel()
                await asyncio.gather(ticking, return_exceptions=True)
                await scheduler.aclose()
            await manager.aclose()

    app = FastAPI(
        title="mailauth-audit",
        version=__version__,
        description="Audit domains' email authentication (MX, SPF, DKIM, DMARC, ...) over HTTP.",
        openapi_url=None,  # served below, behind a token like every route but /healthz
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )

    async def caller(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ApiToken:
        unauthenticated = {"WWW-Authenticate": "Bearer"}
        if credentials is None or credentials.scheme.lower() != "bearer":
            metrics.refused.labels("unauthenticated").inc()
            raise HTTPException(
                401, "an Authorization: Bearer <token> header is required", headers=unauthenticated
            )
        try:
            token = await token_reads.get(credentials.credentials)
            wait = 0.0
            if token is not None and token.active:
                # the bucket is in the store, shared by every serve process (ratelimit.py)
                wait = await asyncio.to_thread(buckets.take, token.id)
        except StoreError as exc:
            raise HTTPException(503, f"the store cannot be read now: {exc}") from None
        if token is None or not token.active:
            metrics.refused.labels("unauthenticated").inc()
            why = "unknown token" if token is None else "this token was revoked"
            raise HTTPException(401, why, headers=unauthenticated)
        if wait > 0:
            metrics.refused.labels("rate_limited").inc()
            raise HTTPException(
                429,
                f"more than {limits.rate_per_second:g} requests per second with this token "
                f"(ServiceLimits.rate_per_second, burst {limits.rate_burst}): try again later",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return token

    def scoped(needed: TokenScope) -> Callable[..., Coroutine[Any, Any, ApiToken]]:
        async def check(token: Annotated[ApiToken, Depends(caller)]) -> ApiToken:
            if not token.scope.allows(needed):
                metrics.refused.labels("forbidden").inc()
                raise HTTPException(
                    403, f"this token's scope is {token.scope.value}; {needed.value} is needed"
                )
            return token

        return check

    reader = Depends(scoped(TokenScope.READ))
    writer = Depends(scoped(TokenScope.WRITE))
    errors: dict[int | str, dict[str, Any]] = {
        401: {"model": Problem, "description": "no token, an unknown one, or a revoked one"},
        403: {"model": Problem, "description": "the token's scope does not allow this"},
        429: {
            "model": Problem,
            "description": "this token's rate limit: Retry-After says when to try again",
        },
    }
    ctx = ApiContext(store, manager, limits, reader, writer, errors, metrics)
    app.include_router(domains_router(ctx))
    app.include_router(schedules_router(ctx))
    app.include_router(alerts_router(ctx))
    app.include_router(metrics_router(ctx))
    with_codec_schemas(app)

    @app.get("/v1/openapi.json", dependencies=[reader], include_in_schema=False)
    async def openapi() -> dict[str, Any]:
        return app.openapi()

    @app.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        return Health(status="ok", version=__version__)

    @app.post(
        "/v1/audits",
        status_code=202,
        response_model=JobCreated,
        dependencies=[writer],
        responses={
            **errors,
            400: {"model": Problem, "description": "the body is not a JSON object"},
            413: {"model": Problem, "description": "the body is larger than the service reads"},
            422: {"model": InvalidDomains, "description": "invalid names, checks or fields"},
            503: {"model": Problem, "description": "too many jobs queued or running"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": _request_schema(limits.max_domains_per_request)}
                },
            }
        },
    )
    async def create_audit(request: Request) -> Any:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limits.max_request_bytes:
                return _refuse(
                    413,
                    f"the request body is larger than {limits.max_request_bytes} bytes "
                    "(ServiceLimits.max_request_bytes); send fewer domains per request",
                )
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError) as exc:
            return _refuse(400, f"the body is not JSON: {exc}")
        parsed = _parse_request(doc, limits.max_domains_per_request)
        if isinstance(parsed, JSONResponse):
            return parsed
        domains, checks = parsed
        try:
            job = await manager.submit(domains, checks)
        except ServiceBusy as exc:
            return _refuse(503, str(exc))
        except StoreError as exc:
            return _refuse(503, f"the store cannot record a job now: {exc}")
        return JSONResponse(
            JobCreated(id=job.id, status=job.status, total=job.total).model_dump(),
            status_code=202,
            headers={"Location": f"/v1/audits/{job.id}"},
        )

    @app.get(
        "/v1/audits/{audit_id}",
        response_model=JobStatus,
        dependencies=[reader],
        responses={**errors, 404: {"model": Problem}},
    )
    async def audit_status(audit_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> JobStatus:
        job = await manager.get(audit_id)
        if job is None:
            raise HTTPException(404, f"no audit {audit_id}")
        return JobStatus(**job.document())

    @app.post(
        "/v1/audits/{audit_id}/cancel",
        response_model=JobStatus,
        dependencies=[writer],
        responses={**errors, 404: {"model": Problem}, 503: {"model": Problem}},
    )
    async def cancel_audit(
        audit_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    ) -> JobStatus:
        """Cancel a queued or running audit: chunks not started are not run, running ones
        stop; what was recorded stays. An audit that already ended is returned as it is."""
        try:
            job = await manager.cancel(audit_id)
        except StoreError as exc:
            raise HTTPException(503, f"the store cannot be reached now: {exc}") from None
        if job is None:
            raise HTTPException(404, f"no audit {audit_id}")
        return JobStatus(**job.document())

    app.include_router(  # results as JSON lines or CSV, streamed; the run's HTML index
        results_router(
            store,
            reader,
            {**errors, 404: {"model": Problem}},
            lambda i: _job_order(manager, i),
            limits,
        )
    )

    @app.get(
        "/v1/domains/{domain}",
        dependencies=[reader],
        response_class=JSONResponse,
        responses={
            **errors,
            200: json_ref(REPORT_REF, "the latest stored report (the JSON of `check -f json`)"),
            404: {"model": Problem},
            422: {"model": Invalid},
        },
    )
    async def latest_audit(domain: str) -> Any:
        try:
            name = normalize_domain(domain)
        except InvalidDomainError as exc:
            return _refuse(422, str(exc))
        try:
            doc = await asyncio.to_thread(_latest, store, name)
        except StoreError as exc:
            raise HTTPException(503, f"the store cannot be read now: {exc}") from None
        if doc is None:
            raise HTTPException(404, f"no audit of {name} in the store")
        return doc

    signer = SessionSigner(secret_from_env(), limits.session_seconds)
    app.include_router(pages_router(store, limits, signer))  # /ui/: pages for people
    return app


def _parse_request(
    doc: Any, max_domains: int
) -> tuple[list[str], frozenset[CheckId] | None] | JSONResponse:
    """The names (normalised, each once, in order) and checks, or the 422 saying why not."""
    if not isinstance(doc, dict):
        return _refuse(422, 'the body must be a JSON object: {"domains": [...]}', errors=[])
    unknown = sorted(set(doc) - {"domains", "checks"})
    if unknown:
        return _refuse(
            422,
            f"unknown fields {unknown}: a request names domains and checks only; the audit "
            "options (nameservers, private targets, ...) are the operator's",
            errors=[],
        )
    raw = doc.get("domains")
    if not isinstance(raw, list) or not raw:
        return _refuse(422, '"domains" must be a non-empty list of names', errors=[])
    if len(raw) > max_domains:
        return _refuse(
            422,
            f"{len(raw)} domains in one request; at most {max_domains} are accepted "
            "(ServiceLimits.max_domains_per_request): split the list into several requests",
            errors=[],
        )
    names: list[str] = []
    seen: set[str] = set()
    problems: list[dict[str, Any]] = []
    for index, value in enumerate(raw):
        if not isinstance(value, str):
            problems.append({"index": index, "domain": str(value)[:300], "reason": "not a string"})
            continue
        try:
            name = normalize_domain(value)
        except InvalidDomainError as exc:
            problems.append({"index": index, "domain": value[:300], "reason": str(exc)})
            continue
        if name not in seen:
            seen.add(name)
            names.append(name)
    if problems:
        return _refuse(
            422, f"{len(problems)} of {len(raw)} domains are not valid names", errors=problems
        )
    checks_raw = doc.get("checks")
    if checks_raw is None:
        return names, None
    if not isinstance(checks_raw, list) or not all(isinstance(c, str) for c in checks_raw):
        return _refuse(422, '"checks" must be a list of check names', errors=[])
    try:
        checks = frozenset(CheckId(c.strip().lower()) for c in checks_raw)
    except ValueError:
        choices = ", ".join(c.value for c in CheckId)
        return _refuse(422, f'unknown check in "checks" (choose from {choices})', errors=[])
    return names, checks or None


def _job_order(manager: JobManager, job_id: int) -> tuple[str, ...]:
    """The domains as the job named them, while it is in memory (results keep that order)."""
    job = manager.jobs.get(job_id)
    return job.domains if job is not None else ()


def _latest(store: Store, domain: str) -> dict[str, Any] | None:
    rows = store.audits_of(domain, limit=1)
    if not rows:
        return None
    return to_json(store.report(rows[-1]))
