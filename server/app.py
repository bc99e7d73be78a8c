"""The FastAPI application: `create_app(settings)` wires settings, store, executor and routes."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from server.attempts import FailedAttempts, weak_code_warning
from server.bodylimit import BodyLimitMiddleware
from server.errors import (
    StrictJSONResponse,
    UnexpectedErrorMiddleware,
    install_error_handlers,
)
from server.executors.base import Executor
from server.executors.local import LocalExecutor
from server.guards import RequestGuardMiddleware
from server.headers import SecurityHeadersMiddleware
from server.hub import Hub
from server.identity import Identity, IdentityMiddleware
from server.memory import tune_malloc
from server.routes import ingest, join, meta, pages, runs, ws
from server.service import RunService
from server.settings import Settings, load_secret_key
from server.store import RunStore

log = logging.getLogger(__name__)
INTERRUPTED = "interrupted by a server restart"


def make_executor(settings: Settings) -> Executor:
    """The executor the settings name: local worker processes, or workers behind Redis."""
    if settings.executor == "redis":
        from server.executors.redis import RedisExecutor  # only deployments with Redis need it

        return RedisExecutor(settings.redis_url)
    return LocalExecutor(settings.workers, tf_threads=settings.worker_threads)


async def take_over(service: RunService) -> None:
    """Settle the runs a previous server process left queued or running.

    Workers behind Redis outlive the server, so those runs are resumed where their history
    stops; local workers died with the old process, so its runs are failed.
    """
    store, executor = service.store, service.executor
    if not executor.resumes_runs:
        interrupted = store.fail_interrupted(INTERRUPTED)
        if interrupted:
            log.warning("%d runs were %s", interrupted, INTERRUPTED)
        return
    rows = store.active_runs()
    for row in rows:
        stored = service.revive(row)
        await executor.resume(row["id"], row["owner"], row["status"],
                              store.stream_position(row["id"]), stored)
    if rows:
        log.info("resumed %d runs a previous server process left active", len(rows))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the store, settle runs a previous process left behind, start the executor."""
    settings: Settings = app.state.settings
    tune_malloc()  # before the store's and the executor's threads start (server/memory.py)
    store = RunStore(settings.db_path)
    store.open()
    executor = make_executor(settings)
    hub = Hub(max_bytes=settings.viewer_max_bytes)
    service = RunService(settings, store, hub, executor)
    # What the routes take as dependencies (server/routes/deps.py).
    app.state.service, app.state.store, app.state.hub = service, store, hub
    app.state.executor, app.state.live = executor, service.live
    app.state.snapshots = service.snapshots
    await take_over(service)
    await executor.start(service.events.apply)
    await service.retention.start()
    try:
        yield
    finally:
        await executor.close()
        await service.retention.close()
        service.trimmer.close()
        store.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """A GradWatch app; `settings` default to the GRADWATCH_* environment."""
    settings = settings or Settings()
    identity = Identity(load_secret_key(settings), settings.admin_token, settings.access_code)
    app = FastAPI(title="GradWatch", version="0.1.0", lifespan=lifespan,
                  default_response_class=StrictJSONResponse)
    app.state.settings = settings
    app.state.identity = identity
    app.state.join_attempts = FailedAttempts(settings.join_budget)
    weak = settings.access_code and weak_code_warning(settings.access_code, settings.join_budget)
    if weak:
        log.warning("%s", weak)
    app.state.sockets = Counter()
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(IdentityMiddleware, identity=identity)
    app.add_middleware(RequestGuardMiddleware, allowed_hosts=settings.host_names)
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)  # added last: the outermost of ours
    for module in (meta, runs, ingest, ws, join, pages):
        app.include_router(module.router)
    pages.mount_static(app)
    return app
