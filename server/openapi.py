"""The API's answers as models, so the OpenAPI page (`/docs`, `/openapi.json`) says what comes back.

The routes build their answers as plain dicts (StrictJSONResponse renders non-finite numbers as
null); these models only describe them. Request bodies are read raw (see server/inputs.py, for
the 422 sentences), so their schema, RunConfig, is declared here with `request_body`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from trainer.config import RunConfig
from trainer.protocol import DIAGNOSIS_STATES, STATUSES

Number = float | None  # a non-finite value is sent as null


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")  # later versions may add fields


class Layer(_Open):
    """A layer with trainable weights, input side first."""

    name: str
    kind: str
    params: int


class Progress(BaseModel):
    """Optimizer steps done so far (last step + 1), of total_steps; epoch from 0."""

    step: int
    epoch: int
    total_steps: int


class Suggestion(_Open):
    label: str
    overrides: dict[str, Any] = Field(description="A partial RunConfig for POST .../restart.")


class Diagnosis(_Open):
    state: Literal[DIAGNOSIS_STATES]
    ratio: Number = Field(description="First-layer / last-layer gradient norm (median).")
    message: str
    suggestions: list[Suggestion]


class Run(_Open):
    """A training run (CONTRACT §4)."""

    id: str
    name: str
    status: Literal[STATUSES]
    config: RunConfig
    parent_id: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    layers: list[Layer]
    progress: Progress
    diagnosis: Diagnosis | None
    error: str | None
    owned: bool = Field(description="Whether the caller may stop or delete it.")
    queue_position: int | None = Field(description="1-based place in the queue, if queued.")
    source: Literal["server", "script"] = Field(
        "server", description="server: trained by a worker from its config; script: streamed "
        "in by a user's own fit (GradWatchCallback), whose config is the closest RunConfig.")
    script: dict[str, Any] | None = Field(
        None, description="What a script run's callback reported (model class, optimizer...).")


PerLayer = list[list[Number] | None]


class History(_Open):
    """Recorded steps as parallel lists (CONTRACT §5); `step` says which were kept."""

    step: list[int]
    epoch: list[int]
    loss: list[Number]
    t: list[Number]
    grad_norms: PerLayer
    clipped_grad_norms: PerLayer
    weight_norms: PerLayer
    update_ratios: PerLayer
    output_grad_norms: PerLayer


class ExecutorHealth(_Open):
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


class Preset(_Open):
    id: str
    title: str
    look_for: str
    config: RunConfig


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


def request_body(description: str) -> dict[str, Any]:
    """`openapi_extra` for a route whose JSON body is a (partial) RunConfig."""
    return {"requestBody": {"required": False, "description": description, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/RunConfig"}}}}}
