"""The attacks of issue 12, each replayed against the app: the class lockout at /join (B5),
cross-site requests (B6), deep JSON (B7), lone surrogates (B8), the code in the cookie (B10),
security headers (B12), tracebacks shown to visitors (B13) and the Host header."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from tests.helpers import app_client

CODE = "k7v2q9xm4t"


def other(http: httpx.Client, base_url: str = "http://testserver") -> httpx.Client:
    """Another visitor of the same app (a cookie jar of its own), from the same address."""
    return httpx.Client(transport=http._transport, base_url=base_url)


def runs_of(http: httpx.Client) -> list[dict]:
    return http.get("/api/runs").json()


# -- B5: the /join lockout --------------------------------------------------------------------


def test_a_class_behind_one_address_gets_in_though_everyone_mistypes(tmp_path: Path) -> None:
    with app_client(tmp_path, access_code=CODE) as http:
        for student in range(40):
            with other(http) as browser:
                for typo in ("k7v2q9xm4", "k7v2q9xm4tt"):
                    assert browser.post("/join", data={"code": typo}).status_code == 401
                joined = browser.post("/join", data={"code": CODE})
                assert joined.status_code == 303, (student, joined.text[:300])
                assert browser.get("/api/runs").status_code == 200


def test_a_guesser_gets_a_bounded_number_of_guesses_a_minute(tmp_path: Path) -> None:
    with app_client(tmp_path, access_code=CODE, class_size=2,
                    join_attempts_per_minute=3) as http:
        for guess in range(6):  # 3 a student, 2 students
            assert http.post("/join", data={"code": f"guess{guess}"}).status_code == 401
        for _ in range(3):
            refused = http.post("/join", data={"code": "guess"})
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert http.get("/api/runs").status_code == 401


@pytest.mark.parametrize("code, weak", [("owl42", True), ("letmein", True),
                                        (CODE, False), ("Gradients-101-Tuesday", False)])
def test_a_code_too_weak_for_the_guessing_rate_is_warned_of_at_start(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, code: str, weak: bool) -> None:
    with caplog.at_level(logging.WARNING, logger="server"):
        create_app(Settings(data_dir=tmp_path, workers=0, access_code=code))
    warned = [r.getMessage() for r in caplog.records if "GRADWATCH_ACCESS_CODE" in r.getMessage()]
    assert bool(warned) is weak, warned
    if weak:
        assert "guesses a minute" in warned[0] and "docs/hosting.md" in warned[0]


# -- B6: cross-site requests ------------------------------------------------------------------


def test_a_text_plain_post_is_415_and_creates_nothing(tmp_path: Path) -> None:
    with app_client(tmp_path) as http:
        # A no-cors fetch or an enctype=text/plain form (the attack's two forms).
        for body in (b"", b'{"name": "x", "pad": "=1"}'):
            refused = http.post("/api/runs", content=body, headers={"content-type": "text/plain"})
            assert refused.status_code == 415, refused.text
            assert "application/json" in refused.json()["detail"]
        assert http.post("/api/runs", content=b"{}",
                         headers={"content-type": "multipart/form-data; boundary=x"}
                         ).status_code == 415
        assert runs_of(http) == []
        assert http.post("/api/runs", json={}).status_code == 201  # a script: no Origin


@pytest.mark.parametrize("headers", [
    {"origin": "http://testserver:8001"},                      # another port of the host
    {"origin": "https://evil.example"},
    {"origin": "null"},                                         # a sandboxed frame
    {"sec-fetch-site": "same-site"},                            # a browser that sent no Origin
    {"sec-fetch-site": "cross-site"},
])
def test_unsafe_requests_from_another_origin_are_403_and_change_nothing(
        tmp_path: Path, headers: dict[str, str]) -> None:
    with app_client(tmp_path) as http:
        run = http.post("/api/runs", json={}).json()
        for method, path in (("POST", "/api/runs"), ("POST", f"/api/runs/{run['id']}/stop"),
                             ("POST", f"/api/runs/{run['id']}/restart"),
                             ("DELETE", f"/api/runs/{run['id']}")):
            # Bodiless, as a no-cors fetch can send, and as JSON.
            for extra in ({}, {"content-type": "application/json"}):
                answer = http.request(method, path, headers={**headers, **extra},
                                      content=b"{}" if extra else b"")
                assert answer.status_code == 403, (method, path, answer.text)
                assert "another site" in answer.json()["detail"]
        assert [r["status"] for r in runs_of(http)] == ["queued"]


def test_the_page_itself_and_scripts_may_post(tmp_path: Path) -> None:
    with app_client(tmp_path) as http:
        own = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
        run = http.post("/api/runs", json={}, headers=own).json()
        assert http.post(f"/api/runs/{run['id']}/stop", headers=own).status_code == 202
        assert http.post(f"/api/runs/{run['id']}/stop").status_code == 409  # curl: no Origin
        assert http.delete(f"/api/runs/{run['id']}",
                           headers={"sec-fetch-site": "none"}).status_code == 204


def test_join_takes_its_form_and_json_but_not_text_plain_or_another_origin(
        tmp_path: Path) -> None:
    with app_client(tmp_path, access_code=CODE) as http:
        assert http.post("/join", content=f"code={CODE}".encode(),
                         headers={"content-type": "text/plain"}).status_code == 415
        assert http.post("/join", data={"code": CODE},
                         headers={"origin": "http://testserver:9"}).status_code == 403
        assert http.get("/api/runs").status_code == 401
        assert http.post("/join", json={"code": CODE}).status_code == 303
        with other(http) as browser:
            assert browser.post("/join", data={"code": CODE},
                                headers={"origin": "http://testserver"}).status_code == 303


# -- B7, B8: deep JSON and lone surrogates, on every JSON body --------------------------------

DEEP = [b"[" * 20000, b'{"name": ' + b"[" * 1500 + b"]" * 1500 + b"}",
        b'{"model": ' + b'{"a": ' * 1500 + b"1" + b"}" * 1501]


def json_paths(http: httpx.Client) -> list[str]:
    run = http.post("/api/runs", json={}).json()
    return ["/api/runs", f"/api/runs/{run['id']}/restart", "/api/ingest/runs",
            "/api/ingest/runs/nope/events"]


@pytest.mark.parametrize("body", DEEP, ids=["20000-brackets", "1500-lists", "1500-objects"])
def test_deeply_nested_json_is_a_422_that_says_so(tmp_path: Path, body: bytes) -> None:
    with app_client(tmp_path) as http:
        for path in json_paths(http):
            answer = http.post(path, content=body, headers={"content-type": "application/json"})
            assert answer.status_code == 422, (path, answer.status_code, answer.text[:200])
            assert "nested" in answer.json()["detail"][0]["msg"]
        assert len(runs_of(http)) == 1


@pytest.mark.parametrize("body", DEEP[:2], ids=["20000-brackets", "1500-lists"])
def test_deeply_nested_json_to_join_is_a_4xx_and_counts_as_an_attempt(
        tmp_path: Path, body: bytes) -> None:
    with app_client(tmp_path, access_code=CODE, class_size=1, join_attempts_per_minute=1) as http:
        answer = http.post("/join", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 422 and "nested" in answer.text
        assert http.post("/join", json={"code": CODE}).status_code == 429


def test_a_lone_surrogate_code_is_a_4xx_and_counts_as_an_attempt(tmp_path: Path) -> None:
    with app_client(tmp_path, access_code=CODE, class_size=1, join_attempts_per_minute=1) as http:
        answer = http.post("/join", content=b'{"code": "\\ud800"}',
                           headers={"content-type": "application/json"})
        assert 400 <= answer.status_code < 500, answer.text[:300]
        assert http.post("/join", json={"code": CODE}).status_code == 429  # it was counted


@pytest.mark.parametrize("body", [
    b'{"name": "\\ud800"}', b'{"name": "ok\\udc00"}', b'{"\\ud800": 1}',
    b'{"model": {"\\udfff": 1}}', b'{"training": {"optimizer": "\\ud83d"}}',
])
def test_a_lone_surrogate_anywhere_in_a_body_is_a_422(tmp_path: Path, body: bytes) -> None:
    with app_client(tmp_path) as http:
        for path in json_paths(http):
            answer = http.post(path, content=body, headers={"content-type": "application/json"})
            assert answer.status_code == 422, (path, answer.status_code, answer.text[:200])
            assert "surrogate" in answer.json()["detail"][0]["msg"]
        # A surrogate pair is a character like any other.
        pair = http.post("/api/runs", content=b'{"name": "\\ud83d\\ude00"}',
                         headers={"content-type": "application/json"})
        assert pair.status_code == 201 and pair.json()["name"] == "\U0001F600"
        assert len(runs_of(http)) == 2


def test_a_script_run_with_a_surrogate_in_its_script_is_a_422(tmp_path: Path) -> None:
    with app_client(tmp_path) as http:
        body = {"name": "s", "layers": [{"name": "d", "kind": "Dense", "params": 3}],
                "total_steps": 1, "script": {"model_class": "X"}}
        raw = json.dumps(body).replace('"X"', '"\\udbff"').encode()
        answer = http.post("/api/ingest/runs", content=raw,
                           headers={"content-type": "application/json"})
        assert answer.status_code == 422 and "surrogate" in answer.text
        assert runs_of(http) == []


# -- B10: the cookie ---------------------------------------------------------------------------


def cookie_payload(value: str) -> dict:
    data = value.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def test_the_cookie_carries_nothing_derived_from_the_code_without_the_secret(
        tmp_path: Path) -> None:
    tags = []
    for key in ("one-secret", "another-secret"):
        with app_client(tmp_path / key, access_code=CODE, secret_key=key) as http:
            http.post("/join", data={"code": CODE})
            payload = cookie_payload(http.cookies["gradwatch_visitor"])
            unkeyed = hashlib.sha256(CODE.encode()).hexdigest()
            assert payload["a"] not in unkeyed and CODE not in json.dumps(payload)
            tags.append(payload["a"])
    assert tags[0] != tags[1]  # the tag needs the server's key


def test_changing_the_code_still_logs_everyone_out(tmp_path: Path) -> None:
    with app_client(tmp_path, access_code=CODE) as http:
        http.post("/join", data={"code": CODE})
        cookies = dict(http.cookies)
    for code, status in (("new-class-code-2", 401), (CODE, 200)):
        with app_client(tmp_path, access_code=code) as http:
            http.cookies.update(cookies)
            assert http.get("/api/runs").status_code == status


# -- B12: security headers ---------------------------------------------------------------------


def test_every_answer_carries_the_security_headers(tmp_path: Path) -> None:
    with app_client(tmp_path, access_code=CODE) as http:
        for path in ("/join", "/api/health", "/api/runs", "/static/style.css"):
            headers = http.get(path).headers
            csp = {d.split()[0]: d.split()[1:]
                   for d in headers["content-security-policy"].split("; ")}
            assert csp["script-src"] == ["'self'"] and csp["default-src"] == ["'self'"]
            assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
            assert headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "same-origin"


# -- Host header (DNS rebinding) ---------------------------------------------------------------


@pytest.mark.parametrize("base, allowed, status", [
    ("http://rebound.evil.example", None, 400),
    ("http://127.0.0.1:8000", None, 200),
    ("http://localhost:9", None, 200),
    ("http://[::1]:8000", None, 200),
    ("http://class.example.org", None, 400),
    ("http://class.example.org", "class.example.org, lab.example.org", 200),
    ("http://CLASS.example.org.:443", "class.example.org", 200),
    ("http://rebound.evil.example", "class.example.org", 400),
    ("http://127.0.0.1:8000", "class.example.org", 200),     # the health check's
    ("http://anything.example", "*", 200),
])
def test_the_host_header_is_checked(tmp_path: Path, base: str, allowed: str | None,
                                    status: int) -> None:
    settings = {} if allowed is None else {"allowed_hosts": allowed}
    with app_client(tmp_path, **settings) as http, other(http, base) as visitor:
        answer = visitor.get("/api/health")
        assert answer.status_code == status, answer.text
        if status == 400:
            assert "GRADWATCH_ALLOWED_HOSTS" in answer.json()["detail"]
            assert visitor.post("/api/runs", json={}).status_code == 400
    with app_client(tmp_path) as http:
        assert runs_of(http) == []


def test_the_bound_address_is_an_allowed_host(tmp_path: Path) -> None:
    with app_client(tmp_path, host="192.0.2.7", access_code=CODE) as http, \
            other(http, "http://192.0.2.7:8000") as visitor:
        assert visitor.get("/join").status_code == 200


# -- B13: tracebacks ---------------------------------------------------------------------------

# What trainer/job.py sends when a run fails: the exception, then the traceback's last frames.
WORKER_ERROR = (
    "ResourceExhaustedError: OOM when allocating tensor with shape[50000,4096] on "
    "/job:localhost/replica:0/task:0/device:CPU:0\nTraceback (most recent call last):\n"
    '  File "/work/main/trainer/job.py", line 74, in run_job\n    outcome = _train(\n'
    '  File "/srv/gradwatch/.venv/lib/python3.11/site-packages/keras/src/trainer.py", line 9\n'
    "tensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM")


def test_a_failed_runs_error_is_one_sentence_and_the_traceback_is_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with app_client(tmp_path) as http:
        opened = http.post("/api/ingest/runs", json={
            "name": "s", "layers": [{"name": "d", "kind": "Dense", "params": 3}],
            "total_steps": 1}).json()
        with caplog.at_level(logging.WARNING, logger="server"):
            ended = http.post(f"/api/ingest/runs/{opened['id']}/events", json={"events": [
                {"type": "finished", "status": "failed", "error": WORKER_ERROR}]})
        assert ended.status_code == 200, ended.text
        with other(http) as classmate:
            shown = classmate.get(f"/api/runs/{opened['id']}").json()["error"]
            listed = runs_of(classmate)[0]["error"]
    assert shown == listed
    assert "\n" not in shown and "Traceback" not in shown and ".py" not in shown
    assert "/work" not in shown and "/job:" not in shown and "site-packages" not in shown
    assert shown.startswith("Training failed with ResourceExhaustedError (OOM when allocating")
    assert shown.endswith(".") and ". " not in shown  # one sentence
    assert "smaller" in shown  # what to change
    assert "trainer/job.py" in caplog.text and "Traceback" in caplog.text


def test_short_errors_without_a_traceback_are_kept(tmp_path: Path) -> None:
    from server.publicerror import public_error

    for reason in ("interrupted by a server restart", "stopped by its owner",
                   "the worker process died (exit code -9)", None):
        assert public_error(reason) == reason


def test_a_socket_to_a_host_name_not_allowed_is_refused() -> None:
    import asyncio

    from server.guards import RequestGuardMiddleware

    sent: list = []

    async def app(scope, receive, send) -> None:
        sent.append("let in")

    async def receive() -> dict:
        return {"type": "websocket.connect"}

    async def send(message: dict) -> None:
        sent.append(message)

    for host, expected in ((b"rebound.evil.example", 4400), (b"localhost:8000", None)):
        sent.clear()
        scope = {"type": "websocket", "path": "/ws/runs/x", "extensions": {},
                 "headers": [(b"host", host), (b"origin", b"http://" + host)]}
        asyncio.run(RequestGuardMiddleware(app, frozenset())(scope, receive, send))
        if expected is None:
            assert sent == ["let in"]
        else:
            [closed] = sent
            assert closed["type"] == "websocket.close" and closed["code"] == expected
            assert "GRADWATCH_ALLOWED_HOSTS" in closed["reason"]
