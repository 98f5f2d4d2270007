"""GET /v1/domains/{domain}/history and /diff: the documents `history -f json` and
`diff -f json` print, from the same views and the same codec (report/history.py)."""

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse

from ..domain import normalize_domain
from ..errors import InvalidDomainError
from ..report.history import json_document
from ..store.connect import StoreError
from ..store.views import diff_domain, domain_history
from .codec_schemas import DIFF_REF, HISTORY_REF, json_ref
from .context import ApiContext, Invalid, Problem, refuse

__all__ = ["domains_router"]


def _name(domain: str) -> str | JSONResponse:
    try:
        return normalize_domain(domain)
    except InvalidDomainError as exc:
        return refuse(422, str(exc))


def domains_router(ctx: ApiContext) -> APIRouter:
    router = APIRouter(dependencies=[ctx.reader], responses=ctx.errors)
    most = ctx.limits.max_events_per_response

    @router.get(
        "/v1/domains/{domain}/history",
        response_class=JSONResponse,
        responses={
            200: json_ref(HISTORY_REF, "the domain's stored audits, oldest first (`history`)"),
            422: {"model": Invalid, "description": "not a domain name, or a bad limit"},
            503: {"model": Problem, "description": "the store cannot be read now"},
        },
    )
    async def history(
        domain: str, limit: Annotated[int, Query(ge=1, le=most)] = 100
    ) -> JSONResponse:
        """The last `limit` audits (an empty list for a domain never audited)."""
        name = _name(domain)
        if isinstance(name, JSONResponse):
            return name
        try:
            view = await asyncio.to_thread(domain_history, ctx.store, name, limit)
        except StoreError as exc:
            raise HTTPException(503, f"the store cannot be read now: {exc}") from None
        return JSONResponse(json.loads(json_document("history", view)))

    @router.get(
        "/v1/domains/{domain}/diff",
        response_class=JSONResponse,
        responses={
            200: json_ref(DIFF_REF, "the last two audits compared (`diff`)"),
            404: {"model": Problem, "description": "fewer than two stored audits"},
            422: {"model": Invalid, "description": "not a domain name"},
            503: {"model": Problem, "description": "the store cannot be read now"},
        },
    )
    async def diff(domain: str) -> JSONResponse:
        name = _name(domain)
        if isinstance(name, JSONResponse):
            return name
        try:
            count = await asyncio.to_thread(ctx.store.audits_of, name, 2)
            if len(count) < 2:
                raise HTTPException(404, f"{name} has {len(count)} stored audits: a diff needs two")
            view: Any = await asyncio.to_thread(diff_domain, ctx.store, name)
        except StoreError as exc:
            raise HTTPException(503, f"the store cannot be read now: {exc}") from None
        return JSONResponse(json.loads(json_document("diff", view)))

    return router
