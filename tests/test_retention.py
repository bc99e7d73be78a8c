"""Retention: only the newest `keep_runs` finished runs (and `keep_days` of them) are kept."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from server.hub import Hub
from server.retention import Retention
from server.store import RunStore
from tests.helpers import app_client, tiny_run, wait_for
from trainer.contract.protocol import GONE_CODE


def make_run(run_id: str, status: str, created: float, finished: float | None = None) -> dict:
    return {"id": run_id, "owner": "v1", "name": run_id, "status": status, "config": {},
            "parent_id": None, "created_at": created, "finished_at": finished,
            "progress": {"step": 0, "epoch": 0, "total_steps": 1}}


def step(i: int) -> dict:
    return {"step": i, "epoch": 0, "loss": 0.5, "t": 1.0, "grad_norms": [1.0]}


def test_oldest_finished_runs_go_first_and_active_ones_never(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "gradwatch.db")
    store.open()
    try:
        now = time.time()
        store.insert_run(make_run("queued-oldest", "queued", now - 1000))
        store.insert_run(make_run("running-old", "running", now - 900))
        for i, status in enumerate(["completed", "failed", "stopped", "diverged", "completed"]):
            store.insert_run(make_run(f"f{i}", status, now - 500 + i, now - 400 + i))
            store.append_steps(f"f{i}", [step(0), step(1)])
            store.append_epoch(f"f{i}", {"type": "epoch", "epoch": 0})
        store.flush()
        assert store.expired_runs(keep=5, finished_before=None) == []
        assert store.expired_runs(keep=0, finished_before=None) == []
        hub = Hub()
        viewer = hub.subscribe("f0")
        deleted = asyncio.run(Retention(store, hub, keep_runs=2, keep_days=0).prune_now())
        assert sorted(deleted) == ["f0", "f1", "f2"]
        left = {r["id"] for r in store.list_runs()}
        assert left == {"queued-oldest", "running-old", "f3", "f4"}
        assert store.history("f0")["step"] == [] and store.epochs("f0") == []
        assert store.history("f4")["step"] == [0, 1]
        assert viewer.close_code == GONE_CODE  # its socket is told the run is gone
        with sqlite3.connect(store.path) as db:
            assert db.execute("SELECT SUM(count) FROM step_chunks").fetchone()[0] == 4
    finally:
        store.close()


def test_runs_finished_more_than_keep_days_ago_are_deleted(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "gradwatch.db")
    store.open()
    try:
        now = time.time()
        store.insert_run(make_run("ancient", "completed", now - 10 * 86400, now - 10 * 86400))
        store.insert_run(make_run("week-old", "stopped", now - 7 * 86400, now - 7 * 86400))
        store.insert_run(make_run("fresh", "completed", now - 60, now - 30))
        store.insert_run(make_run("queued-ancient", "queued", now - 30 * 86400))
        retention = Retention(store, Hub(), keep_runs=0, keep_days=8)
        assert retention.prune() == ["ancient"]
        retention.keep_days = 1.5
        assert retention.prune() == ["week-old"]
        assert {r["id"] for r in store.list_runs()} == {"fresh", "queued-ancient"}
    finally:
        store.close()


def test_the_server_prunes_when_runs_end_and_when_it_starts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with app_client(data, keep_runs=2) as http:
        waiting = http.post("/api/runs", json=tiny_run()).json()["id"]
        ended = []
        for _ in range(4):
            rid = http.post("/api/runs", json=tiny_run()).json()["id"]
            assert http.post(f"/api/runs/{rid}/stop").status_code == 202
            ended.append(rid)
        listed = wait_for(lambda: (ids := [r["id"] for r in http.get("/api/runs").json()])
                          and len(ids) == 3 and ids, timeout=10)
        assert listed == [ended[3], ended[2], waiting]  # newest first; the queued one stays
        assert http.get(f"/api/runs/{ended[0]}").status_code == 404
    with sqlite3.connect(data / "gradwatch.db") as db:  # age one of the two kept runs
        db.execute("UPDATE runs SET finished_at = ? WHERE id = ?",
                   (time.time() - 3 * 86400, ended[2]))
    with app_client(data, keep_runs=2, keep_days=2) as http:
        ids = [r["id"] for r in http.get("/api/runs").json()]
        # The restart failed the queued run (it was cut off); both limits then apply at once.
        assert ended[2] not in ids and ended[3] in ids and waiting in ids
        assert http.get(f"/api/runs/{waiting}").json()["status"] == "failed"
