"""/v1/alerts: the drift events `alerts -f json` lists (read scope), and acknowledging
them (write scope), from the same store views and the same codec."""

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ..domain import normalize_domain
from ..errors import InvalidDomainError
from ..model import Severity
from ..report.history import json_document
from ..store.connect import StoreError
from ..store.durations import cutoff
from ..store.record import utc_text
from ..store.views import ack_events, list_events
from .codec_schemas import EVENTS_REF, json_ref
from .context import MAX_ID, ApiContext, Invalid, Problem, read_json_body, refuse

__all__ = ["alerts_router"]

MORE_HEADER = "X-More-Events"  # events matching beyond `limit`: ask again with a later `since`


class Acknowledged(BaseModel):
    acknowledged: int  # events that were not acknowledged before this request


def alerts_router(ctx: ApiContext) -> APIRouter:
    router = APIRouter(responses=ctx.errors)
    most = ctx.limits.max_events_per_response

    @router.get(
        "/v1/alerts",
        response_class=JSONResponse,
        dependencies=[ctx.reader],
        responses={
            200: json_ref(
                EVENTS_REF,
                f"drift events, oldest first, at most `limit`; the count of those left out is "
                f"the {MORE_HEADER} header",
            ),
            422: {"model": Invalid, "description": "a bad parameter"},
            503: {"model": Problem, "description": "the store cannot be read now"},
        },
    )
    async def alerts(
        since: Annotated[str | None, Query(description="a duration: 90m, 12h, 7d, 2w")] = None,
        domain: Annotated[str | None, Query(max_length=300)] = None,
        severity: Annotated[Severity | None, Query(description="this or worse")] = None,
        include_acked: bool = False,
        limit: Annotated[int, Query(ge=1, le=most)] = most,
    ) -> JSONResponse:
        since_at = None
        if since is not None:
            try:
                since_at = utc_text(cutoff(since))
            except (ValueError, OverflowError) as exc:
                return refuse(422, f"since: {exc}")
        name = None
        if domain is not None:
            try:
                name = normalize_domain(domain)
            except InvalidDomainError as exc:
                return refuse(422, f"domain: {exc}")
        try:
            found = await asyncio.to_thread(
                lambda: list_events(
                    ctx.store,
                    since=since_at,
                    domain=name,
                    min_severity=severity,
                    include_acked=include_acked,
                )
            )
        except StoreError as exc:
            raise HTTPException(503, f"the store cannot be read now: {exc}") from None
        doc = json.loads(json_document("events", found[:limit]))
        return JSONResponse(doc, headers={MORE_HEADER: str(max(0, len(found) - limit))})

    @router.post(
        "/v1/alerts/ack",
        response_model=Acknowledged,
        dependencies=[ctx.writer],
        responses={
            400: {"model": Problem, "description": "the body is not JSON"},
            413: {"model": Problem, "description": "the body is larger than the service reads"},
            422: {"model": Invalid, "description": 'not {"ids": [event ids]}'},
            503: {"model": Problem, "description": "the store cannot be used now"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["ids"],
                            "additionalProperties": False,
                            "properties": {
                                "ids": {
                                    "type": "array",
                                    "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                                    "minItems": 1,
                                    "maxItems": most,
                                }
                            },
                        }
                    }
                },
            }
        },
    )
    async def acknowledge(request: Request) -> Any:
        """Acknowledge events by id: they leave the default listing (`include_acked`
        shows them again). Acknowledging twice changes nothing."""
        doc = await read_json_body(request, ctx.limits.max_request_bytes)
        if isinstance(doc, JSONResponse):
            return doc
        ids = doc.get("ids") if isinstance(doc, dict) and set(doc) == {"ids"} else None
        if (
            not isinstance(ids, list)
            or not 1 <= len(ids) <= most
            or not all(type(i) is int and 1 <= i <= MAX_ID for i in ids)
        ):
            return refuse(
                422,
                f'the body is {{"ids": [event ids]}}: 1 to {most} whole numbers '
                "(ServiceLimits.max_events_per_response)",
            )
        try:
            done = await asyncio.to_thread(ack_events, ctx.store, tuple(ids), utc_text())
        except StoreError as exc:
            return refuse(503, f"the store cannot record it now: {exc}")
        return JSONResponse({"acknowledged": done})

    return router
