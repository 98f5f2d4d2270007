"""/v1/schedules: create, list, read, update (PATCH) and delete schedules (write scope to
change, read scope to look). A schedule is a cron expression (UTC), a named group of
domains, the checks to run, and where its drift alerts go; `serve`'s scheduler fires it."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from ..model import CheckId
from ..report.codec import encode_value
from ..store.connect import StoreError
from .context import MAX_ID, ApiContext, Invalid, Problem, read_json_body, refuse
from .schedules_store import (
    CRON_ALIASES,
    ScheduleConflict,
    ScheduleInput,
    create_schedule,
    delete_schedule,
    get_schedule,
    list_schedules,
    parse_schedule,
    ticks_of,
    update_schedule,
)

__all__ = ["schedules_router"]


class ScheduleDocument(BaseModel):
    id: int
    name: str
    cron: str
    group: str
    domains: list[str]
    checks: list[str] | None
    webhooks: list[str]
    emails: list[str]
    enabled: bool
    created_at: str
    updated_at: str


class TickDocument(BaseModel):
    tick_at: str
    claimed_at: str
    run_id: int | None
    error: str | None


class ScheduleList(BaseModel):
    schedules: list[ScheduleDocument]


class ScheduleDetail(ScheduleDocument):
    ticks: list[TickDocument]  # the latest fired ticks, newest first


def _body_schema(ctx: ApiContext, *, partial: bool) -> dict[str, Any]:
    strings = {"type": "array", "items": {"type": "string"}}
    return {
        "type": "object",
        "additionalProperties": False,
        **({} if partial else {"required": ["name", "cron", "domains"]}),
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "cron": {
                "type": "string",
                "description": "five fields (minute hour day-of-month month day-of-week), "
                f"UTC, or one of {', '.join(CRON_ALIASES)}",
            },
            "group": {"type": "string", "minLength": 1, "maxLength": 100},
            "domains": {**strings, "minItems": 1, "maxItems": ctx.limits.max_domains_per_request},
            "checks": {"type": "array", "items": {"enum": [c.value for c in CheckId]}},
            "webhooks": {**strings, "maxItems": ctx.limits.max_alert_targets},
            "emails": {**strings, "maxItems": ctx.limits.max_alert_targets},
            "enabled": {"type": "boolean"},
        },
    }


def schedules_router(ctx: ApiContext) -> APIRouter:
    router = APIRouter(responses=ctx.errors)
    allow_private = ctx.manager.options.probes.allow_private_targets
    Id = Annotated[int, Path(ge=1, le=MAX_ID)]
    body_errors: dict[int | str, dict[str, Any]] = {
        400: {"model": Problem, "description": "the body is not JSON"},
        413: {"model": Problem, "description": "the body is larger than the service reads"},
        422: {"model": Invalid, "description": "invalid fields, each with its reason"},
        503: {"model": Problem, "description": "the store cannot be used now"},
    }

    async def parsed(request: Request, *, partial: bool) -> ScheduleInput | JSONResponse:
        doc = await read_json_body(request, ctx.limits.max_request_bytes)
        if isinstance(doc, JSONResponse):
            return doc
        given = parse_schedule(doc, ctx.limits, partial=partial, allow_private=allow_private)
        if isinstance(given, list):
            return refuse(422, f"{len(given)} problem(s) in the schedule", errors=given)
        return given

    @router.post(
        "/v1/schedules",
        status_code=201,
        response_model=ScheduleDocument,
        dependencies=[ctx.writer],
        responses={**body_errors, 409: {"model": Problem, "description": "name taken, or full"}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _body_schema(ctx, partial=False)}},
            }
        },
    )
    async def create(request: Request) -> Any:
        given = await parsed(request, partial=False)
        if isinstance(given, JSONResponse):
            return given
        try:
            made = await asyncio.to_thread(create_schedule, ctx.store, given, ctx.limits)
        except ScheduleConflict as exc:
            return refuse(409, str(exc))
        except StoreError as exc:
            return refuse(503, f"the store cannot record the schedule now: {exc}")
        return JSONResponse(
            encode_value(made), status_code=201, headers={"Location": f"/v1/schedules/{made.id}"}
        )

    @router.get(
        "/v1/schedules",
        response_model=ScheduleList,
        dependencies=[ctx.reader],
        responses={503: {"model": Problem, "description": "the store cannot be read now"}},
    )
    async def listing() -> Any:
        try:
            found = await asyncio.to_thread(list_schedules, ctx.store)
        except StoreError as exc:
            raise HTTPException(503, f"the store cannot be read now: {exc}") from None
        return JSONResponse({"schedules": [encode_value(s) for s in found]})

    @router.get(
        "/v1/schedules/{schedule_id}",
        response_model=ScheduleDetail,
        dependencies=[ctx.reader],
        responses={
            404: {"model": Problem, "description": "no such schedule"},
            422: {"model": Invalid, "description": "not an id"},
            503: {"model": Problem, "description": "the store cannot be read now"},
        },
    )
    async def read(schedule_id: Id) -> Any:
        try:
            found = await asyncio.to_thread(get_schedule, ctx.store, schedule_id)
            ticks = await asyncio.to_thread(ticks_of, ctx.store, schedule_id)
        except StoreError as exc:
            raise HTTPException(503, f"the store cannot be read now: {exc}") from None
        if found is None:
            raise HTTPException(404, f"no schedule {schedule_id}")
        return JSONResponse({**encode_value(found), "ticks": ticks})

    @router.patch(
        "/v1/schedules/{schedule_id}",
        response_model=ScheduleDocument,
        dependencies=[ctx.writer],
        responses={
            **body_errors,
            404: {"model": Problem, "description": "no such schedule"},
            409: {"model": Problem, "description": "the new name is taken"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _body_schema(ctx, partial=True)}},
            }
        },
    )
    async def update(schedule_id: Id, request: Request) -> Any:
        """Change the fields given; the others keep their values. The schedule fires from
        its first tick after this change."""
        given = await parsed(request, partial=True)
        if isinstance(given, JSONResponse):
            return given
        try:
            changed = await asyncio.to_thread(update_schedule, ctx.store, schedule_id, given)
        except ScheduleConflict as exc:
            return refuse(409, str(exc))
        except StoreError as exc:
            return refuse(503, f"the store cannot record the change now: {exc}")
        if changed is None:
            raise HTTPException(404, f"no schedule {schedule_id}")
        return JSONResponse(encode_value(changed))

    @router.delete(
        "/v1/schedules/{schedule_id}",
        status_code=204,
        response_class=Response,
        dependencies=[ctx.writer],
        responses={
            404: {"model": Problem, "description": "no such schedule"},
            422: {"model": Invalid, "description": "not an id"},
            503: {"model": Problem, "description": "the store cannot be used now"},
        },
    )
    async def remove(schedule_id: Id) -> Response:
        try:
            gone = await asyncio.to_thread(delete_schedule, ctx.store, schedule_id)
        except StoreError as exc:
            raise HTTPException(503, f"the store cannot be used now: {exc}") from None
        if not gone:
            raise HTTPException(404, f"no schedule {schedule_id}")
        return Response(status_code=204)

    return router
