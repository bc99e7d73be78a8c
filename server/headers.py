"""The security headers every HTTP answer carries (CONTRACT §9, Security).

The page's scripts are files from this server (`/static/…`, Plotly.js included), so scripts
may come from this origin only: no inline script, no eval, nothing from elsewhere. Styles may be
inline, because Plotly sets style attributes and adds `<style>` elements as it draws. Images may
be `data:` and `blob:` URLs (the page's icon, Plotly's image downloads). No site may frame the
page (clickjacking); other sites learn no path of it from the Referer.

FastAPI's `/docs` and `/redoc` pages load their viewer from a CDN and start it with an inline
script; they get a policy that allows exactly that, and hold no user content.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FRAMING = "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'"
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
               + FRAMING)
CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = (f"default-src 'self'; script-src 'self' 'unsafe-inline' {CDN}; "
               f"style-src 'self' 'unsafe-inline' {CDN} https://fonts.googleapis.com; "
               "font-src 'self' https://fonts.gstatic.com; "
               "img-src 'self' data: https://fastapi.tiangolo.com; worker-src blob:; "
               + FRAMING)
DOCS_PATHS = ("/docs", "/redoc")


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    """The headers added to an answer to `path`."""
    policy = DOCS_POLICY if path.startswith(DOCS_PATHS) else PAGE_POLICY
    return [(b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin")]


class SecurityHeadersMiddleware:
    """Adds `security_headers` to every HTTP answer, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = security_headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
