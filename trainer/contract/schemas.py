"""The records the API answers with, as models: a Run, its History, its Diagnosis, a Preset.

TF-free (pydantic and the contract only). The server's routes declare them as `response_model`s
and the OpenAPI page shows them; `trainer/contract/` is the one place their fields are named.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from trainer.contract.config import RunConfig
from trainer.contract.protocol import DIAGNOSIS_STATES, STATUSES

Number = float | None  # a non-finite value is sent as null


class OpenRecord(BaseModel):
    """A record later versions may add fields to."""

    model_config = ConfigDict(extra="allow")


class Layer(OpenRecord):
    """A layer with trainable weights, input side first."""

    name: str
    kind: str
    params: int
    spectral_radius: float | None = Field(
        None, description="A SimpleRNN's recurrent weights' spectral radius at step 0: the "
        "gradient across time is multiplied by them at every step back.")


class Progress(BaseModel):
    """Optimizer steps done so far (last step + 1), of total_steps; epoch from 0."""

    step: int
    epoch: int
    total_steps: int


class Suggestion(OpenRecord):
    label: str
    overrides: dict[str, Any] = Field(description="A partial RunConfig for POST .../restart.")


class Diagnosis(OpenRecord):
    state: Literal[DIAGNOSIS_STATES]
    ratio: Number = Field(description="First-layer / last-layer gradient norm (median).")
    message: str
    suggestions: list[Suggestion]


class Run(OpenRecord):
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
    owner_label: str = Field(
        "", description="A short label of its owner (\"visitor 3f9a\"), the same for all of one "
        "visitor's runs; it does not reveal the visitor's id.")
    time_limit: float | None = Field(
        None, description="Seconds of wall time after which the server stops it "
        "(GRADWATCH_MAX_RUN_SECONDS); null for a script's run.")


PerLayer = list[list[Number] | None]


class History(OpenRecord):
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
    dead_fractions: PerLayer = Field(default_factory=list, description="Per ReLU layer, the "
                                     "fraction of units that output 0 for the whole batch "
                                     "(null for other layers, and in runs recorded before it "
                                     "existed)")


class Preset(OpenRecord):
    id: str
    title: str
    look_for: str
    config: RunConfig
