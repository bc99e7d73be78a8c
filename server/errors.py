"""The errors a user can cause, and how each one is answered (always JSON, never a bare 500)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.executors.base import ExecutorUnavailable
from server.store import StoreError
from trainer.contract.configerrors import explain, item
from trainer.contract.protocol import dumps

log = logging.getLogger(__name__)


class StrictJSONResponse(JSONResponse):
    """JSON per RFC 8259: a non-finite number is rendered as null, never NaN or Infinity."""

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")


class ApiError(Exception):
    """An answer other than success, with the status code and a sentence for the user."""

    status_code = 400

    def __init__(self, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class InvalidInput(ApiError):
    """422: `detail` is a list of {loc, path, msg, type} (trainer.contract.configerrors)."""

    status_code = 422


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409


class TooMany(ApiError):
    """429 with Retry-After (seconds)."""

    status_code = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, {"Retry-After": str(retry_after)})


def explain_request(exc: RequestValidationError, request: Request) -> list[dict[str, Any]]:
    """A request's validation errors as 422 items with sentences (see contract.configerrors).

    Errors about the body are explained against the route's body model (which names the fields
    allowed where one is unknown); a body that is not JSON is one item about the whole body.
    """
    body_model = _body_model(request)
    items: list[dict[str, Any]] = []
    for error in exc.errors():
        where, *loc = error.get("loc") or ("body",)
        if error.get("type") == "json_invalid":
            why = (error.get("ctx") or {}).get("error", "invalid JSON")
            position = f" at character {loc[0]}" if loc and loc[0] else ""
            items.append(item([], "json_invalid", f"the body is not valid JSON ({why}"
                                                  f"{position})"))
            continue
        items.extend(explain([{**error, "loc": loc}], body_model if where == "body" else None))
    return items


def _body_model(request: Request) -> type[BaseModel] | None:
    field = getattr(request.scope.get("route"), "body_field", None)
    model = getattr(getattr(field, "field_info", None), "annotation", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as strict JSON with the right status code."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> StrictJSONResponse:
        return StrictJSONResponse({"detail": exc.detail}, exc.status_code, exc.headers)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> StrictJSONResponse:
        return StrictJSONResponse({"detail": exc.detail}, exc.status_code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError
                              ) -> StrictJSONResponse:
        return StrictJSONResponse({"detail": explain_request(exc, request)}, 422)

    @app.exception_handler(StoreError)
    async def store_error(_: Request, exc: StoreError) -> StrictJSONResponse:
        log.error("%s", exc)
        return StrictJSONResponse({"detail": str(exc)}, 503, {"Retry-After": "10"})

    @app.exception_handler(ExecutorUnavailable)
    async def executor_down(_: Request, exc: ExecutorUnavailable) -> StrictJSONResponse:
        return StrictJSONResponse({"detail": str(exc)}, 503,
                                  {"Retry-After": "10"})



class UnexpectedErrorMiddleware:
    """Answers an exception no handler knows with a JSON 500, logged, and keeps serving.

    (Starlette's own last resort re-raises after answering, and the server then drops the
    connection; this one ends the request cleanly.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.exception("unexpected error in %s %s", scope["method"], scope["path"])
            if not started:
                response = StrictJSONResponse(
                    {"detail": f"the server hit an unexpected error ({type(exc).__name__}); "
                               "it has been logged"}, 500)
                await response(scope, receive, send)


async def deny(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    """Answer an HTTP request, or refuse a websocket handshake, with a JSON error."""
    response = StrictJSONResponse({"detail": detail}, status)
    if scope["type"] == "http":
        return await response(scope, receive, send)
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        # Starlette's Response speaks the denial extension's message names for websockets.
        await response(scope, receive, send)
    else:
        await send({"type": "websocket.close", "code": 4000 + status, "reason": detail})
