"""Running the API under uvicorn, and its OpenAPI document.

`python -m mailauth_audit.service.server` rewrites docs/openapi.json (tests/service compare
the committed document with the generated one).
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..options import AuditOptions, QueueLimits, ServiceLimits, StoreLimits
from ..store.deliver import EmailTarget
from ..store.store import Store, open_store
from .app import create_app
from .jobs import JobManager
from .logs import configure_logging
from .schedules_loop import JobState, Scheduler

__all__ = ["ServiceConfig", "openapi_document", "openapi_text", "run_service"]

OPENAPI_PATH = Path(__file__).resolve().parent.parent.parent / "docs" / "openapi.json"


@dataclass(frozen=True)
class ServiceConfig:
    store_url: str
    host: str = "127.0.0.1"
    port: int = 8025
    options: AuditOptions = field(default_factory=AuditOptions)
    limits: ServiceLimits = field(default_factory=ServiceLimits)
    store_limits: StoreLimits = field(default_factory=StoreLimits)
    log_level: str = "info"
    log_format: str = "text"  # or "json": one JSON object per line (service/logs.py)
    scheduler: bool = True  # False: `serve --no-scheduler` (another process fires schedules)
    queue_limits: QueueLimits = field(default_factory=QueueLimits)
    # `serve --smtp/--mail-from`: the relay for schedules' email targets (recipients unset)
    alert_mail: EmailTarget | None = None


def run_service(config: ServiceConfig) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn stops accepting, finishes open requests, then
    the lifespan cancels running jobs: their runs stay unfinished, reported "interrupted").
    On PostgreSQL jobs are queued for `worker` processes instead, and outlive `serve`."""
    import uvicorn  # only `serve` needs it

    configure_logging(config.log_format, config.log_level)
    store = open_store(config.store_url, config.store_limits)
    try:
        queue = None
        if store.engine.dialect.name == "postgresql":  # chunks go to `worker` processes
            from .queue import ChunkQueue, ensure_queue_schema

            ensure_queue_schema(store)
            queue = ChunkQueue(store)
        manager = JobManager(
            store, config.options, config.limits, queue_limits=config.queue_limits, queue=queue
        )
        scheduler = (
            Scheduler(
                store,
                manager.submit,
                config.limits,
                job_state=_job_state(manager),
                mail=config.alert_mail,
            )
            if config.scheduler
            else None
        )
        app = create_app(store, manager, scheduler=scheduler)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=config.host,
                port=config.port,
                log_level=config.log_level,
                server_header=False,
                proxy_headers=False,
                lifespan="on",
                log_config=None,  # records go to configure_logging's handler (secrets redacted)
            )
        )
        server.run()
    finally:
        store.close()


def _job_state(manager: JobManager) -> JobState:
    async def state(job_id: int) -> str | None:
        job = await manager.get(job_id)
        return None if job is None else job.status

    return state


class _NoStore(Store):
    """Enough of a store to build the app for its OpenAPI document (no database)."""

    def __init__(self) -> None:
        pass


def openapi_document(limits: ServiceLimits | None = None) -> dict[str, Any]:
    store = _NoStore()
    app = create_app(store, JobManager(store, AuditOptions(), limits or ServiceLimits()))
    return app.openapi()


def openapi_text(limits: ServiceLimits | None = None) -> str:
    return json.dumps(openapi_document(limits), indent=2, sort_keys=False) + "\n"


def committed_openapi() -> str:
    return OPENAPI_PATH.read_text(encoding="utf-8")


if __name__ == "__main__":
    logging.basicConfig()
    OPENAPI_PATH.write_text(openapi_text(), encoding="utf-8")
    print(f"wrote {OPENAPI_PATH}", file=sys.stderr)
