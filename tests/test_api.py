"""The REST API of CONTRACT §4 on a real server: validation, limits, permissions, export."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import client, run_server, tiny_run, wait_for

ADMIN = "teacher-token"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server with no workers (runs stay queued, nothing trains) and small limits."""
    data = tmp_path_factory.mktemp("api")
    with run_server(data, GRADWATCH_WORKERS="0", GRADWATCH_MAX_ACTIVE_PER_VISITOR="2",
                    GRADWATCH_MAX_PARAMS="100000", GRADWATCH_MAX_BODY_BYTES="4096",
                    GRADWATCH_ADMIN_TOKEN=ADMIN) as url:
        yield url, data


@pytest.fixture
def url(api: tuple[str, Path]) -> str:
    return api[0]


def test_meta_endpoints(url: str) -> None:
    with client(url) as http:
        health = http.get("/api/health").json()
        assert health["executor"]["kind"] == "local"
        assert {"state", "workers", "ready", "busy", "queued"} <= set(health["executor"])
        presets = http.get("/api/presets").json()
        assert {"seed", "vanishing-sigmoid"} <= {p["id"] for p in presets}
        schema = http.get("/api/schema").json()
        assert {"dataset", "model", "remedies", "training"} <= set(schema["properties"])


def test_create_fills_defaults_and_queues(url: str) -> None:
    with client(url) as http:
        response = http.post("/api/runs", json={"name": "mine", "model": {"depth": 2}})
        assert response.status_code == 201
        run = response.json()
        assert run["status"] == "queued" and run["owned"] is True and run["name"] == "mine"
        assert run["config"]["model"] == {"arch": "mlp", "depth": 2, "width": 64,
                                          "cell": "simple_rnn",
                                          "residual_scale": "inv_sqrt_depth"}
        assert run["config"]["training"]["batch_size"] == 32
        assert run["progress"] == {"step": 0, "epoch": 0, "total_steps": 500}
        assert isinstance(run["queue_position"], int) and run["parent_id"] is None
        assert {"created_at", "started_at", "finished_at", "layers", "diagnosis",
                "error"} <= set(run)
        assert http.get(f"/api/runs/{run['id']}").json()["id"] == run["id"]
        assert http.post(f"/api/runs/{run['id']}/stop").status_code == 202


@pytest.mark.parametrize(("body", "path", "says"), [
    ({"remedy": {}}, "remedy", "unknown field 'remedy'"),
    ({"model": {"depth": "deep"}}, "model.depth", "integer"),
    ({"model": {"depth": 0}}, "model.depth", "greater than or equal to 1"),
    ({"training": {"epochs": 501}}, "training.epochs", "500"),
    ({"remedies": {"activation": "softmax"}}, "remedies.activation", "relu"),
    ({"dataset": {"name": "adding"}}, "model.arch", "needs model.arch 'rnn'"),
    ({"model": {"width": 1024}}, "model", "limit of 100,000"),  # the server's max_params
    ({"remedies": {"recurrent_gain": 3.0}}, "remedies.recurrent_gain", "rnn architecture only"),
    ({"dataset": {"name": "adding"}, "model": {"arch": "rnn"},
      "remedies": {"recurrent_gain": -1}}, "remedies.recurrent_gain", "greater than 0"),
    ([1, 2], "(body)", "expected a JSON object"),
])
def test_invalid_config_is_422_with_the_path_and_a_sentence(url: str, body, path, says) -> None:
    with client(url) as http:
        response = http.post("/api/runs", json=body)
    assert response.status_code == 422
    (item,) = response.json()["detail"]
    assert set(item) == {"loc", "path", "msg", "type"}
    assert item["path"] == path and says in item["msg"]


