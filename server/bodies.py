"""Request bodies read strictly: JSON per RFC 8259 for every route that takes a typed body.

FastAPI parses a JSON body with `json.loads`, which takes `NaN` and `Infinity`; a route of a
router made with `route_class=StrictJSONRoute` parses it here instead, so such a constant (or
bytes that are not text) is the same `json_invalid` 422 as any other text that is not JSON.
An empty body is no body: the route's default (for RunConfig, every field's default); a body
of only whitespace is not JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads_strict(body: bytes) -> Any:
    """The JSON value of a body; json.JSONDecodeError for anything that is not strict JSON."""
    try:
        return json.loads(body, parse_constant=_no_constant)
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # a NaN or Infinity constant, or bytes that are not text
        raise json.JSONDecodeError(str(exc), "", 0) from None


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
