"""Level of detail (server/lod.py, server/detail.py): bounded snapshots and ranges that keep
every layer's extremes, and clear answers to bad input."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed

from server.lod import SUMMARY_FIELDS, columns_of, summarize
from server.store import RunStore
from tests.helpers import client, open_ws, run_server, wait_for

FIXTURES = Path(__file__).parent / "fixtures"
# SGD at a learning rate of 2 on a 4-layer MLP: gradient norms spike to ~100× their median.
SPIKY = {"dataset": {"name": "spirals", "n_samples": 400}, "seed": 2,
         "model": {"depth": 4, "width": 16},
         "training": {"optimizer": "sgd", "learning_rate": 2.0, "epochs": 4, "batch_size": 8}}


def expected(history: dict[str, list[Any]], summary: dict[str, Any], field: str) -> None:
    """Every bucket's max, min and last of every layer equal the exact steps' (brute force)."""
    steps = history["step"]
    for b in range(summary["buckets"]):
        rows = [history[field][i] for i, s in enumerate(steps)
                if summary["first_step"][b] <= s <= summary["last_step"][b]]
        assert len(rows) == summary["count"][b]
        for layer in range(len(rows[0])):
            values = [r[layer] for r in rows if r[layer] is not None]
            assert summary[field]["max"][b][layer] == max(values)
            assert summary[field]["min"][b][layer] == min(values)
            assert summary[field]["last"][b][layer] == rows[-1][layer]


@pytest.mark.parametrize("buckets", [1, 7, 50, 1000])
def test_summaries_from_the_store_and_from_memory_agree_with_the_steps(v1_store: RunStore,
                                                                     buckets: int) -> None:
    history = v1_store.history("mlp")
    stored = summarize(v1_store.arrays("mlp", SUMMARY_FIELDS), buckets)
    assert stored == summarize(columns_of(history, SUMMARY_FIELDS), buckets)
    assert stored["buckets"] == min(buckets, len(history["step"]))
    assert sum(stored["count"]) == len(history["step"])
    for field in ("grad_norms", "clipped_grad_norms", "weight_norms"):
        expected(history, stored, field)


def test_missing_and_non_finite_values_are_left_out_of_the_extremes(v1_store: RunStore) -> None:
    summary = summarize(v1_store.arrays("ragged", SUMMARY_FIELDS), 1)
    assert summary["grad_norms"]["max"] == [[1.0, 2.0, 3.0]]  # inf, null and a short row
    assert summary["loss"] == {"max": [0.1], "min": [0.1], "last": [None]}
    assert summary["clipped_grad_norms"] is None


async def _snapshot(url: str, run_id: str, http: Any, query: str) -> dict[str, Any]:
    async with open_ws(url + "", f"{run_id}{query}", http) as ws:
        return json.loads(await ws.recv())


@pytest.mark.slow
def test_buckets_keep_every_layers_max_and_min_of_a_real_run_with_a_spike(tmp_path: Path) -> None:
    with run_server(tmp_path) as url, client(url) as http:
        rid = http.post("/api/runs", json=SPIKY).json()["id"]
        run = wait_for(lambda: (r := http.get(f"/api/runs/{rid}").json())["status"]
                       not in ("queued", "running") and r, timeout=180)
        assert run["status"] == "completed", run["error"]
        full = http.get(f"/api/runs/{rid}/metrics").json()
        grads = np.array(full["grad_norms"], dtype=float)
        assert (grads.max(0) / np.median(grads, 0)).max() > 20  # the run does spike
        query = "?buckets=40&metrics=grad_norms,weight_norms"
        frame = asyncio.run(_snapshot(url, rid, http, query))
        n = len(full["step"])
        assert frame["history"]["step"] == full["step"][-40:]  # the recent steps exact
        summary = frame["summary"]
        assert summary["last_step"][-1] == full["step"][n - 41]
        head = {k: v[:n - 40] for k, v in full.items()}
        expected(head, summary, "grad_norms")
        expected(head, summary, "weight_norms")
        assert "update_ratios" not in summary  # only what was asked
        # Over the whole run, as the page's heatmap would show it: per layer, the same extremes.
        whole = http.get(f"/api/runs/{rid}/history", params={"buckets": 25}).json()
        assert whole["count"] == n
        assert np.max(whole["summary"]["grad_norms"]["max"], 0).tolist() == grads.max(0).tolist()
        assert np.min(whole["summary"]["grad_norms"]["min"], 0).tolist() == grads.min(0).tolist()
        # A zoomed range comes exact, as the download has it.
        zoom = http.get(f"/api/runs/{rid}/history", params={"first": 10, "last": 30}).json()
        assert zoom["history"]["grad_norms"] == full["grad_norms"][10:31]
        # A short run's snapshot is the whole history, as without buckets.
        plain = asyncio.run(_snapshot(url, rid, http, ""))
        assert plain["history"] == full and "summary" not in plain
        big = asyncio.run(_snapshot(url, rid, http, "?buckets=5000"))
        assert big["history"] == full and "summary" not in big


def test_bad_detail_requests_get_a_clear_4xx(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "store-v1.db", tmp_path / "gradwatch.db")
    with run_server(tmp_path, GRADWATCH_WORKERS="0") as url, client(url) as http:
        for params in ({"buckets": -1}, {"buckets": 0}, {"buckets": 10**9}, {"buckets": "x"},
                       {"first": 5000}, {"first": -3}, {"first": 20, "last": 10},
                       {"metrics": "grad_norms,bogus"}):
            answer = http.get("/api/runs/mlp/history", params=params)
            assert answer.status_code == 422, (params, answer.text)
            assert answer.json()["detail"]
        assert "last recorded step is 159" in http.get(
            "/api/runs/mlp/history", params={"first": 5000}).text
        assert http.get("/api/runs/nope/history").status_code == 404
        ok = http.get("/api/runs/mlp/history", params={"buckets": 10}).json()
        assert ok["summary"]["buckets"] == 10 and ok["count"] == 160

        async def refused(query: str) -> int:
            async with open_ws(url, f"mlp{query}", http) as ws:
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
                return closed.value.rcvd.code

        for query in ("?buckets=0", "?buckets=-5", "?buckets=abc", "?metrics=nope"):
            assert asyncio.run(refused(query)) == 4422, query


def test_deleting_a_run_forgets_its_kept_bounded_snapshots() -> None:
    from server.snapshots import SnapshotCache

    cache = SnapshotCache(1000)
    for key in ("r", "r?buckets=625&metrics=loss", "r2?buckets=625&metrics=loss", "rr"):
        cache.put(key, "x" * 10)
    cache.drop("r")
    assert [k for k in ("r", "r?buckets=625&metrics=loss", "r2?buckets=625&metrics=loss", "rr")
            if cache.get(k, count=False) is not None] == ["r2?buckets=625&metrics=loss", "rr"]
    assert cache.stats()["bytes"] == 20
