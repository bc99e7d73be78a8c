"""RunConfig validation errors as sentences a user can act on, each with its field's path."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from trainer.contract.config import CombinationError, RunConfig


def _allowed_fields(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = RunConfig
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def explain_errors(error: ValidationError) -> list[dict[str, Any]]:
    """Turn a pydantic ValidationError into [{loc, msg, type}] with sentences a user can act on.

    Args:
        error: the error raised while validating a RunConfig.
    """
    out = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, CombinationError):
            loc = tuple(cause.path.split("."))
        path = ".".join(str(p) for p in loc) or "(body)"
        kind = item["type"]
        msg = item["msg"]
        if kind == "extra_forbidden":
            allowed = ", ".join(_allowed_fields(loc))
            msg = f"unknown field '{loc[-1]}'; the fields allowed here are: {allowed}"
        elif kind == "value_error":
            msg = msg.removeprefix("Value error, ")
        elif kind == "model_type" or kind == "model_attributes_type":
            msg = "expected a JSON object"
        out.append({"loc": list(loc), "path": path, "type": kind,
                    "msg": f"{path}: {msg}"})
    return out
