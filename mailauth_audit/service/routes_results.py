"""What an audit produced, read back from the store: JSON lines or CSV, streamed, and the
HTML index of the run (the page `bulk --html` writes).

Streamed: the audits are read and encoded a batch at a time in a worker thread while the
response is sent (Starlette iterates a plain iterator in its thread pool), so neither memory
nor the event loop depends on the size of the run. The JSON is the codec's (`check -f
json`), the CSV has bulk's results.csv columns: no second shape.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.params import Depends
from fastapi.responses import HTMLResponse, StreamingResponse

from ..options import ServiceLimits
from ..store.connect import StoreError
from ..store.store import Store
from .context import MAX_ID
from .run_index import RunTooLarge, csv_lines, jsonl_lines, row_batches, run_index_page

__all__ = ["PAGE_HEADERS", "ResultsFormat", "results_router"]

# every HTML answer of the service: no script, nothing loaded from elsewhere, no framing
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class ResultsFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


def _chosen(format: ResultsFormat | None, accept: str) -> ResultsFormat:
    """`?format=` first, else the Accept header (text/csv), else JSON lines."""
    if format is not None:
        return format
    wanted = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return ResultsFormat.CSV if "text/csv" in wanted else ResultsFormat.JSONL


def results_router(
    store: Store,
    reader: Depends,
    errors: dict[int | str, dict[str, Any]],
    order_of: Callable[[int], tuple[str, ...]],
    limits: ServiceLimits,
) -> APIRouter:
    """`reader`: the read-scope dependency of the app; `order_of(id)`: the domains as the
    job named them (empty when the job is no longer in memory: then by name)."""
    router = APIRouter()

    def refusals() -> dict[int | str, dict[str, Any]]:
        # a copy for each route: FastAPI takes the model out of a response dict it is given
        return copy.deepcopy(errors)

    @router.get(
        "/v1/audits/{audit_id}/results",
        dependencies=[reader],
        response_class=StreamingResponse,
        responses={
            **refusals(),
            200: {
                "description": "one domain report per line (the JSON of `check -f json`), "
                "or with ?format=csv (or Accept: text/csv) one CSV row per domain with the "
                "columns of `bulk`'s results.csv; as recorded so far",
                "content": {
                    "application/x-ndjson": {"schema": {"type": "string"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            },
        },
    )
    async def audit_results(
        audit_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        request: Request,
        format: Annotated[ResultsFormat | None, Query()] = None,
    ) -> StreamingResponse:
        chosen = _chosen(format, request.headers.get("accept", ""))
        try:
            rows = await asyncio.to_thread(row_batches, store, audit_id, order_of(audit_id))
        except LookupError:
            raise HTTPException(404, f"no audit {audit_id}") from None
        except StoreError as exc:
            raise HTTPException(503, f"the store cannot be read now: {exc}") from None
        if chosen is ResultsFormat.CSV:
            return StreamingResponse(
                csv_lines(store, rows),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="audit-{audit_id}.csv"'},
            )
        return StreamingResponse(jsonl_lines(store, rows), media_type="application/x-ndjson")

    @router.get(
        "/v1/audits/{audit_id}/report",
        dependencies=[reader],
        response_model=None,  # an HTML page; the refusals are JSON, as everywhere
        responses={
            **refusals(),
            200: {
                "description": "the run's HTML index (as `bulk --html` writes it), "
                f"{limits.max_report_domains} domains at most; `page` for domains past the "
                "first 200",
                "content": {"text/html": {"schema": {"type": "string"}}},
            },
            422: {
                "description": "the run has more domains than one report page counts "
                "(ServiceLimits.max_report_domains), or a parameter is not valid"
            },
        },
    )
    async def audit_report(
        audit_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    ) -> HTMLResponse:
        try:
            html = await asyncio.to_thread(
                run_index_page,
                store,
                audit_id,
                page,
                max_domains=limits.max_report_domains,
                results_links=(
                    ("results (JSON lines)", "results"),
                    ("results.csv", "results?format=csv"),
                ),
            )
        except LookupError:
            raise HTTPException(404, f"no audit {audit_id}") from None
        except RunTooLarge as exc:
            raise HTTPException(422, str(exc)) from None
        except StoreError as exc:
            raise HTTPException(503, f"the store cannot be read now: {exc}") from None
        if html is None:
            raise HTTPException(404, f"audit {audit_id} has no page {page}")
        return HTMLResponse(html, headers=PAGE_HEADERS)

    return router
