"""A full disk or a locked database, as the API answers it: a clear 503, never a crash."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.helpers import app_client, tiny_run

ADMIN = {"Authorization": "Bearer store-admin"}  # the admin has no per-visitor run limit


def test_a_full_disk_answers_503_with_the_reason_and_the_server_recovers(tmp_path: Path) -> None:
    with app_client(tmp_path, admin_token="store-admin") as http:
        store = http.app.state.service.store
        assert http.post("/api/runs", json=tiny_run(), headers=ADMIN).status_code == 201
        # SQLite's page cap gives the very error a full disk gives ("database or disk is full").
        pages = store._writer.execute("PRAGMA page_count").fetchone()[0]
        store._writer.execute(f"PRAGMA max_page_count={pages}")
        codes = []
        for _ in range(300):  # until the free space inside the file is used up
            response = http.post("/api/runs", json={**tiny_run(), "name": "x" * 100},
                                 headers=ADMIN)
            codes.append(response.status_code)
            if response.status_code != 201:
                break
        assert codes[-1] == 503, codes
        assert "database or disk is full" in response.json()["detail"]
        assert int(response.headers["Retry-After"]) > 0
        health = http.get("/api/health").json()
        assert health["store"]["state"] == "error"
        assert "full" in health["store"]["error"]
        listed = http.get("/api/runs")  # reading still works
        assert listed.status_code == 200 and len(listed.json()) == len(codes)
        store._writer.execute("PRAGMA max_page_count=1073741823")  # space again
        assert http.post("/api/runs", json=tiny_run(), headers=ADMIN).status_code == 201
        health = http.get("/api/health").json()
        assert health["store"] == {"state": "ok", "error": None}


def test_a_locked_database_answers_503_then_works_again(tmp_path: Path) -> None:
    with app_client(tmp_path) as http:
        store = http.app.state.service.store
        store.busy_timeout_ms = 100
        store._writer.execute("PRAGMA busy_timeout=100")
        blocker = sqlite3.connect(store.path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # another program holds the file
        try:
            response = http.post("/api/runs", json=tiny_run())
            assert response.status_code == 503
            assert "database is locked" in response.json()["detail"]
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert http.post("/api/runs", json=tiny_run()).status_code == 201
        assert http.get("/api/health").json()["store"]["state"] == "ok"
