"""Steps packed in chunks: what is read back is what was written, in little space, given back."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from benchmarks.synthetic import disk_bytes, write_run
from server.store import RunStore
from server.store.chunks import CHUNK_STEPS
from server.thinning import Thinner
from trainer.contract.protocol import dumps

FIXTURES = Path(__file__).parent / "fixtures"


def open_store(path: Path) -> RunStore:
    store = RunStore(path / "gradwatch.db", flush_interval=3600)  # explicit flushes only
    store.open()
    return store


def run_row(run_id: str) -> dict:
    return {"id": run_id, "owner": "v", "name": run_id, "status": "completed", "config": {},
            "parent_id": None, "created_at": 1.0}


def test_a_database_of_the_previous_version_migrates_and_serves_its_runs_unchanged(
        tmp_path: Path) -> None:
    # store-v1.db was written by the code before chunks (one JSON row per step); the .json
    # files are the histories that code served from it.
    shutil.copy(FIXTURES / "store-v1.db", tmp_path / "gradwatch.db")
    before = sqlite3.connect(tmp_path / "gradwatch.db")
    epochs = before.execute("SELECT run_id, epoch, data FROM epochs ORDER BY 1, 2").fetchall()
    runs = before.execute("SELECT * FROM runs ORDER BY id").fetchall()
    before.close()
    store = open_store(tmp_path)
    for run_id in ("mlp", "rnn", "ragged", "thinned"):
        assert dumps(store.history(run_id)) == \
            (FIXTURES / f"store-v1-{run_id}.json").read_text(), run_id
    store.close()
    after = sqlite3.connect(tmp_path / "gradwatch.db")
    assert after.execute("SELECT run_id, epoch, data FROM epochs ORDER BY 1, 2").fetchall() \
        == epochs
    assert after.execute("SELECT * FROM runs ORDER BY id").fetchall() == runs
    tables = {r[0] for r in after.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "steps" not in tables and "step_chunks" in tables
    assert after.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
    after.close()
    again = open_store(tmp_path)  # opening it again changes nothing
    assert dumps(again.history("mlp")) == (FIXTURES / "store-v1-mlp.json").read_text()
    again.close()


def test_values_come_back_as_written(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.insert_run(run_row("a"))
    doubles = [0.1, 1 / 3, 1e-300]  # a script's figures need float64; the probe's float32
    singles = np.float32([0.25, 1.1, 3e-5]).tolist()
    items = [
        {"step": 0, "epoch": 0, "loss": 0.7, "t": 1.7e9 + 0.123456, "grad_norms": doubles,
         "weight_norms": singles, "update_ratios": [None, float("inf"), -0.0]},
        {"step": 5, "epoch": 1, "loss": float("nan"), "t": 2.0, "grad_norms": [1.0],
         "weight_norms": singles, "update_ratios": [], "time_grad_norms": [1.0, 2.0]},
    ]
    store.append_steps("a", items)
    store.flush()
    h = store.history("a")
    assert h["step"] == [0, 5] and h["epoch"] == [0, 1]
    assert h["loss"] == [0.7, None] and h["t"] == [1.7e9 + 0.123456, 2.0]
    assert h["grad_norms"] == [doubles, [1.0]]
    assert h["weight_norms"] == [singles, singles]
    assert h["update_ratios"] == [[None, None, -0.0], []]
    assert h["clipped_grad_norms"] == [None, None]
    assert h["time_grad_norms"] == [None, [1.0, 2.0]]
    store.close()


def test_steps_fill_chunks_and_drops_and_replacements_apply_in_order(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.insert_run(run_row("a"))
    step = {"epoch": 0, "loss": 0.5, "t": 1.0, "grad_norms": [1.0, 2.0],
            "weight_norms": [1.0, 2.0], "update_ratios": [0.5, 0.5]}
    total = 3 * CHUNK_STEPS + 10
    for start in range(0, total, 7):  # small flushes, as a live run's
        store.append_steps("a", [{**step, "step": s} for s in range(start, min(start + 7, total))])
        store.flush()
    store.append_steps("a", [{**step, "step": 3, "loss": 0.25}])  # a step written again
    store.drop_steps("a", list(range(1, total, 2)))
    store.append_steps("a", [{**step, "step": 1}])  # written after its drop: kept
    store.flush()
    h = store.history("a")
    assert h["step"] == [0, 1] + list(range(2, total, 2))
    assert h["loss"][:2] == [0.5, 0.5]
    conn = sqlite3.connect(store.path)
    counts = [r[0] for r in conn.execute("SELECT count FROM step_chunks ORDER BY first_step")]
    conn.close()
    assert sum(counts) == len(h["step"])
    pages = list(store.history_pages("a", ("step",), page=CHUNK_STEPS))
    assert [s for p in pages for s in p["step"]] == h["step"] and len(pages) == len(counts)
    store.close()


@pytest.mark.parametrize("n_layers", [11, 64])
def test_a_layer_step_takes_at_most_64_bytes(tmp_path: Path, n_layers: int) -> None:
    store = open_store(tmp_path)
    empty = disk_bytes(tmp_path)
    write_run(store, "r", 3000, n_layers)
    store.close()
    per_layer_step = (disk_bytes(tmp_path) - empty) / 3000 / n_layers
    assert per_layer_step <= 64, per_layer_step


def test_deleting_and_thinning_give_the_space_back(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.close()
    empty = disk_bytes(tmp_path)
    store = open_store(tmp_path)
    write_run(store, "r", 8000, 11)
    write_run(store, "s", 8000, 11, seed=1)
    store.close()  # the measures are taken closed: the write-ahead log folded in
    full = disk_bytes(tmp_path)
    store = open_store(tmp_path)
    history = store.history("r")
    store.drop_steps("r", Thinner(2000).thin(history))
    store.close()
    thinned = disk_bytes(tmp_path)
    one_run = (full - empty) / 2
    due = one_run * (1 - len(history["step"]) / 8000)  # the dropped steps' share of the run
    assert full - thinned >= 0.9 * due, (full, thinned, due)
    store = open_store(tmp_path)
    assert store.history("r")["step"] == history["step"]
    assert store.delete_run("s")
    store.close()
    assert thinned - disk_bytes(tmp_path) >= 0.9 * one_run
