"""The bodies a script's callback posts (`gradwatch.GradWatchCallback`), validated at the edge.

TF-free like the rest of the server. The events are trainer.protocol's, from the script instead
of a worker: a run it opened takes `metrics`, `epoch`, `diagnosis` and `finished` events. The
routes take these models as typed bodies; their errors are explained by the app's one handler.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from server.errors import InvalidInput
from trainer.contract.config import RunConfig
from trainer.contract.configerrors import explain
from trainer.contract.protocol import DIAGNOSIS_STATES, FINAL_STATUSES, LAYER_FIELDS

MAX_LAYERS = 2000
MAX_EVENTS = 2000
Number = float | None  # a non-finite figure arrives as null


class _Body(BaseModel):
    # Strict like RunConfig: a JSON value of another type (false for a number, "3" for an int)
    # is refused, as the schema /openapi.json shows for these bodies says.
    model_config = ConfigDict(extra="forbid", strict=True)


class LayerInfo(_Body):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=100)
    params: int = Field(ge=0)


class NewScriptRun(_Body):
    """`POST /api/ingest/runs`: a script's `fit` begins."""

    name: str = Field("", max_length=100)
    layers: list[LayerInfo] = Field(min_length=1, max_length=MAX_LAYERS)
    total_steps: int | None = Field(None, ge=0, le=10**9)
    config: dict[str, Any] = Field(default_factory=dict, description="The RunConfig closest "
                                   "to the script's model (each section validated)")
    script: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, max_length=30, description="What the script reported about "
        "itself: model class, optimizer, loss, Keras version...")


class StepItem(_Body):
    step: int = Field(ge=0)
    epoch: int = Field(ge=0)
    loss: Number = None
    t: float
    grad_norms: list[Number]
    clipped_grad_norms: list[Number] | None = None
    weight_norms: list[Number]
    update_ratios: list[Number]
    output_grad_norms: list[Number] | None = None
    dead_fractions: list[Number] | None = None
    time_grad_norms: list[Number] | None = Field(None, max_length=10_000)


class MetricsEvent(_Body):
    type: Literal["metrics"]
    items: list[StepItem] = Field(min_length=1, max_length=10_000)


class EpochEvent(_Body):
    type: Literal["epoch"]
    epoch: int = Field(ge=0)
    loss: Number = None
    accuracy: Number = None
    val_loss: Number = None
    val_accuracy: Number = None


class Suggestion(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    label: str = Field(max_length=200)
    overrides: dict[str, Any]
    code: str | None = Field(None, max_length=2000)


class Diagnosis(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    state: Literal[DIAGNOSIS_STATES]
    ratio: Number = None
    message: str = Field(max_length=4000)
    suggestions: list[Suggestion] = Field(default_factory=list, max_length=20)


class DiagnosisEvent(_Body):
    type: Literal["diagnosis"]
    diagnosis: Diagnosis


class FinishedEvent(_Body):
    type: Literal["finished"]
    status: Literal[FINAL_STATUSES]
    error: str | None = Field(None, max_length=4000)


Event = Annotated[MetricsEvent | EpochEvent | DiagnosisEvent | FinishedEvent,
                  Field(discriminator="type")]


class ScriptEvents(_Body):
    """`POST /api/ingest/runs/{id}/events`: what happened since the last post (may be none)."""

    events: list[Event] = Field(default_factory=list, max_length=MAX_EVENTS)


def script_config(value: dict[str, Any], name: str) -> dict[str, Any]:
    """A full RunConfig dict from the script's closest one: each section validated alone
    (a script's model need not be a combination the form could build)."""
    sections = {}
    for key, field in RunConfig.model_fields.items():
        if key in ("name", "seed"):
            continue
        try:
            sections[key] = field.annotation.model_validate(value.get(key, {}))
        except ValidationError as exc:
            items = explain(exc.errors(include_url=False), field.annotation)
            for item in items:
                item["loc"] = ["config", key, *item["loc"]]
                item["path"] = f"config.{key}.{item['path']}"
                item["msg"] = f"config.{key}.{item['msg']}"
            raise InvalidInput(items) from None
    return RunConfig.model_construct(name=name, seed=0, **sections).model_dump(mode="json")


def check_steps(items: list[StepItem], n_layers: int) -> None:
    """Every per-layer list has one number per layer of the run."""
    for i, item in enumerate(items):
        for field in LAYER_FIELDS:
            values = getattr(item, field)
            if values is not None and len(values) != n_layers:
                path = f"items.{i}.{field}"
                raise InvalidInput([{"loc": path.split("."), "path": path, "type": "length",
                                     "msg": f"{path}: has {len(values)} numbers but the run "
                                            f"has {n_layers} layers"}])
