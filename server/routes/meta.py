"""What the page and scripts need besides runs: health, presets, and the RunConfig schema."""

from __future__ import annotations

import os
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from server.identity import Identity, Visitor
from server.openapi import Health
from server.routes.deps import get_service, get_visitor
from server.service import RunService
from trainer.contract.config import RunConfig
from trainer.contract.presets import PRESETS
from trainer.contract.schemas import Preset

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health", response_model=Health)
async def health(service: Annotated[RunService, Depends(get_service)]) -> Any:
    """Liveness, the executor's workers and queue, and whether the database takes writes."""
    # async: the executor's state belongs to the event loop, not to a thread-pool thread.
    executor = service.executor.health()
    store_error = service.store.last_error
    return {
        "ok": executor["state"] != "degraded" and store_error is None,
        "pid": os.getpid(),
        "executor": executor,
        "store": {"state": "error" if store_error else "ok", "error": store_error},
        "live_runs": len(service.live),
        "viewers": service.hub.watchers(),
        "frames": dict(service.hub.counts),
        "snapshot_cache": service.snapshots.stats(),
    }


@router.get("/token")
def token(request: Request, visitor: Annotated[Visitor, Depends(get_visitor)]) -> Any:
    """This visitor's token, for a script (`GradWatchCallback(token=...)`): what the script
    starts is then this visitor's run, which they may stop from the page. `admin` says whether
    the request carried the admin token (the page's teacher console checks it so)."""
    identity: Identity = request.app.state.identity
    return {"token": identity.visitor_token(visitor.id), "admin": visitor.admin}


@router.get("/presets", response_model=list[Preset])
def presets() -> Any:
    """Named RunConfigs that each show a phenomenon or its remedy."""
    return PRESETS


@router.get("/schema")
def schema() -> dict[str, Any]:
    """RunConfig's JSON schema: the page builds its form (names, defaults, limits) from it."""
    return _schema()


@cache
def _schema() -> dict[str, Any]:
    return RunConfig.model_json_schema()
