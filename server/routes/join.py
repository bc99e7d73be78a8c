"""`/join`: a visitor enters the class access code (GRADWATCH_ACCESS_CODE) to get a session."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.attempts import FailedAttempts
from server.identity import Identity, new_visitor_id

router = APIRouter(include_in_schema=False)

FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Join GradWatch</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto">
<h1>GradWatch</h1>
<p>Enter the class access code your instructor gave you.</p>
<form method="post" action="/join">
  <input name="code" type="password" autocomplete="off" autofocus required
         aria-label="access code" data-testid="access-code">
  <button type="submit" data-testid="join">Join</button>
</form>
<p role="alert">{message}</p>
</body></html>
"""


@router.get("/join")
def join_form(request: Request) -> Response:
    """The access-code form (or the dashboard, if no code is required)."""
    identity: Identity = request.app.state.identity
    if not identity.access_code:
        return RedirectResponse("/", 303)
    return HTMLResponse(FORM.format(message=""))


@router.post("/join")
async def join(request: Request) -> Response:
    """Check the code; the right one sets the session cookie and goes to the dashboard."""
    identity: Identity = request.app.state.identity
    if not identity.access_code:
        return RedirectResponse("/", 303)
    attempts: FailedAttempts = request.app.state.join_attempts
    client = request.client.host if request.client else "unknown"
    wait = attempts.retry_after(client)
    if wait:
        return HTMLResponse(FORM.format(message=f"Too many wrong codes from your address; "
                                                f"try again in {wait} s."),
                            429, headers={"Retry-After": str(wait)})
    if identity.code_matches(_code(await request.body(),
                                            request.headers.get("content-type", ""))):
        response = RedirectResponse("/", 303)
        secure = request.url.scheme == "https"
        response.raw_headers.append(
            (b"set-cookie", identity.cookie_header(new_visitor_id(), secure)))
        return response
    attempts.record_failure(client)
    return HTMLResponse(FORM.format(message="That code is not right; ask your instructor."),
                        401)


def _code(body: bytes, content_type: str) -> str:
    """The code from a form post, or from a JSON body {"code": ...} (for scripts)."""
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            value = json.loads(text)
        except ValueError:
            return ""
        return str(value.get("code", "")) if isinstance(value, dict) else ""
    return parse_qs(text).get("code", [""])[0]
