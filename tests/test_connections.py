"""Slow and idle connections (issue 12, B4: Slowloris) against a real server on loopback.

300 requests that never finished used to stay open for 121 s, and with 256 file descriptors
250 of them made every new request fail. Now a request head or body that is not complete in
time closes its connection, and past the connection limit the connection that has waited
longest for its client makes room for a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.helpers import client, open_ws, run_server, strict_loads

PARTIAL_HEAD = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def serve(data_dir: Path, max_files: int | None = None, **settings: str
          ) -> contextlib.AbstractContextManager[str]:
    """`run_server` without workers, with these settings (`HEADER_TIMEOUT_SECONDS="1"`)."""
    env = {f"GRADWATCH_{name}": value for name, value in settings.items()}
    return run_server(data_dir, max_files=max_files, GRADWATCH_WORKERS="0", **env)


def connect(url: str, first: bytes = b"") -> socket.socket:
    """A raw connection to the server that has sent `first` and nothing more."""
    port = int(url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if first:
        sock.sendall(first)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed this connection (whatever it answered first)."""
    sock.setblocking(False)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:  # reset
        return True


@contextlib.contextmanager
def sockets(url: str, count: int, first: bytes = b"") -> Iterator[list[socket.socket]]:
    opened = [connect(url, first) for _ in range(count)]
    try:
        yield opened
    finally:
        for sock in opened:
            sock.close()


def timed_health(url: str) -> tuple[int, float]:
    started = time.monotonic()
    status = httpx.get(f"{url}/api/health", timeout=5, trust_env=False).status_code
    return status, time.monotonic() - started


def test_slow_request_heads_are_closed_while_others_are_served(tmp_path: Path) -> None:
    with serve(tmp_path, HEADER_TIMEOUT_SECONDS="1.5") as url, \
            sockets(url, 50, PARTIAL_HEAD) as slow:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:  # a header line now and then, never the end
            for sock in slow:
                with contextlib.suppress(OSError):
                    sock.send(b"X-a: b\r\n")
            status, seconds = timed_health(url)
            assert status == 200 and seconds < 1, (status, seconds)
            time.sleep(0.4)
        assert all(closed_by_server(sock) for sock in slow)


def test_a_slow_request_body_is_answered_408_and_closed(tmp_path: Path) -> None:
    head = (b"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{")
    with serve(tmp_path, BODY_TIMEOUT_SECONDS="1") as url, \
            sockets(url, 5, head) as slow:
        time.sleep(3)
        assert all(closed_by_server(sock) for sock in slow)
        slow[0].setblocking(True)
        # What the server answered before closing (read above, so ask a fresh one).
        with sockets(url, 1, head) as (one,):
            one.settimeout(5)
            assert one.recv(100).startswith(b"HTTP/1.1 408")


def test_with_256_files_250_idle_connections_leave_room_for_real_requests(
        tmp_path: Path) -> None:
    with serve(tmp_path, max_files=256) as url, sockets(url, 250) as idle:
        for _ in range(5):
            status, seconds = timed_health(url)
            assert status == 200 and seconds < 2, (status, seconds)
        assert any(closed_by_server(sock) for sock in idle)  # the longest-waiting made room


def test_one_address_past_its_cap_is_refused_503_but_its_sockets_stay(tmp_path: Path) -> None:
    with serve(tmp_path, HEADER_TIMEOUT_SECONDS="1", BODY_TIMEOUT_SECONDS="1",
                    MAX_CONNECTIONS_PER_ADDRESS="3") as url, client(url) as http:
        run = http.post("/api/runs", json={}).json()  # queued: no worker

        async def watch() -> None:
            viewers = [open_ws(url, run["id"], http) for _ in range(3)]
            async with viewers[0] as a, viewers[1] as b, viewers[2] as c:
                for ws in (a, b, c):
                    assert strict_loads(await ws.recv())["type"] == "snapshot"
                # Every slot of this address holds a busy socket: a fourth is refused.
                with sockets(url, 1, b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                             ) as (extra,):
                    extra.settimeout(5)
                    assert extra.recv(100).startswith(b"HTTP/1.1 503")
                await asyncio.sleep(2.5)  # past both timeouts: websockets are not requests
                for ws in (a, b, c):
                    await ws.ping()
                    with pytest.raises(TimeoutError):
                        await asyncio.wait_for(ws.recv(), 0.2)  # open, nothing to say

        asyncio.run(watch())


def test_an_idle_websocket_outlives_the_timeouts(tmp_path: Path) -> None:
    with serve(tmp_path, HEADER_TIMEOUT_SECONDS="1",
                    BODY_TIMEOUT_SECONDS="1") as url, client(url) as http:
        run = http.post("/api/runs", json={}).json()

        async def watch() -> str:
            async with open_ws(url, run["id"], http) as ws:
                assert strict_loads(await ws.recv())["type"] == "snapshot"
                await asyncio.sleep(3)
                await ws.ping()
                http.post(f"/api/runs/{run['id']}/stop")
                try:
                    while True:
                        frame = strict_loads(await asyncio.wait_for(ws.recv(), 5))
                        if frame["type"] == "status":
                            return frame["status"]
                except ConnectionClosed as exc:
                    raise AssertionError(f"the socket was closed: {exc}") from exc

        assert asyncio.run(watch()) == "stopped"
