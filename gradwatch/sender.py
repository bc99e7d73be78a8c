"""The callback's link to the server: opens the run, then posts its events from a thread.

Standard library only (urllib), so the callback's side needs no web packages. Events queue up
in memory and a background thread posts them every `POST_SECONDS`, packed into bodies under the
server's 64 KiB limit. If the server is slow or away, at most `MAX_PENDING_STEPS` steps wait;
past that the oldest steps are dropped (counted in `dropped`), never the epoch, diagnosis or
final events.
"""

from __future__ import annotations

import http.cookiejar
import json
import math
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from typing import Any

POST_SECONDS = 0.05
HEARTBEAT_SECONDS = 10.0   # an empty post this often keeps an idle (validating) run alive
MAX_BODY_BYTES = 60_000    # under the server's default 64 KiB request limit
MAX_PENDING_STEPS = 20_000
TIMEOUT_SECONDS = 10.0


class ServerError(RuntimeError):
    """The server could not be reached or refused the request; the message says why."""


def _clean(value: Any) -> Any:
    """Strict JSON: a non-finite number becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


class Link:
    """HTTP to one GradWatch server with a cookie jar (the visitor identity) and a token."""

    def __init__(self, url: str, access_code: str | None = None,
                 token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.access_code = access_code

    def join(self) -> None:
        """Join the class with the access code (the session cookie lands in the jar)."""
        if self.access_code:
            status, answer = self.post("/join", {"code": self.access_code})
            if status >= 400:
                raise ServerError(f"the access code was refused ({status})")

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        """POST JSON; (status, parsed answer). Raises ServerError if the server is unreachable."""
        data = json.dumps(_clean(body), allow_nan=False).encode()
        request = urllib.request.Request(self.url + path, data=data, headers=self.headers,
                                         method="POST")
        try:
            with self.opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                return response.status, _parse(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, _parse(exc.read())
        except (urllib.error.URLError, OSError) as exc:
            raise ServerError(f"GradWatch server {self.url} unreachable: {exc}") from None


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw.decode(errors="replace")[:500]


def _packs(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Events in bodies under MAX_BODY_BYTES each (a metrics event split by its steps)."""
    packs: list[list[dict[str, Any]]] = [[]]
    size = 0
    for event in events:
        pieces = [event]
        if event["type"] == "metrics":
            per_step = max(1, len(json.dumps(event["items"][0])))
            n = max(1, MAX_BODY_BYTES // (per_step + 2) - 1)
            items = event["items"]
            pieces = [{"type": "metrics", "items": items[i:i + n]}
                      for i in range(0, len(items), n)]
        for piece in pieces:
            length = len(json.dumps(piece))
            if size + length > MAX_BODY_BYTES and packs[-1]:
                packs.append([])
                size = 0
            packs[-1].append(piece)
            size += length
    return packs


class Sender:
    """Posts a run's events from a daemon thread; learns from the answers when to stop."""

    def __init__(self, link: Link, run_id: str) -> None:
        self.link, self.run_id = link, run_id
        self.pending: deque[dict[str, Any]] = deque()
        self.pending_steps = 0
        self.dropped = 0
        self.stop_reason: str | None = None  # the run ended on the server (Stop on the page)
        self.error: str | None = None        # the last failure to post, if the last post failed
        self.ended = threading.Event()       # the final event was posted (or given up on)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._loop, name="gradwatch-sender", daemon=True)
        self._thread.start()

    def send(self, event: dict[str, Any]) -> None:
        """Queue an event for the server (never blocks)."""
        with self._lock:
            self.pending.append(event)
            if event["type"] == "metrics":
                self.pending_steps += len(event["items"])
                self._bound()
        if event["type"] == "finished":
            self._closing = True
            self._wake.set()

    def _bound(self) -> None:
        while self.pending_steps > MAX_PENDING_STEPS:
            oldest = next(e for e in self.pending if e["type"] == "metrics")
            cut = min(len(oldest["items"]), self.pending_steps - MAX_PENDING_STEPS)
            del oldest["items"][:cut]
            self.pending_steps -= cut
            self.dropped += cut
            if not oldest["items"]:
                self.pending.remove(oldest)

    def close(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the final event to be posted; whether it was."""
        return self.ended.wait(timeout)

    def _take(self) -> list[dict[str, Any]]:
        with self._lock:
            events = list(self.pending)
            self.pending.clear()
            self.pending_steps = 0
        return events

    def _put_back(self, events: list[dict[str, Any]]) -> None:
        """Unsent events go back in front of what was queued meanwhile."""
        with self._lock:
            self.pending.extendleft(reversed(events))
            self.pending_steps = sum(len(e["items"]) for e in self.pending
                                     if e["type"] == "metrics")
            self._bound()

    def _loop(self) -> None:
        last_post = time.monotonic()
        failing_since: float | None = None
        while not self.ended.is_set():
            self._wake.wait(POST_SECONDS)
            self._wake.clear()
            events = self._take()
            if not events and time.monotonic() - last_post < HEARTBEAT_SECONDS:
                continue
            packs = _packs(events) if events else [[]]
            try:
                while packs:
                    status, answer = self.link.post(f"/api/ingest/runs/{self.run_id}/events",
                                                    {"events": packs[0]})
                    if status == 409:  # the run ended there: stop fit, nothing more to send
                        self.stop_reason = (answer or {}).get("error") or "stopped on the server"
                        self.ended.set()
                        return
                    if status < 500 and status >= 400:  # refused for good: drop, go on
                        self.error = f"the server refused some steps ({status}): {answer}"
                        packs.pop(0)
                        continue
                    if status >= 400:
                        raise ServerError(f"the server refused the steps ({status}): {answer}")
                    if any(e["type"] == "finished" for e in packs.pop(0)):
                        self.ended.set()
                        return
                last_post, failing_since, self.error = time.monotonic(), None, None
            except ServerError as exc:
                self._put_back([e for pack in packs for e in pack])
                self.error = str(exc)
                failing_since = failing_since or time.monotonic()
                # A run that is closing gives up after a while; a live one keeps its bounded
                # queue and retries (the server may come back).
                if self._closing and time.monotonic() - failing_since > TIMEOUT_SECONDS:
                    self.ended.set()
                    return
                time.sleep(min(2.0, POST_SECONDS * 10))
