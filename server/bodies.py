"""Request bodies read strictly: JSON per RFC 8259 for every route that takes a typed body.

FastAPI parses a JSON body with `json.loads`, which takes `NaN` and `Infinity`; a route of a
router made with `route_class=StrictJSONRoute` parses it here instead, so such a constant (or
bytes that are not text) is the same `json_invalid` 422 as any other text that is not JSON.
An empty body is no body: the route's default (for RunConfig, every field's default); a body
of only whitespace is not JSON.

Two things JSON allows are refused too, since nothing after the parse could handle them: arrays
and objects nested deeper than `MAX_DEPTH` (Python's parser and every recursive step after it
would run out of stack), and a lone UTF-16 surrogate (`"\\ud800"` with no pair), which is not
a character and cannot be stored or sent as UTF-8. Both are a 422 naming where they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from trainer.contract.configerrors import item

# No GradWatch body nests more than 5 levels; 32 leaves room and is far below the stack.
MAX_DEPTH = 32


class BodyRefused(HTTPException):
    """422 with one item, for JSON that parses but cannot be used. An HTTPException, so
    FastAPI passes it on while it reads a typed body (anything else there becomes a vague 400).
    """

    def __init__(self, loc: list[Any], kind: str, msg: str) -> None:
        super().__init__(422, [item(loc, kind, msg)])


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _too_deep() -> BodyRefused:
    return BodyRefused([], "json_too_deep",
                       f"arrays and objects are nested more than {MAX_DEPTH} levels deep; "
                       "no GradWatch body needs more than a few")


def loads_strict(body: bytes) -> Any:
    """The JSON value of a body; json.JSONDecodeError for anything that is not strict JSON,
    BodyRefused for JSON nested too deep or holding a lone surrogate."""
    try:
        value = json.loads(body, parse_constant=_no_constant)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:  # a NaN or Infinity constant, or bytes that are not text
        raise json.JSONDecodeError(str(exc), "", 0) from None
    check_value(value)
    return value


def check_value(value: Any) -> None:
    """Raise BodyRefused if a parsed JSON value nests past MAX_DEPTH or holds a string (or a
    key) with a lone surrogate. Iterative, so it cannot itself run out of stack."""
    stack: list[tuple[Any, list[Any]]] = [(value, [])]
    while stack:
        node, loc = stack.pop()
        if len(loc) > MAX_DEPTH:
            raise _too_deep()
        if isinstance(node, str):
            _check_text(node, loc)
        elif isinstance(node, dict):
            for key, child in node.items():
                _check_text(key, [*loc, "(key)"])
                stack.append((child, [*loc, key]))
        elif isinstance(node, list):
            stack.extend((child, [*loc, i]) for i, child in enumerate(node))


def _check_text(text: str, loc: list[Any]) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BodyRefused(loc, "string_unicode",
                          f"holds a lone UTF-16 surrogate ({text[exc.start]!a} without its "
                          "pair), which is not a character; send text as UTF-8") from None


class StrictJSONRequest(Request):
    """A Request whose `json()` is `loads_strict` of its body."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads_strict(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """An APIRoute whose handler reads JSON bodies with `loads_strict`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler
