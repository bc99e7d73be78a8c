"""Refuses request bodies over `max_body_bytes` with a JSON 413 (CONTRACT §7)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import StrictJSONResponse


class BodyTooLarge(HTTPException):
    """413. An HTTPException, so FastAPI passes it on while it reads a typed body."""

    def __init__(self, detail: str) -> None:
        super().__init__(413, detail)


class BodyLimitMiddleware:
    """Answers 413 before reading a body whose Content-Length is too large, or mid-way."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _error(self) -> BodyTooLarge:
        return BodyTooLarge(f"the request body is larger than this server's limit of "
                            f"{self.max_bytes} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            error = self._error()
            return await StrictJSONResponse({"detail": error.detail}, 413)(scope, receive, send)
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # Raised inside the route, so the app's HTTPException handler answers it.
                raise self._error()
            return message

        await self.app(scope, limited, send)
