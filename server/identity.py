"""Who is asking: an anonymous visitor cookie, the admin token, and the class access code.

Every HTTP request and websocket handshake passes through `IdentityMiddleware`, which puts a
`Visitor` in the ASGI scope. The cookie holds a signed (itsdangerous) visitor id and, when an
access code is set, a tag of that code, so changing the code logs every visitor out. The tag is
an HMAC under the server's secret key: the cookie's payload is readable, and a plain hash of the
code in it could be reversed offline by trying a dictionary of codes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import deny

COOKIE = "gradwatch_visitor"
COOKIE_MAX_AGE = 365 * 24 * 3600
SCOPE_KEY = "gradwatch.visitor"
OPEN_PREFIXES = ("/join", "/static/")  # reachable without a session when a code is required


@dataclass(frozen=True)
class Visitor:
    """The caller: a visitor id, whether they hold the admin token, and whether admitted."""

    id: str
    admin: bool = False
    admitted: bool = True


class Identity:
    """Signs and reads visitor cookies, and checks the admin token and the access code."""

    def __init__(self, secret_key: str, admin_token: str | None = None,
                 access_code: str | None = None) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="gradwatch-visitor")
        self.admin_token = admin_token
        self.access_code = access_code
        self._tag = (hmac.new(secret_key.encode(), b"gradwatch-access-code:"
                              + access_code.encode(), hashlib.sha256).hexdigest()[:16]
                     if access_code else "")

    def read(self, conn: HTTPConnection) -> tuple[Visitor | None, bool]:
        """The visitor of a request (None if not admitted) and whether it needs a new cookie."""
        admin = self.is_admin(conn.headers.get("authorization", ""))
        payload = self._load(conn.cookies.get(COOKIE))
        if payload is None and not admin:  # a script with a visitor token (GET /api/token)
            scheme, _, token = conn.headers.get("authorization", "").partition(" ")
            payload = self._load(token.strip()) if scheme.lower() == "bearer" else None
        if payload is not None and payload.get("a", "") == self._tag:
            return Visitor(payload["v"], admin=admin), False
        if self.access_code and not admin:
            return None, False
        return Visitor(new_visitor_id(), admin=admin), True

    def _load(self, cookie: str | None) -> dict[str, str] | None:
        if not cookie:
            return None
        try:
            payload = self._serializer.loads(cookie)
        except BadSignature:
            return None
        return payload if isinstance(payload, dict) and isinstance(payload.get("v"), str) \
            else None

    def is_admin(self, authorization: str) -> bool:
        """Whether an Authorization header carries the admin token."""
        scheme, _, token = authorization.partition(" ")
        return bool(self.admin_token and scheme.lower() == "bearer"
                    and hmac.compare_digest(token.strip().encode(), self.admin_token.encode()))

    def code_matches(self, code: str) -> bool:
        """Whether a join attempt gave the access code."""
        # surrogatepass: a lone surrogate is a wrong code, not an error.
        return bool(self.access_code) and hmac.compare_digest(
            code.strip().encode("utf-8", "surrogatepass"), self.access_code.encode())

    def visitor_token(self, visitor_id: str) -> str:
        """A token that identifies this visitor to a script (`Authorization: Bearer ...`)."""
        return self._serializer.dumps({"v": visitor_id, "a": self._tag})

    def cookie_header(self, visitor_id: str, secure: bool) -> bytes:
        """A Set-Cookie header value that admits this visitor."""
        value = self._serializer.dumps({"v": visitor_id, "a": self._tag})
        cookie = (f"{COOKIE}={value}; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; "
                  "SameSite=Lax")
        return (cookie + ("; Secure" if secure else "")).encode("latin-1")


def new_visitor_id() -> str:
    """A fresh anonymous visitor id."""
    return "v_" + secrets.token_urlsafe(12)


def visitor_of(conn: HTTPConnection) -> Visitor:
    """The Visitor the middleware put on this request or socket."""
    return conn.scope[SCOPE_KEY]


class IdentityMiddleware:
    """Puts a Visitor on every request; refuses unadmitted callers (cross-site requests and
    sockets are refused before, by server/guards.py)."""

    def __init__(self, app: ASGIApp, identity: Identity) -> None:
        self.app = app
        self.identity = identity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        conn = HTTPConnection(scope)
        visitor, fresh = self.identity.read(conn)
        if visitor is None:
            if scope["path"].startswith(OPEN_PREFIXES):
                scope[SCOPE_KEY] = Visitor("", admitted=False)
                return await self.app(scope, receive, send)
            if scope["type"] == "http" and not scope["path"].startswith("/api/"):
                return await RedirectResponse("/join", 303)(scope, receive, send)
            return await deny(scope, receive, send, 401,
                               "join with the class access code first (at /join)")
        scope[SCOPE_KEY] = visitor
        if not fresh:
            return await self.app(scope, receive, send)
        cookie = self.identity.cookie_header(visitor.id, scope.get("scheme") in ("https", "wss"))

        async def send_with_cookie(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
