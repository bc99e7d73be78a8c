"""Visitors, the access code, the admin token and the websocket Origin check (CONTRACT §6)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from server.attempts import FailedAttempts
from tests.helpers import app_client, client, open_ws, run_server, tiny_run


async def handshake(url: str, run_id: str, http=None, **kwargs) -> tuple[int, object]:
    """Open a socket; (close code or HTTP status of the refusal, response headers)."""
    try:
        async with open_ws(url, run_id, http, **kwargs) as ws:
            try:
                await asyncio.wait_for(ws.recv(), 10)
            except ConnectionClosed as closed:
                return closed.rcvd.code, ws.response.headers
            return 1000, ws.response.headers
    except InvalidStatus as refused:
        return refused.response.status_code, refused.response.headers


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory):
    with run_server(tmp_path_factory.mktemp("open"), GRADWATCH_WORKERS="0") as url:
        yield url


def test_first_request_gets_a_signed_httponly_lax_cookie(open_server: str) -> None:
    with client(open_server) as http:
        first = http.get("/api/health")
        cookie = first.headers["set-cookie"]
        assert cookie.startswith("gradwatch_visitor=")
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "set-cookie" not in http.get("/api/health").headers  # already has one
        rid = http.post("/api/runs", json=tiny_run()).json()["id"]
        assert http.get(f"/api/runs/{rid}").json()["owned"] is True
        value = http.cookies["gradwatch_visitor"]
        with client(open_server, cookies={"gradwatch_visitor": value[:-2] + "xx"}) as forger:
            # A tampered cookie is no identity: the forger is someone new.
            assert forger.get(f"/api/runs/{rid}").json()["owned"] is False
            assert forger.post(f"/api/runs/{rid}/stop").status_code == 403
        assert http.post(f"/api/runs/{rid}/stop").status_code == 202


def test_a_socket_handshake_also_gets_the_cookie(open_server: str) -> None:
    code, headers = asyncio.run(handshake(open_server, "no-such-run"))
    assert code == 4404
    assert headers["set-cookie"].startswith("gradwatch_visitor=")


def test_cross_site_socket_is_refused(open_server: str) -> None:
    host = open_server.removeprefix("http://")
    evil, _ = asyncio.run(handshake(open_server, "x", origin="https://evil.example"))
    assert evil == 403
    own, _ = asyncio.run(handshake(open_server, "x", origin=f"http://{host}"))
    assert own == 4404  # let in, then told the run does not exist


def test_access_code_gates_api_page_and_sockets(server_factory: Callable[..., str]) -> None:
    url = server_factory(WORKERS="0", ACCESS_CODE="owl-42")
    with client(url) as http:
        assert http.get("/api/runs").status_code == 401
        assert http.post("/api/runs", json={}).status_code == 401
        page = http.get("/")
        assert page.status_code == 303 and page.headers["location"] == "/join"
        assert http.get("/join").status_code == 200
        assert asyncio.run(handshake(url, "x", http))[0] == 401
        wrong = http.post("/join", data={"code": "owl-41", "next": "#run=ab12&metric=grad_norms"})
        assert wrong.status_code == 401 and "not right" in wrong.text
        assert 'value="#run=ab12&amp;metric=grad_norms"' in wrong.text  # kept for the next try
        # Only a fragment of URL characters is taken back: never another place or a header.
        for bad in ("//evil.example/", "#a\r\nSet-Cookie: x=1", "https://evil.example/#run=1"):
            assert f'value="{bad}"' not in http.post("/join", data={"code": "x", "next": bad}).text
        assert http.get("/api/runs").status_code == 401
        shared = "#run=ab12&metric=grad_norms"  # the view the student was sent
        joined = http.post("/join", data={"code": "owl-42", "next": shared})
        assert joined.status_code == 303 and joined.headers["location"] == "/" + shared
        assert http.get("/api/runs").status_code == 200
        assert http.get("/").status_code == 200
        assert asyncio.run(handshake(url, "x", http))[0] == 4404
        assert http.post("/api/runs", json=tiny_run()).status_code == 201
    with client(url, headers={"Authorization": "Bearer nothing-set"}) as stranger:
        assert stranger.get("/api/runs").status_code == 401


def test_identity_survives_restarts_and_unfinished_runs_fail(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with run_server(data, GRADWATCH_WORKERS="0") as url, client(url) as http:
        shut_down = http.post("/api/runs", json=tiny_run()).json()["id"]
        cookies = dict(http.cookies)
    assert (data / "secret.key").stat().st_mode & 0o077 == 0  # readable by its owner only
    with run_server(data, crash=True, GRADWATCH_WORKERS="0") as url, \
            client(url, cookies=cookies) as http:
        run = http.get(f"/api/runs/{shut_down}").json()
        assert run["owned"] is True  # same visitor: the signing key was kept in data_dir
        assert run["status"] == "failed"
        assert run["error"] == "the server shut down before the run started"
        crashed = http.post("/api/runs", json=tiny_run()).json()["id"]
    with run_server(data, GRADWATCH_WORKERS="0") as url, client(url, cookies=cookies) as http:
        run = http.get(f"/api/runs/{crashed}").json()
        assert run["status"] == "failed" and run["error"] == "interrupted by a server restart"


def test_guessing_the_access_code_is_rate_limited(tmp_path: Path) -> None:
    with app_client(tmp_path, access_code="owl-42", join_attempts_per_minute=3,
                    class_size=1) as http:
        for _ in range(3):
            assert http.post("/join", data={"code": "guess"}).status_code == 401
        blocked = http.post("/join", data={"code": "owl-42"})  # even the right code waits
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
        assert http.get("/api/runs").status_code == 401


def test_failed_attempts_window_slides_and_memory_is_bounded() -> None:
    attempts = FailedAttempts(per_minute=2)
    attempts.record_failure("a", now=0.0)
    attempts.record_failure("a", now=10.0)
    assert attempts.retry_after("a", now=20.0) == 40
    assert attempts.retry_after("b", now=20.0) == 0
    assert attempts.retry_after("a", now=60.5) == 0  # the first failure left the window
    for i in range(FailedAttempts.MAX_CLIENTS + 5):
        attempts.record_failure(f"c{i}", now=70.0)
    assert len(attempts._seen) == FailedAttempts.MAX_CLIENTS
