"""Validation errors as sentences a user can act on, each with its field's path.

Written for RunConfig (its combination errors name the field to change), and used for every
request body the server validates: `explain` takes pydantic's error items and the model they
came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from trainer.contract.config import CombinationError, RunConfig

NOT_AN_OBJECT = ("model_type", "model_attributes_type", "dict_type")


def _allowed_fields(root: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str]:
    model = root
    if model is None:
        return []
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def item(loc: Iterable[Any], kind: str, msg: str) -> dict[str, Any]:
    """One 422 item: {loc, path, type, msg}, the msg led by the path ("(body)" for the root)."""
    loc = list(loc)
    path = ".".join(str(p) for p in loc) or "(body)"
    return {"loc": loc, "path": path, "type": kind, "msg": f"{path}: {msg}"}


def explain_combination(error: CombinationError) -> dict[str, Any]:
    """The 422 item of fields that do not work together (it names the one to change)."""
    return item(error.path.split("."), "value_error", str(error))


def explain(errors: Iterable[dict[str, Any]],
            root: type[BaseModel] | None = RunConfig) -> list[dict[str, Any]]:
    """Turn pydantic's error items into [{loc, path, msg, type}] with sentences to act on.

    Args:
        errors: `ValidationError.errors()` items, their `loc` relative to the body.
        root: the model validated (it lists the fields allowed where one is unknown).
    """
    out = []
    for error in errors:
        loc = tuple(error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, CombinationError):
            out.append(explain_combination(cause))
            continue
        kind, msg = error["type"], error["msg"]
        if kind == "extra_forbidden":
            allowed = ", ".join(_allowed_fields(root, loc))
            msg = f"unknown field '{loc[-1]}'; the fields allowed here are: {allowed}"
        elif kind == "value_error":
            msg = msg.removeprefix("Value error, ")
        elif kind in NOT_AN_OBJECT:
            kind, msg = "model_type", "expected a JSON object"
        elif kind == "missing" and not loc:
            msg = "expected a JSON object; the body is empty"
        out.append(item(loc, kind, msg))
    return out


def explain_errors(error: ValidationError) -> list[dict[str, Any]]:
    """A RunConfig's ValidationError as 422 items (see `explain`).

    Args:
        error: the error raised while validating a RunConfig.
    """
    return explain(error.errors(include_url=False))
