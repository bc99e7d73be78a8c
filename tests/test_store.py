"""RunStore on a real SQLite file: runs, batched steps, thinning drops, and failures."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from server.store import RUN_COLUMNS, RunStore, StoreError
from trainer.contract.schemas import Run


def make_run(run_id: str, owner: str = "v1", status: str = "queued", created: float = 0.0):
    return {"id": run_id, "owner": owner, "name": f"run {run_id}", "status": status,
            "config": {"seed": 1}, "parent_id": None, "created_at": created or time.time(),
            "progress": {"step": 0, "epoch": 0, "total_steps": 10}}


def step(i: int, loss: float = 0.5) -> dict:
    return {"step": i, "epoch": 0, "loss": loss, "t": 1.0 + i, "grad_norms": [1.0, 2.0],
            "weight_norms": [3.0, 4.0], "update_ratios": [0.1, 0.2]}


@pytest.fixture
def store(tmp_path: Path):
    s = RunStore(tmp_path / "gradwatch.db", flush_interval=0.05)
    s.open()
    yield s
    s.close()


def test_runs_round_trip_newest_first(store: RunStore) -> None:
    store.insert_run(make_run("a", created=1.0))
    store.insert_run(make_run("b", created=2.0))
    store.update_run("a", status="running", layers=[{"name": "dense"}], started_at=5.0)
    a = store.get_run("a")
    assert a["status"] == "running" and a["layers"] == [{"name": "dense"}]
    assert a["config"] == {"seed": 1} and a["started_at"] == 5.0
    assert [r["id"] for r in store.list_runs()] == ["b", "a"]
    assert store.get_run("missing") is None
    assert store.count_active("v1") == 2 and store.count_queued() == 1


def test_wal_mode(store: RunStore) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_steps_are_batched_and_flushed_in_order(store: RunStore) -> None:
    store.insert_run(make_run("a"))
    store.append_steps("a", [step(0), step(1)])
    store.append_steps("a", [step(2, loss=float("nan"))])
    store.drop_steps("a", [1])
    store.append_epoch("a", {"type": "epoch", "epoch": 0, "loss": 0.4})
    store.flush()
    history = store.history("a")
    assert history["step"] == [0, 2]
    assert history["loss"] == [0.5, None]  # stored as strict JSON: NaN became null
    assert history["grad_norms"] == [[1.0, 2.0], [1.0, 2.0]]
    assert history["clipped_grad_norms"] == [None, None]
    assert store.epochs("a")[0]["loss"] == 0.4


def test_writer_thread_flushes_without_being_asked(store: RunStore) -> None:
    store.insert_run(make_run("a"))
    store.append_steps("a", [step(0)])
    store.set_later("a", progress={"step": 1, "epoch": 0, "total_steps": 10})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not store.history("a")["step"]:
        time.sleep(0.02)
    assert store.history("a")["step"] == [0]
    assert store.get_run("a")["progress"]["step"] == 1


def test_one_transaction_per_batch_not_per_step(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "gradwatch.db", flush_interval=3600)  # only explicit flushes
    store.open()
    store.insert_run(make_run("a"))
    statements: list[str] = []
    store._writer.set_trace_callback(statements.append)
    for i in range(500):
        store.append_steps("a", [step(i)])
    store.flush()
    store._writer.set_trace_callback(None)
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert len(store.history("a")["step"]) == 500
    store.close()


def test_delete_removes_history(store: RunStore) -> None:
    store.insert_run(make_run("a", status="completed"))
    store.append_steps("a", [step(0)])
    assert store.delete_run("a") is True
    assert store.get_run("a") is None and store.history("a")["step"] == []
    assert store.delete_run("a") is False


def test_fail_interrupted_marks_only_unfinished_runs(store: RunStore) -> None:
    store.insert_run(make_run("q", status="queued"))
    store.insert_run(make_run("r", status="running"))
    store.insert_run(make_run("c", status="completed"))
    assert store.fail_interrupted("interrupted by a server restart") == 2
    assert store.get_run("q")["status"] == "failed"
    assert store.get_run("r")["error"] == "interrupted by a server restart"
    assert store.get_run("c")["status"] == "completed"


def test_stream_position_is_written_with_the_records_before_it(store: RunStore) -> None:
    store.insert_run(make_run("q", status="queued", created=2.0))
    store.insert_run(make_run("r", status="running", created=1.0))
    store.insert_run(make_run("c", status="completed"))
    assert [r["id"] for r in store.active_runs()] == ["r", "q"]  # oldest first
    store.append_steps("r", [step(0), step(1)])
    store.set_stream_position("r", "1700000000000-5")
    assert store.stream_position("r") is None  # buffered, like the steps it follows
    store.flush()
    assert store.stream_position("r") == "1700000000000-5"
    assert store.history("r")["step"] == [0, 1]
    store.set_stream_position("r", "1700000000001-0")
    store.flush()
    assert store.stream_position("r") == "1700000000001-0"
    store.update_run("r", status="completed")
    assert store.delete_run("r") and store.stream_position("r") is None


def test_full_disk_is_a_store_error_not_a_crash(store: RunStore) -> None:
    store.insert_run(make_run("a"))
    # SQLite's page cap makes the database "full", the same error a full disk gives.
    pages = store._writer.execute("PRAGMA page_count").fetchone()[0]
    store._writer.execute(f"PRAGMA max_page_count={pages}")
    store.append_steps("a", [step(i) for i in range(2000)])
    with pytest.raises(StoreError, match="full"):
        store.flush()
    assert store.last_error is not None
    with pytest.raises(StoreError):
        store.insert_run(make_run("b" * 5000))
    assert store.get_run("a")["status"] == "queued"  # reads still work


def test_locked_database_is_a_store_error(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "gradwatch.db", busy_timeout_ms=100)
    store.open()
    try:
        blocker = sqlite3.connect(store.path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreError, match="locked"):
            store.insert_run(make_run("a"))
        blocker.execute("ROLLBACK")
        blocker.close()
        store.insert_run(make_run("a"))
        assert store.get_run("a") is not None
    finally:
        store.close()


def test_the_runs_table_has_a_column_for_every_stored_field_of_the_contracts_run(
        store: RunStore) -> None:
    columns = {r[1] for r in sqlite3.connect(store.path).execute("PRAGMA table_info(runs)")}
    assert columns == set(RUN_COLUMNS)
    assert set(RUN_COLUMNS) - {"owner"} <= set(Run.model_fields)