@pytest.mark.parametrize("raw", [b"{not json", b'{"seed": NaN}', b"\xff\xfe"])
def test_body_that_is_not_json_is_422(url: str, raw: bytes) -> None:
    with client(url) as http:
        response = http.post("/api/runs", content=raw,
                             headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_body_over_the_limit_is_413(url: str) -> None:
    big = b'{"name": "' + b"x" * 5000 + b'"}'
    json_type = {"content-type": "application/json"}  # any other type is a 415 (test_security)
    with client(url) as http:
        assert http.post("/api/runs", content=big, headers=json_type).status_code == 413
        # Without a Content-Length (chunked), the limit is enforced while reading.
        chunked = http.post("/api/runs", content=iter([big[:3000], big[3000:]]),
                            headers=json_type)
        assert chunked.status_code == 413
        assert "4096" in chunked.json()["detail"]


def test_unknown_run_is_404_everywhere(url: str) -> None:
    with client(url) as http:
        for method, path in [("GET", "/api/runs/nope"), ("GET", "/api/runs/nope/metrics"),
                             ("POST", "/api/runs/nope/stop"), ("POST", "/api/runs/nope/restart"),
                             ("DELETE", "/api/runs/nope")]:
            response = http.request(method, path)
            assert response.status_code == 404, (method, path)
            assert "nope" in response.json()["detail"]
        assert http.get("/api/runs/x/metrics?format=xml").status_code == 422


def test_owner_only_stop_and_delete_and_owned_flags(url: str) -> None:
    with client(url) as alice, client(url) as bob:
        run = alice.post("/api/runs", json=tiny_run()).json()
        rid = run["id"]
        seen_by_bob = {r["id"]: r for r in bob.get("/api/runs").json()}[rid]
        assert seen_by_bob["owned"] is False and alice.get(f"/api/runs/{rid}").json()["owned"]
        assert bob.post(f"/api/runs/{rid}/stop").status_code == 403
        assert bob.delete(f"/api/runs/{rid}").status_code == 403
        assert alice.delete(f"/api/runs/{rid}").status_code == 409  # still queued
        stopped = alice.post(f"/api/runs/{rid}/stop")
        assert stopped.status_code == 202 and stopped.json()["status"] == "stopped"
        assert stopped.json()["error"] == "stopped by its owner"
        assert alice.post(f"/api/runs/{rid}/stop").status_code == 409
        assert bob.delete(f"/api/runs/{rid}").status_code == 403
        assert alice.delete(f"/api/runs/{rid}").status_code == 204
        assert alice.get(f"/api/runs/{rid}").status_code == 404


def test_admin_may_stop_and_delete_anyones_run(url: str) -> None:
    with client(url) as alice, client(url, headers={"Authorization": f"Bearer {ADMIN}"}) as admin:
        rid = alice.post("/api/runs", json=tiny_run()).json()["id"]
        assert admin.get(f"/api/runs/{rid}").json()["owned"] is True
        stopped = admin.post(f"/api/runs/{rid}/stop").json()
        assert stopped["status"] == "stopped" and stopped["error"] == "stopped by the admin"
        assert admin.delete(f"/api/runs/{rid}").status_code == 204
    with client(url, headers={"Authorization": "Bearer wrong"}) as impostor, client(url) as bob:
        rid = bob.post("/api/runs", json=tiny_run()).json()["id"]
        assert impostor.post(f"/api/runs/{rid}/stop").status_code == 403
        bob.post(f"/api/runs/{rid}/stop")


def test_restart_merges_over_the_parent_and_belongs_to_the_caller(url: str) -> None:
    with client(url) as alice, client(url) as bob:
        parent = alice.post("/api/runs", json={"name": "deep", "model": {"depth": 3}}).json()
        child = bob.post(f"/api/runs/{parent['id']}/restart",
                         json={"remedies": {"batch_norm": True}})
        assert child.status_code == 201
        child = child.json()
        assert child["parent_id"] == parent["id"] and child["owned"] is True
        assert child["config"]["model"]["depth"] == 3 and child["name"] == "deep"
        assert child["config"]["remedies"]["batch_norm"] is True
        assert alice.get(f"/api/runs/{child['id']}").json()["owned"] is False
        bad = bob.post(f"/api/runs/{parent['id']}/restart", json={"model": {"depth": 0}})
        assert bad.status_code == 422 and bad.json()["detail"][0]["path"] == "model.depth"
        for http, run in ((alice, parent), (bob, child)):
            http.post(f"/api/runs/{run['id']}/stop")


def test_per_visitor_limit_is_429_with_retry_after(url: str) -> None:
    with client(url) as carol, client(url) as dave:
        ids = [carol.post("/api/runs", json=tiny_run()).json()["id"] for _ in range(2)]
        third = carol.post("/api/runs", json=tiny_run())
        assert third.status_code == 429 and int(third.headers["Retry-After"]) > 0
        assert "stop one" in third.json()["detail"]
        other = dave.post("/api/runs", json=tiny_run())  # the limit is per visitor
        assert other.status_code == 201
        carol.post(f"/api/runs/{ids[0]}/stop")
        assert carol.post("/api/runs", json=tiny_run()).status_code == 201
        for rid in [r["id"] for r in carol.get("/api/runs").json() if r["owned"]]:
            carol.post(f"/api/runs/{rid}/stop")
        dave.post(f"/api/runs/{other.json()['id']}/stop")


def test_full_queue_is_429(tmp_path: Path) -> None:
    with run_server(tmp_path, GRADWATCH_WORKERS="0", GRADWATCH_MAX_QUEUE="3") as url:
        visitors = [client(url) for _ in range(4)]
        codes = [v.post("/api/runs", json=tiny_run()).status_code for v in visitors]
        assert codes == [201, 201, 201, 429]
        assert "queue is full" in visitors[3].post("/api/runs").json()["detail"]
        positions = sorted(r["queue_position"] for r in visitors[0].get("/api/runs").json())
        assert positions == [1, 2, 3]
        for v in visitors:
            v.close()


def test_runs_are_listed_newest_first(url: str) -> None:
    with client(url) as erin:
        ids = [erin.post("/api/runs", json=tiny_run()).json()["id"] for _ in range(2)]
        listed = [r["id"] for r in erin.get("/api/runs").json()]
        assert listed.index(ids[1]) < listed.index(ids[0])
        for rid in ids:
            erin.post(f"/api/runs/{rid}/stop")


def test_an_unexpected_error_answers_json_not_a_crash(api: tuple[str, Path]) -> None:
    url, data = api
    with client(url) as frank:
        rid = frank.post("/api/runs", json=tiny_run()).json()["id"]
        frank.post(f"/api/runs/{rid}/stop")
        with sqlite3.connect(data / "gradwatch.db") as db:  # damage the row behind its back
            db.execute("UPDATE runs SET config = '{broken' WHERE id = ?", (rid,))
        response = frank.get(f"/api/runs/{rid}")
        assert response.status_code == 500
        assert "unexpected error" in response.json()["detail"]
        assert frank.get("/api/health").status_code == 200  # the server is still there


@pytest.mark.slow
def test_csv_export_has_one_row_per_recorded_step(live_server: str) -> None:
    with client(live_server) as http:
        rid = http.post("/api/runs", json={"dataset": {"n_samples": 200},
                                           "training": {"epochs": 2}}).json()["id"]
        run = wait_for(lambda: (r := http.get(f"/api/runs/{rid}").json())["status"]
                       not in ("queued", "running") and r, timeout=120)
        assert run["status"] == "completed", run["error"]
        history = http.get(f"/api/runs/{rid}/metrics").json()
        assert history["step"] == list(range(run["progress"]["total_steps"]))
        response = http.get(f"/api/runs/{rid}/metrics", params={"format": "csv"})
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [int(r["step"]) for r in rows] == history["step"]
        names = [layer["name"] for layer in run["layers"]]
        assert len(names) == 2
        for name in names:
            assert float(rows[0][f"grad_norm[{name}]"]) > 0
            assert f"weight_norm[{name}]" in rows[0] and f"update_ratio[{name}]" in rows[0]
        assert list(rows[0])[:4] == ["step", "epoch", "loss", "t"]


@pytest.mark.slow
def test_long_history_is_thinned_keeping_first_and_last(server_factory) -> None:
    url = server_factory(HISTORY_MAX_STEPS="16")
    with client(url) as http:
        run = http.post("/api/runs", json={"dataset": {"n_samples": 400},
                                           "training": {"epochs": 4}}).json()
        rid, n = run["id"], run["progress"]["total_steps"]
        assert n == 40
        run = wait_for(lambda: (r := http.get(f"/api/runs/{rid}").json())["status"]
                       not in ("queued", "running") and r, timeout=120)
        assert run["status"] == "completed", run["error"]
        steps = http.get(f"/api/runs/{rid}/metrics").json()["step"]
        assert steps[0] == 0 and steps[-1] == n - 1
        assert len(steps) <= 17 and steps == sorted(set(steps))
        rows = http.get(f"/api/runs/{rid}/metrics", params={"format": "csv"}).text.splitlines()
        assert len(rows) == len(steps) + 1
