"""The server's own answers as models (health, problems), so the OpenAPI page says what comes back.

The records both sides share (Run, History, Diagnosis, Preset) are in trainer/contract/schemas.py.
The routes build their answers as plain dicts (StrictJSONResponse renders non-finite numbers as
null); these models only describe them. Request bodies are typed in the routes, so FastAPI
documents them itself; only a partial RunConfig (restart) is declared here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema

from trainer.contract.schemas import OpenRecord


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


class Problem(BaseModel):
    """Why a request was refused, as a sentence."""

    detail: str


class InvalidItem(BaseModel):
    loc: list[str | int]
    path: str = Field(description="The field, e.g. model.depth; (body) for the whole body.")
    msg: str = Field(description="The path and a sentence saying what is allowed.")
    type: str


class Invalid(BaseModel):
    detail: list[InvalidItem]


RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                               "schema": {"type": "integer"}}}
ANSWERS: dict[int, dict[str, Any]] = {
    403: {"model": Problem, "description": "Not yours: only its owner or the admin may."},
    404: {"model": Problem, "description": "No run with this id."},
    409: {"model": Problem, "description": "Not possible in the run's current status."},
    413: {"model": Problem, "description": "The request body is over the size limit."},
    422: {"model": Invalid, "description": "Invalid input: each item names the field."},
    429: {"model": Problem, "description": "This visitor's or the queue's limit is reached.",
          "headers": RETRY_AFTER},
    503: {"model": Problem, "description": "The database or the executor is unavailable.",
          "headers": RETRY_AFTER},
}


def answers(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` of a route that may answer these error codes."""
    return {code: ANSWERS[code] for code in codes}


# A partial RunConfig (restart merges it over a full one, so the route takes a dict): documented
# as RunConfig, whose every field is optional.
PartialRunConfig = Annotated[dict[str, Any], WithJsonSchema(
    {"$ref": "#/components/schemas/RunConfig",
     "description": "A partial RunConfig, deep-merged over the run's."})]
