"""What the route modules share: the store, the job manager, the limits, the scope checks.

Each router module (routes_domains, routes_schedules, routes_alerts, metrics) builds its
APIRouter from one ApiContext, so app.py includes each with one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.params import Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ..options import ServiceLimits
from ..store.store import Store
from .jobs import JobManager

__all__ = ["MAX_ID", "ApiContext", "Invalid", "Problem", "read_json_body", "refuse"]


class Problem(BaseModel):
    detail: str


class Invalid(BaseModel):
    """A 422: ours (detail text, per-item errors) or FastAPI's for a bad path or query
    parameter (detail: a list of pydantic errors)."""

    detail: str | list[Any]
    errors: list[dict[str, Any]] | None = None


MAX_ID = 2**31 - 1  # ids are INTEGER columns: a larger one is 422, never a driver overflow


@dataclass(frozen=True)
class ApiContext:
    store: Store
    manager: JobManager
    limits: ServiceLimits
    reader: Depends  # Depends(...) requiring the read scope
    writer: Depends
    errors: dict[int | str, dict[str, Any]]  # the 401/403/429 responses every route may give
    metrics: Any = None  # metrics.ApiMetrics, when the app has one


def refuse(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


async def read_json_body(request: Request, limit: int) -> Any:
    """The parsed body, or the 400/413 JSONResponse saying why not. Read at most `limit`
    bytes, whatever the content type (`curl -d` sends a form type)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return refuse(
                413,
                f"the request body is larger than {limit} bytes (ServiceLimits.max_request_bytes)",
            )
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        return refuse(400, f"the body is not JSON: {exc}")
