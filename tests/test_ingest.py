"""Script runs over HTTP (no TensorFlow here): opening, events, ownership, limits, 4xx answers."""

from __future__ import annotations

import httpx

from tests.helpers import app_client

LAYERS = [{"name": "block/conv", "kind": "Conv2D", "params": 80},
          {"name": "out", "kind": "Dense", "params": 11}]


def step(i, n=2):
    return {"step": i, "epoch": 0, "loss": 1.0, "t": 1.0 + i, "grad_norms": [0.1] * n,
            "weight_norms": [1.0] * n, "update_ratios": [1e-3] * n,
            "output_grad_norms": [None] * n}


def open_run(http, **extra):
    return http.post("/api/ingest/runs", json={"name": "mine", "layers": LAYERS,
                                               "total_steps": 10, **extra})


def test_a_script_run_takes_its_events_and_ends_with_its_final_status(tmp_path):
    with app_client(tmp_path) as http:
        opened = open_run(http, script={"model_class": "Sequential"},
                          config={"model": {"arch": "cnn", "depth": 1}})
        assert opened.status_code == 201, opened.text
        run = opened.json()
        assert run["status"] == "running" and run["source"] == "script" and run["owned"]
        assert run["layers"] == LAYERS and run["config"]["model"]["arch"] == "cnn"
        assert run["script"] == {"model_class": "Sequential"}
        events = f"/api/ingest/runs/{run['id']}/events"
        answer = http.post(events, json={"events": [
            {"type": "metrics", "items": [step(0), step(1)]},
            {"type": "epoch", "epoch": 0, "loss": 0.5, "val_loss": None},
            {"type": "finished", "status": "completed", "error": None}]})
        assert answer.status_code == 200 and answer.json()["status"] == "completed"
        history = http.get(f"/api/runs/{run['id']}/metrics").json()
        assert history["step"] == [0, 1] and history["grad_norms"] == [[0.1, 0.1]] * 2
        assert http.get(f"/api/runs/{run['id']}").json()["status"] == "completed"
        late = http.post(events, json={"events": []})
        assert late.status_code == 409 and late.json()["status"] == "completed"
        again = http.post(f"/api/runs/{run['id']}/restart", json={})
        assert again.status_code == 409 and "script" in again.json()["detail"]


def test_bad_bodies_and_other_callers_get_clear_4xx(tmp_path):
    with app_client(tmp_path, max_params=50, max_active_per_visitor=1) as http:
        assert open_run(http).status_code == 422  # 91 parameters > 50
        [item] = open_run(http).json()["detail"]
        assert item["path"] == "layers" and "91 trainable parameters" in item["msg"]
    with app_client(tmp_path / "b", max_active_per_visitor=1) as http:
        bad = http.post("/api/ingest/runs", json={"layers": [], "remedy": 1})
        assert bad.status_code == 422
        assert {i["path"] for i in bad.json()["detail"]} == {"layers", "remedy"}
        bad_config = open_run(http, config={"remedies": {"activation": "nope"}})
        assert bad_config.status_code == 422
        assert bad_config.json()["detail"][0]["path"] == "config.remedies.activation"
        run = open_run(http).json()
        assert open_run(http).status_code == 429  # the visitor's limit of 1 active run
        events = f"/api/ingest/runs/{run['id']}/events"
        short = http.post(events, json={"events": [{"type": "metrics", "items": [step(0, 1)]}]})
        assert short.status_code == 422 and "has 1 numbers but the run has 2 layers" in \
            short.json()["detail"][0]["msg"]
        assert http.post(events, json={"events": [{"type": "nope"}]}).status_code == 422
        assert http.post(events, content=b"{", headers={
            "content-type": "application/json"}).status_code == 422
        assert http.post("/api/ingest/runs/nothere/events", json={}).status_code == 404
        other = httpx.Client(transport=http._transport, base_url="http://testserver")
        assert other.post(events, json={"events": []}).status_code == 403
        assert other.post(f"/api/runs/{run['id']}/stop").status_code == 403
        # Stop by its owner ends it at once; the script learns it from its next post.
        assert http.post(f"/api/runs/{run['id']}/stop").status_code == 202
        answer = http.post(events, json={"events": [{"type": "metrics", "items": [step(0)]}]})
        assert answer.status_code == 409 and answer.json()["error"] == "stopped by its owner"


def test_a_silent_script_run_ends_failed_and_frees_the_owners_slot(tmp_path):
    with app_client(tmp_path, script_idle_seconds=0.01, max_active_per_visitor=1) as http:
        run = open_run(http).json()
        import time
        time.sleep(0.05)
        listed = {r["id"]: r for r in http.get("/api/runs").json()}
        assert listed[run["id"]]["status"] == "failed"
        assert "stopped reporting" in listed[run["id"]]["error"]
        assert open_run(http).status_code == 201


def test_a_batch_a_script_posts_again_is_applied_once(tmp_path):
    # The callback posts a batch again when the answer to it was lost (sender.py).
    with app_client(tmp_path) as http:
        run = open_run(http).json()
        events = f"/api/ingest/runs/{run['id']}/events"
        batch = {"events": [{"type": "metrics", "items": [step(0), step(1)]},
                            {"type": "epoch", "epoch": 0, "loss": 0.5}]}
        assert http.post(events, json=batch).status_code == 200
        assert http.post(events, json=batch).status_code == 200
        assert http.post(events, json={"events": [
            {"type": "metrics", "items": [step(1), step(2)]}]}).status_code == 200
        history = http.get(f"/api/runs/{run['id']}/metrics").json()
        assert history["step"] == [0, 1, 2]


def test_an_empty_or_non_object_body_says_an_object_is_expected(tmp_path):
    with app_client(tmp_path) as http:
        for raw in (b"", b"[]", b"null"):
            answer = http.post("/api/ingest/runs", content=raw,
                               headers={"content-type": "application/json"})
            assert answer.status_code == 422, raw
            [item] = answer.json()["detail"]
            assert item["path"] == "(body)" and "expected a JSON object" in item["msg"]
