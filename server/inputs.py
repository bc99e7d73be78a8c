"""Turning request bodies into validated RunConfigs, or into 422 answers that say what to fix."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from server.errors import InvalidInput, body_error
from trainer.contract.config import RunConfig, trainable_params
from trainer.contract.configerrors import explain_errors


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_object(body: bytes) -> dict[str, Any]:
    """The JSON object in a request body; an empty body is the empty object (all defaults)."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        error = body_error("json_invalid", f"the body is not valid JSON ({exc})")
        raise InvalidInput([error]) from None
    if not isinstance(value, dict):
        raise InvalidInput([body_error("model_type", "expected a JSON object")])
    return value


def validate_config(value: dict[str, Any], max_params: int) -> RunConfig:
    """The RunConfig of a parsed body (defaults filled in), or InvalidInput.

    Args:
        value: a RunConfig as parsed JSON, fields optional.
        max_params: the server's limit on trainable parameters (at most RunConfig's own).
    """
    try:
        config = RunConfig.model_validate(value)
    except ValidationError as exc:
        raise InvalidInput(explain_errors(exc)) from None
    n = trainable_params(config)
    if n > max_params:
        raise InvalidInput([{
            "loc": ["model"], "path": "model", "type": "value_error",
            "msg": f"model: this model has {n:,} trainable parameters, more than this server's "
                   f"limit of {max_params:,}; use a smaller depth, width or n_features"}])
    return config
