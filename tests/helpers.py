"""What the server tests share: a real server in a subprocess, HTTP and websocket clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 30


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def run_server(data_dir: Path, *, crash: bool = False, max_files: int | None = None,
               **env: str) -> Iterator[str]:
    """Run `python -m server` on a free loopback port; yields its base URL.

    Args:
        data_dir: GRADWATCH_DATA_DIR (the server's log is written there too, as server.log).
        crash: end it with SIGKILL, as a crash would, instead of a graceful SIGTERM.
        max_files: the server's limit of open files (RLIMIT_NOFILE), when not inherited.
        **env: more GRADWATCH_* variables, e.g. GRADWATCH_WORKERS="0".
    """
    with server_process(data_dir, crash=crash, max_files=max_files, **env) as (url, _):
        yield url


@contextlib.contextmanager
def server_process(data_dir: Path, *, crash: bool = False, max_files: int | None = None,
                   **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`run_server` that also yields the server's process (the benchmarks read its memory)."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRADWATCH_")}
    environ = {**clean, "GRADWATCH_DATA_DIR": str(data_dir), "GRADWATCH_PORT": str(port),
               "GRADWATCH_HOST": "127.0.0.1", "GRADWATCH_WORKERS": "1",
               "GRADWATCH_LOG_LEVEL": "warning", **env}
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    with open(log_path, "ab") as log:
        # A session of its own: its worker processes can be ended with it as one group.
        proc = subprocess.Popen([sys.executable, "-m", "server"], cwd=ROOT, env=environ,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=None if max_files is None else _limit_files(max_files))
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(proc, url, log_path)
        yield url, proc
    finally:
        _stop(proc, signal.SIGKILL if crash else signal.SIGTERM)


def _limit_files(count: int) -> Callable[[], None]:
    """What a child runs before exec to have at most `count` open files."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))

    return limit


def _wait_until_up(proc: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}):\n{log_path.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/health", timeout=1, trust_env=False).status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer in {STARTUP_SECONDS} s:\n"
                       f"{log_path.read_text()}")


def _stop(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)  # SIGTERM: a graceful stop, which also ends its workers
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(20)
    # Whatever of its process group is left (a worker that outlived it), ended by group id.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(5)


class _PortalTransport(httpx.BaseTransport):
    """Sync httpx requests to an ASGI app running on a portal's event loop."""

    def __init__(self, portal: BlockingPortal, app: Any) -> None:
        self.portal = portal
        self.asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> httpx.Response:
            response = await self.asgi.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return self.portal.call(call)


@contextlib.contextmanager
def app_client(data_dir: Path, **settings: Any) -> Iterator[httpx.Client]:
    """The app in this process (no subprocess, no port), lifespan run; one visitor's cookie jar.

    Args:
        data_dir: GRADWATCH_DATA_DIR.
        **settings: Settings fields, e.g. max_params=100_000; workers defaults to 0 (no
            TensorFlow: runs stay queued); allowed_hosts to "testserver" (httpx's host here).
    """
    from server.app import create_app
    from server.settings import Settings

    app = create_app(Settings(**{"data_dir": data_dir, "workers": 0,
                                 "allowed_hosts": "testserver", **settings}))
    with start_blocking_portal() as portal:
        lifespan = app.router.lifespan_context(app)
        portal.call(lifespan.__aenter__)
        try:
            with httpx.Client(transport=_PortalTransport(portal, app),
                              base_url="http://testserver") as http:
                http.app = app
                yield http
        finally:
            portal.call(lifespan.__aexit__, None, None, None)


def client(url: str, **kwargs: Any) -> httpx.Client:
    """An HTTP client with its own cookie jar, i.e. its own visitor."""
    return httpx.Client(base_url=url, timeout=20, trust_env=False, **kwargs)


def async_client(url: str, **kwargs: Any) -> httpx.AsyncClient:
    """`client` for asyncio: its own cookie jar, i.e. its own visitor."""
    return httpx.AsyncClient(**{"base_url": url, "timeout": 20, "trust_env": False, **kwargs})


def cookie_header(http: httpx.Client | httpx.AsyncClient) -> str:
    """The client's cookies as a Cookie header, for a websocket handshake as the same visitor."""
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


def ws_url(url: str, run_id: str) -> str:
    """The websocket address of a run."""
    return url.replace("http://", "ws://") + f"/ws/runs/{run_id}"


def open_ws(url: str, run_id: str, http: httpx.Client | httpx.AsyncClient | None = None,
            query: str = "", **kwargs: Any) -> Any:
    """A websocket connection to a run, as the visitor of `http` (async context manager);
    `query` e.g. "?buckets=625" (docs/protocol.md)."""
    headers = {"Cookie": cookie_header(http)} if http is not None else {}
    return connect(ws_url(url, run_id) + query, additional_headers=headers, max_size=None,
                   proxy=None, open_timeout=10, **kwargs)


async def frames_until_final(ws: Any, timeout: float = 120,
                             on_frame: Callable[[dict], Any] | None = None) -> list[dict]:
    """Read frames until a final `status` frame; every frame must be strict JSON."""
    frames: list[dict] = []
    async with asyncio.timeout(timeout):
        while True:
            frame = strict_loads(await ws.recv())
            frames.append(frame)
            if on_frame is not None:
                await on_frame(frame)
            if frame["type"] == "status" and frame["status"] not in ("queued", "running"):
                return frames


def strict_loads(text: str) -> Any:
    """json.loads that refuses NaN and Infinity, as RFC 8259 does."""
    def refuse(name: str) -> Any:
        raise AssertionError(f"non-standard JSON constant {name} in a frame")

    return json.loads(text, parse_constant=refuse)


def steps_of(frames: list[dict]) -> list[int]:
    """Every step number a viewer received: the snapshot's history then the metrics frames."""
    steps: list[int] = []
    for frame in frames:
        if frame["type"] == "snapshot":
            steps += frame["history"]["step"]
        elif frame["type"] == "metrics":
            steps += [item["step"] for item in frame["items"]]
    return steps


def wait_for(check: Callable[[], Any], timeout: float = 60, interval: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not true after {timeout} s: {check}")


def tiny_run(**training: Any) -> dict[str, Any]:
    """A RunConfig that trains in a moment (64 samples: 2 steps an epoch at batch 32)."""
    return {"dataset": {"n_samples": 64},
            "training": {"epochs": 1, "batch_size": 32, **training}}
