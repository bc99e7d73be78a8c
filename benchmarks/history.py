"""History: a 50,000-step run's recorded history stays bounded and keeps its extremes, and its
snapshot reaches a new viewer fast.

The 50,000 steps come from a real run on the real server (a tiny model: spirals, one hidden
layer of 8, batch 10, 1,000 steps an epoch for 50 epochs), not from steps fed to the store.
One viewer watches from the start and keeps every step it is sent; once the run ends, the
stored history is checked against it (each layer's largest and smallest gradient norm must
survive thinning). A new viewer's snapshot is timed from opening the socket to having received
the whole snapshot frame (median of TRIALS), near the end of the run (from memory, while it
trains) and after it: the first viewer after the end reads it from SQLite and encodes it, the
next ones get the encoded copy the server keeps of an ended run (`server/snapshots.py`). The
baseline is the same measurement for a 1,000-step run of the same model on the same server.
A second figure does the same for a deeper model (10 hidden layers, 13,000 steps), whose
snapshot is about four times larger per step.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

from benchmarks.live import LiveServer, live_server
from benchmarks.viewers import Viewer, watch

TRIALS = 5
MODEL = {"dataset": {"name": "spirals", "n_samples": 12500}, "model": {"depth": 1, "width": 8}}
LONG = {"name": "history benchmark", **MODEL, "training": {"epochs": 50, "batch_size": 10}}
SHORT = {"name": "history baseline", **MODEL, "training": {"epochs": 1, "batch_size": 10}}
DEEP = {"name": "history benchmark, deep", "dataset": MODEL["dataset"],
        "model": {"depth": 10, "width": 8}, "training": {"epochs": 13, "batch_size": 10}}
TARGET_MS = 200
# The small size `make test` runs (tests/test_benchmarks.py): module constants overridden.
SMOKE = {"TRIALS": 1,
         "LONG": {"name": "history smoke", **MODEL, "training": {"epochs": 1, "batch_size": 100}},
         "SHORT": {"name": "history smoke baseline", **MODEL,
                   "training": {"epochs": 1, "batch_size": 500}},
         "DEEP": {"name": "history smoke, deep", "dataset": MODEL["dataset"],
                  "model": {"depth": 2, "width": 8}, "training": {"epochs": 1, "batch_size": 500}}}


async def _snapshot(server: LiveServer, run_id: str, http: Any) -> tuple[float, str]:
    start = time.perf_counter()
    async with server.ws(run_id, http) as ws:
        text = await ws.recv()
    return time.perf_counter() - start, text


async def _snapshots(server: LiveServer, run_id: str, http: Any) -> tuple[float, str, float]:
    """Median seconds of TRIALS snapshots after the first, the last snapshot's text, and the
    first one's seconds."""
    times = []
    for _ in range(TRIALS + 1):
        seconds, text = await _snapshot(server, run_id, http)
        times.append(seconds)
    return statistics.median(times[1:]), text, times[0]


def _extremes(history: dict[str, list[Any]]) -> list[tuple[float, float]]:
    columns = zip(*[row for row in history["grad_norms"] if row])
    return [(max(c), min(c)) for c in columns]


def _sent_history(viewer: Viewer) -> dict[str, list[Any]]:
    rows: list[dict[str, Any]] = []
    for _, text in viewer.frames:
        frame = json.loads(text)
        if frame["type"] == "snapshot":
            rows += [{"step": s, "grad_norms": g} for s, g in
                     zip(frame["history"]["step"], frame["history"]["grad_norms"])]
        elif frame["type"] == "metrics":
            rows += frame["items"]
    return {"step": [r["step"] for r in rows], "grad_norms": [r["grad_norms"] for r in rows]}


async def _measure(server: LiveServer) -> dict[str, Any]:
    with server.visitor() as http:
        short_id = server.start_run(http, SHORT)
        server.wait_final(http, short_id)
        baseline, _, _ = await _snapshots(server, short_id, http)

        run_id = server.start_run(http, LONG)
        viewer = Viewer()
        watcher = asyncio.create_task(watch(server, run_id, http, viewer))
        total = http.get(f"/api/runs/{run_id}").json()["progress"]["total_steps"]
        while http.get(f"/api/runs/{run_id}").json()["progress"]["step"] < 0.9 * total:
            await asyncio.sleep(0.5)
        live, live_text, _ = await _snapshots(server, run_id, http)
        await asyncio.wait_for(watcher, 1800)
        run = http.get(f"/api/runs/{run_id}").json()
        stored, stored_text, first = await _snapshots(server, run_id, http)
    history = json.loads(stored_text)["history"]
    sent = _sent_history(viewer)
    return {"run": run, "total": total, "baseline": baseline, "live": live, "stored": stored,
            "stored_first": first,
            "live_steps": len(json.loads(live_text)["history"]["step"]),
            "stored_steps": len(history["step"]), "bytes": len(stored_text),
            "sent_steps": len(sent["step"]),
            "extremes_kept": _extremes(history) == _extremes(sent)}


async def _measure_deep(server: LiveServer) -> dict[str, Any]:
    with server.visitor() as http:
        run_id = server.start_run(http, DEEP)
        run = server.wait_final(http, run_id, timeout=900)
        stored, text, first = await _snapshots(server, run_id, http)
    return {"run": run, "stored": stored, "stored_first": first, "bytes": len(text),
            "stored_steps": len(json.loads(text)["history"]["step"])}


def run() -> list[dict[str, Any]]:
    """The history figures."""
    with live_server(workers=1) as server:
        limit = 20000  # Settings.history_max_steps default
        r = asyncio.run(_measure(server))
        d = asyncio.run(_measure_deep(server))
    return [{
        "bench": "history", "steps": r["run"]["progress"]["step"], "status": r["run"]["status"],
        "run_seconds": round(r["run"]["finished_at"] - r["run"]["started_at"], 1),
        "steps_sent_live": r["sent_steps"], "steps_stored": r["stored_steps"],
        "history_limit": limit, "bounded": r["stored_steps"] <= limit,
        "extremes_kept": r["extremes_kept"], "snapshot_bytes": r["bytes"],
        "snapshot_live_ms": round(r["live"] * 1000, 1),
        "snapshot_live_steps": r["live_steps"],
        "snapshot_stored_first_viewer_ms": round(r["stored_first"] * 1000, 1),
        "snapshot_stored_ms": round(r["stored"] * 1000, 1),
        "baseline_snapshot_1000_steps_ms": round(r["baseline"] * 1000, 1),
        "ratio_stored_to_baseline": round(r["stored"] / r["baseline"], 2),
        "target_ms": TARGET_MS,
        "ratio_to_target": round(max(r["live"], r["stored"], r["stored_first"]) * 1000
                                 / TARGET_MS, 3),
    }, {
        "bench": "history", "model": "10 hidden layers", "steps": d["run"]["progress"]["step"],
        "status": d["run"]["status"], "steps_stored": d["stored_steps"],
        "snapshot_bytes": d["bytes"],
        "snapshot_stored_first_viewer_ms": round(d["stored_first"] * 1000, 1),
        "snapshot_stored_ms": round(d["stored"] * 1000, 1), "target_ms": TARGET_MS,
        "ratio_to_target": round(max(d["stored"], d["stored_first"]) * 1000 / TARGET_MS, 3),
    }]
