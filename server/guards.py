"""Requests refused before anything else reads them: a Host this server does not answer to (DNS
rebinding), and a state-changing request that another site's page could have sent (CSRF).

A browser sends `Origin` with every POST, PUT, PATCH and DELETE and with every websocket
handshake, and `Sec-Fetch-Site` with most requests; a script (curl, GradWatchCallback) sends
neither, and is let through: a script holds its own cookies or token, which another site's page
cannot read. Types other than JSON (`text/plain`, forms, multipart) are what a page can send to
another origin without asking first, so unsafe methods take JSON only (and `/join` its form).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from server.errors import deny
from server.settings import is_loopback

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
BODY_TYPES: dict[str, tuple[str, ...]] = {"/join": (JSON, FORM)}  # other paths: JSON only


def host_name(host: str) -> str:
    """The name in a Host header, lower case, without its port or a trailing dot."""
    try:
        name = urlsplit(f"//{host}").hostname or ""
    except ValueError:  # an unbalanced bracket
        return ""
    return name.rstrip(".")


def host_allowed(host: str | None, allowed: frozenset[str]) -> bool:
    """Whether this server answers to the Host header `host` (None: a client that sent none).

    Loopback names always pass: a rebinding attacker's name is never one of them, and the
    server's own health checks use them.
    """
    if host is None or "*" in allowed:
        return True
    name = host_name(host)
    return bool(name) and (name in allowed or is_loopback(name))


def cross_origin(headers: Headers) -> bool:
    """Whether a browser sent this request from another origin's page (a different port of the
    same host is another origin); False for a request no page sent (no Origin)."""
    origin = headers.get("origin")
    if origin is not None:  # "null" (a sandboxed frame, a data: URL) has no netloc
        return urlsplit(origin).netloc.lower() != headers.get("host", "").lower()
    return headers.get("sec-fetch-site", "") in ("cross-site", "same-site")


def body_type_problem(method: str, path: str, headers: Headers) -> str | None:
    """Why an unsafe request's body type is refused (415), or None when it is accepted."""
    if method not in UNSAFE_METHODS:
        return None
    allowed = BODY_TYPES.get(path, (JSON,))
    kind = headers.get("content-type")
    if kind is None:
        has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
        return "a request with a body needs a Content-Type" if has_body else None
    if kind.split(";")[0].strip().lower() in allowed:
        return None
    return f"this server takes {' or '.join(allowed)} here, not {kind.split(';')[0][:60]!r}"


class RequestGuardMiddleware:
    """400 for a Host not allowed, 403 for a request or socket from another origin, 415 for an
    unsafe request whose body is not JSON (or, at /join, its form)."""

    def __init__(self, app: ASGIApp, allowed_hosts: frozenset[str]) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        problem = self._problem(scope, headers)
        if problem is not None:
            return await deny(scope, receive, send, *problem)
        await self.app(scope, receive, send)

    def _problem(self, scope: Scope, headers: Headers) -> tuple[int, str] | None:
        host = headers.get("host")
        if not host_allowed(host, self.allowed_hosts):
            name = host_name(host or "")[:100]
            return 400, (f"this server does not answer to the host name {name!r}; if it "
                         "should, its instructor adds the name to GRADWATCH_ALLOWED_HOSTS "
                         "(docs/hosting.md)")
        method = scope.get("method", "GET")
        if (scope["type"] == "websocket" or method in UNSAFE_METHODS) and cross_origin(headers):
            return 403, ("refused: this request came from another site's page (its Origin or "
                         "Sec-Fetch-Site); use GradWatch's own page, or a script (no Origin)")
        kind = body_type_problem(method, scope["path"], headers)
        return (415, f"unsupported body type: {kind}") if kind else None
