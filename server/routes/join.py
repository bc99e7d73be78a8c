"""`/join`: a visitor enters the class access code (GRADWATCH_ACCESS_CODE) to get a session."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.attempts import FailedAttempts, address_key
from server.bodies import BodyRefused, loads_strict
from server.identity import Identity, new_visitor_id

router = APIRouter(include_in_schema=False)

FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Join GradWatch</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">
<script type="module" src="/static/join.js"></script></head>
<body class="join-page">
<header class="top"><div class="top-text"><h1>GradWatch</h1></div></header>
<main class="panel join" aria-labelledby="join-title">
<h2 id="join-title">Join your class</h2>
<p>GradWatch trains small neural networks on the server and shows, step by step, whether each
layer's gradient vanishes or explodes, and what fixes it.</p>
<form method="post" action="/join" data-testid="join-form">
  <label for="code">Class access code <span class="muted">(your instructor gives it)</span></label>
  <div class="join-line">
    <input id="code" name="code" type="password" autocomplete="off" autofocus required
           data-testid="access-code"{invalid}>
    <input type="hidden" name="next" id="next" value="{next}">
    <button type="submit" class="primary" data-testid="join">Join</button>
  </div>
  <p id="join-error" class="error" role="alert">{message}</p>
</form>
</main>
</body></html>
"""

# What may follow "/" after joining: the fragment the visitor came with (`#run=…&metric=…`),
# in URL characters only, so the redirect cannot be turned into a header or another site.
NEXT = re.compile(r"#[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]{0,2000}")


def _page(message: str = "", next_: str = "", status: int = 200,
          headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(FORM.format(message=html.escape(message), next=html.escape(next_),
                                    invalid=' aria-invalid="true"' if message else ""),
                        status, headers=headers)


def _next(value: str) -> str:
    """The fragment to go back to, or "" when it is not one."""
    return value if NEXT.fullmatch(value) else ""


@router.get("/join")
def join_form(request: Request) -> Response:
    """The access-code form (or the dashboard, if no code is required)."""
    identity: Identity = request.app.state.identity
    if not identity.access_code:
        return RedirectResponse("/", 303)
    return _page()


@router.post("/join")
async def join(request: Request) -> Response:
    """Check the code; the right one sets the session cookie and goes to the dashboard."""
    identity: Identity = request.app.state.identity
    if not identity.access_code:
        return RedirectResponse("/", 303)
    attempts: FailedAttempts = request.app.state.join_attempts
    client = address_key(request.client.host if request.client else "unknown")
    wait = attempts.retry_after(client)
    try:
        code, next_ = _fields(await request.body(), request.headers.get("content-type", ""))
    except BodyRefused as exc:  # counted like a wrong code: it is one more try
        if not wait:
            attempts.record_failure(client)
        return _page(f"The request could not be read: {exc.detail[0]['msg']}.", "", 422)
    if wait:
        return _page(f"Too many wrong codes from your address; try again in {wait} s.",
                     next_, 429, {"Retry-After": str(wait)})
    if identity.code_matches(code):
        response = RedirectResponse("/" + next_, 303)
        secure = request.url.scheme == "https"
        response.raw_headers.append(
            (b"set-cookie", identity.cookie_header(new_visitor_id(), secure)))
        return response
    attempts.record_failure(client)
    return _page("That code is not right: check it with your instructor and type it again.",
                 next_, 401)


def _fields(body: bytes, content_type: str) -> tuple[str, str]:
    """The code and the fragment to return to, from a form post, or from a JSON body
    {"code": ...} (for scripts). BodyRefused for JSON nested too deep or with a lone
    surrogate; other text that is not JSON is no code."""
    if "json" in content_type:
        try:
            value = loads_strict(body)
        except ValueError:
            return "", ""
        code = value.get("code", "") if isinstance(value, dict) else ""
        return (code if isinstance(code, str) else "", "")
    form = parse_qs(body.decode("utf-8", errors="replace"))
    return form.get("code", [""])[0], _next(form.get("next", [""])[0])
