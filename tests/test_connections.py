"""Slow and idle connections (issue 12, B4: Slowloris) against a real server on loopback.

300 requests that never finished used to stay open for 121 s, and with 256 file descriptors
250 of them made every new request fail. Now a request head or body that is not complete in
time closes its connection (408 when part of it came), past the connection limit the
connection that has waited longest for its client makes room for a new one, and one address
holds at most its share. Answers being written (a slowly read download) and websockets have
no deadline and are never pushed out.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from server.connections import connection_limit
from server.routes.pages import plotly_js
from tests.helpers import client, open_ws, run_server, strict_loads

PARTIAL_HEAD = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def serve(data_dir: Path, max_files: int | None = None, **settings: str
          ) -> contextlib.AbstractContextManager[str]:
    """`run_server` without workers, with these settings (`HEADER_TIMEOUT_SECONDS="1"`)."""
    env = {f"GRADWATCH_{name}": value for name, value in settings.items()}
    return run_server(data_dir, max_files=max_files, GRADWATCH_WORKERS="0", **env)


QUICK = {"HEADER_TIMEOUT_SECONDS": "1", "BODY_TIMEOUT_SECONDS": "1", "IDLE_TIMEOUT_SECONDS": "1"}


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose request heads and bodies, and idle connections, get 1 s."""
    with serve(tmp_path_factory.mktemp("quick"), **QUICK) as url:
        yield url


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same with at most 3 connections per client address."""
    with serve(tmp_path_factory.mktemp("capped"), MAX_CONNECTIONS_PER_ADDRESS="3",
               **QUICK) as url:
        yield url


def connect(url: str, first: bytes = b"") -> socket.socket:
    """A raw connection to the server that has sent `first` and nothing more."""
    port = int(url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if first:
        sock.sendall(first)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed this connection (whatever it answered first)."""
    return answer_if_closed(sock) is not None


def answer_if_closed(sock: socket.socket) -> bytes | None:
    """What the server sent before closing this connection, or None while it is open."""
    sock.setblocking(False)
    received = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return received
            received += data
    except BlockingIOError:
        return None
    except OSError:  # reset
        return received


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


def test_slow_request_heads_are_closed_while_others_are_served(quick: str) -> None:
    url = quick
    with sockets(url, 50, PARTIAL_HEAD) as slow:
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:  # a header line now and then, never the end
            for sock in slow:
                with contextlib.suppress(OSError):
                    sock.send(b"X-a: b\r\n")
            status, seconds = timed_health(url)
            assert status == 200 and seconds < 1, (status, seconds)
            time.sleep(0.4)
        assert all(closed_by_server(sock) for sock in slow)


def test_a_slow_request_body_is_answered_408_and_closed(quick: str) -> None:
    head = (b"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{")
    with sockets(quick, 5, head) as slow:
        time.sleep(2)
        for sock in slow:
            answer = answer_if_closed(sock)
            assert answer is not None, "still open"
            assert answer.startswith(b"HTTP/1.1 408") and b"request body took longer" in answer


def test_a_body_sent_after_its_early_answer_leaves_the_connection_to_the_head_deadline(
        quick: str) -> None:
    head = (b"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000\r\n\r\n")
    with sockets(quick, 1, head) as (sock,):
        sock.settimeout(5)
        assert sock.recv(100).startswith(b"HTTP/1.1 413")  # answered before the body came
        sock.sendall(b" " * 100000)  # then the body, then nothing: an idle connection
        time.sleep(2)
        assert closed_by_server(sock)


def test_with_256_files_250_idle_connections_leave_room_for_real_requests(
        tmp_path: Path) -> None:
    with serve(tmp_path, max_files=256) as url, sockets(url, 250) as idle:
        for _ in range(5):
            status, seconds = timed_health(url)
            assert status == 200 and seconds < 2, (status, seconds)
        assert any(closed_by_server(sock) for sock in idle)  # the longest-waiting made room


def test_one_address_past_its_cap_is_refused_503_but_its_sockets_stay(capped: str) -> None:
    url = capped
    with client(url) as http:
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
                await asyncio.sleep(1.6)  # past both timeouts: websockets are not requests
                for ws in (a, b, c):
                    await ws.ping()
                    with pytest.raises(TimeoutError):
                        await asyncio.wait_for(ws.recv(), 0.2)  # open, nothing to say

        asyncio.run(watch())


def test_an_idle_websocket_outlives_the_timeouts(quick: str) -> None:
    url = quick
    with client(url) as http:
        run = http.post("/api/runs", json={}).json()

        async def watch() -> str:
            async with open_ws(url, run["id"], http) as ws:
                assert strict_loads(await ws.recv())["type"] == "snapshot"
                await asyncio.sleep(2)
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


def test_a_slowly_read_download_is_not_cut_by_the_timeouts_or_the_cap(capped: str) -> None:
    url = capped
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as download:
        download.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)  # a slow reader
        download.settimeout(5)
        download.connect(("127.0.0.1", port))
        download.sendall(b"GET /static/plotly.min.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = download.recv(65536)
        head, _, body = received.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        started = time.monotonic()
        # Idle newcomers past the cap push out idle connections, never the download.
        with sockets(url, 30) as idle:
            while len(body) < length:
                chunk = download.recv(65536)
                assert chunk, f"the download was cut after {len(body)} of {length} bytes"
                body += chunk
                # Paced to take 2.5 s in all: longer than every timeout.
                time.sleep(max(0.0, started + 2.5 * len(body) / length - time.monotonic()))
            assert sum(closed_by_server(sock) for sock in idle) >= 28
    assert body[-200:] == plotly_js().read_bytes()[-200:]


def test_the_connection_limit_stays_below_the_open_file_limit() -> None:
    assert connection_limit(1000, workers=0, open_files=256) == 192
    assert connection_limit(1000, workers=2, open_files=256) == 176
    assert connection_limit(100, workers=0, open_files=65536) == 100
    assert connection_limit(1000, workers=0, open_files=resource.RLIM_INFINITY) == 1000
