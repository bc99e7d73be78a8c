"""`python -m server` with GRADWATCH_EXECUTOR=redis: restarts mid-run and Redis outages."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.helpers import (
    client,
    frames_until_final,
    open_ws,
    run_server,
    steps_of,
    tiny_run,
    wait_for,
)
from tests.redis_helpers import RedisServer, Workers
from trainer.contract.config import RunConfig, total_steps
from trainer.contract.redisnames import HEARTBEAT_TTL

pytestmark = pytest.mark.redis
# Tiny data, but batch 1 makes ~2000 steps: long enough (seconds) to restart the server mid-run.
# Long enough (about 4,000 steps at batch size 1) that the worker is still training when the
# second server is up, even on a loaded machine (10 epochs once finished in between).
LONGISH = {"dataset": {"n_samples": 256}, "training": {"epochs": 20, "batch_size": 1}}


def redis_env(url: str) -> dict[str, str]:
    return {"GRADWATCH_EXECUTOR": "redis", "GRADWATCH_REDIS_URL": url}


async def watch(base: str, run_id: str) -> list[dict]:
    async with open_ws(base, run_id) as ws:
        return await frames_until_final(ws, timeout=120)


@pytest.mark.slow
def test_a_server_restarted_mid_run_continues_the_same_history_without_gap_or_duplicate(
        redis_server: RedisServer, workers: Workers, tmp_path: Path) -> None:
    url = redis_server.url(5)
    workers.start(url, 1)
    data = tmp_path / "data"
    total = total_steps(RunConfig.model_validate(LONGISH))
    with run_server(data, crash=True, **redis_env(url)) as base, client(base) as http:
        run_id = http.post("/api/runs", json=LONGISH).json()["id"]
        wait_for(lambda: http.get(f"/api/runs/{run_id}").json()["progress"]["step"] >= 100)
    # The first server was SIGKILLed (nothing flushed on the way out); the worker trains on.
    with run_server(data, **redis_env(url)) as base, client(base) as http:
        resumed = http.get(f"/api/runs/{run_id}").json()
        assert resumed["status"] == "running", resumed
        assert 100 <= resumed["progress"]["step"] < total
        frames = asyncio.run(watch(base, run_id))
        assert frames[-1] == {"type": "status", "status": "completed", "error": None}
        assert steps_of(frames) == list(range(total))  # the viewer: every step once, in order
        epochs = frames[0]["epochs"] + [f for f in frames if f["type"] == "epoch"]
        assert [e["epoch"] for e in epochs] == list(range(20))
        history = http.get(f"/api/runs/{run_id}/metrics").json()
        assert history["step"] == list(range(total))  # the store: no hole, nothing twice
        run = http.get(f"/api/runs/{run_id}").json()
        assert run["progress"]["step"] == total and run["layers"]


def test_redis_down_answers_503_at_once_and_service_resumes_when_it_is_back(
        own_redis: RedisServer, tmp_path: Path) -> None:
    with run_server(tmp_path / "data", **redis_env(own_redis.url())) as base, \
            client(base) as http:
        before = http.post("/api/runs", json=tiny_run())
        assert before.status_code == 201 and before.json()["queue_position"] == 1
        own_redis.stop()
        asked = time.monotonic()
        refused = http.post("/api/runs", json=tiny_run())
        assert time.monotonic() - asked < 3  # short timeouts: an answer, not a hang
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        assert "Redis" in refused.json()["detail"] and "try again" in refused.json()["detail"]
        health = wait_for(lambda: (h := http.get("/api/health").json())["executor"]["redis"]
                          == "unreachable" and h, timeout=5)
        assert health["ok"] is False and health["executor"]["state"] == "degraded"
        assert "Redis at redis://127.0.0.1" in health["executor"]["error"]

        own_redis.start()
        wait_for(lambda: http.get("/api/health").json()["executor"]["redis"] == "ok", timeout=10)
        assert http.post("/api/runs", json=tiny_run()).status_code == 201
        # The restarted Redis kept nothing (no persistence here): the run queued before the
        # outage is gone from RQ, and ends failed with the reason instead of waiting forever.
        lost = wait_for(lambda: (r := http.get(f"/api/runs/{before.json()['id']}").json())
                        ["status"] != "queued" and r, timeout=HEARTBEAT_TTL + 10)
        assert lost["status"] == "failed" and "vanished from Redis" in lost["error"]
