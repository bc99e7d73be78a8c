"""What the page and scripts need besides runs: health, a visitor's token, presets, and the
RunConfig schema."""

from __future__ import annotations

import os
from functools import cache
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.routes.deps import (
    Caller,
    ExecutorDep,
    HubDep,
    IdentityDep,
    LiveDep,
    SnapshotsDep,
    StoreDep,
)
from trainer.contract.config import RunConfig
from trainer.contract.presets import PRESETS
from trainer.contract.schemas import OpenRecord, Preset

router = APIRouter(prefix="/api", tags=["meta"])


class ExecutorHealth(OpenRecord):
    kind: str
    state: Literal["ok", "starting", "degraded"]
    workers: int
    busy: int
    queued: int
    pids: list[int] = Field([], description="Local worker processes' ids.")
    tf_threads: list[int | None] = Field(
        [], description="Each local worker's TensorFlow intra-op threads, in the order of "
                        "`pids` (null until the worker is ready; 0: TensorFlow's default).")


class StoreHealth(BaseModel):
    state: Literal["ok", "error"]
    error: str | None


class FanoutCounts(BaseModel):
    """Websocket fan-out work since the server started: a frame is encoded once for all the
    viewers of its run, queued once per viewer, and sent in fewer sends when a viewer's waiting
    metrics frames merge."""

    encoded: int
    queued: int
    sent: int


class SnapshotCacheStats(BaseModel):
    """Encoded snapshots of ended runs kept in memory (`GRADWATCH_SNAPSHOT_CACHE_BYTES`): a new
    viewer of an ended run is served from here instead of re-reading its steps."""

    runs: int
    bytes: int
    hits: int
    misses: int


class Health(BaseModel):
    ok: bool
    pid: int = Field(description="The server's process id (for memory monitoring).")
    executor: ExecutorHealth
    store: StoreHealth
    live_runs: int
    viewers: int
    frames: FanoutCounts
    snapshot_cache: SnapshotCacheStats


@router.get("/health", response_model=Health)
async def health(executor: ExecutorDep, store: StoreDep, hub: HubDep, live: LiveDep,
                 snapshots: SnapshotsDep) -> Any:
    """Liveness, the executor's workers and queue, and whether the database takes writes."""
    # async: the executor's state belongs to the event loop, not to a thread-pool thread.
    state = executor.health()
    store_error = store.last_error
    return {
        "ok": state["state"] != "degraded" and store_error is None,
        "pid": os.getpid(),
        "executor": state,
        "store": {"state": "error" if store_error else "ok", "error": store_error},
        "live_runs": len(live),
        "viewers": hub.watchers(),
        "frames": dict(hub.counts),
        "snapshot_cache": snapshots.stats(),
    }


@router.get("/token")
def token(identity: IdentityDep, visitor: Caller) -> Any:
    """This visitor's token, for a script (`GradWatchCallback(token=...)`): what the script
    starts is then this visitor's run, which they may stop from the page. `admin` says whether
    the request carried the admin token (the page's teacher console checks it so)."""
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
