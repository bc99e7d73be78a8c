"""What FastAPI cannot infer for the OpenAPI page: the error answers and a partial RunConfig.

Request bodies and successful answers are typed in the routes with the contract's models
(trainer/contract/: RunConfig, Run, History, Preset), so FastAPI documents them itself. The
errors are raised, not returned, so each route lists the ones it may answer with `answers`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, WithJsonSchema


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
    415: {"model": Problem, "description": "The body is not application/json."},
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
