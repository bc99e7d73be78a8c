"""A class's runs on a real server: 30 students start 3 presets at once, worker cache off then on.

Each pass is a real `python -m server` (local executor, `WORKERS` warm workers, one TensorFlow
thread each), first with the workers' cache of traced models off (`GRADWATCH_MODEL_CACHE=0`),
then on (its default bounds). `STUDENTS` students per preset, each a visitor of their own with
their own seed and learning rate, POST their runs together and watch them on a websocket until
they end. The cache-on pass starts cold: each worker's first run of a preset builds and traces.

Figures per pass:
- the class's wall time (first POST to the last run's final status) and runs per core-minute,
  twice: per CPU-minute of the worker processes (user + system, from /proc) and per minute of
  wall time × workers;
- POST → first step on the student's socket (queueing included: 30 runs on 2 workers), and the
  worker's start of the run (the server's `started_at`) → first step on the socket;
- the gap between consecutive steps, from the steps' own finishing times (`t`, the worker's
  clock): what stalls training, whatever the socket's 20 ms batching; validation after each
  epoch is in it;
- after the class, `PROBES` runs one at a time on idle workers (a preset the workers have
  trained, a new seed): POST → first step, against a cold `import tensorflow` measured in the
  same command while no server runs.

Warm or cold: the server does not say which worker trained a run, so it is inferred from the
runs' `started_at` and `finished_at`: a worker takes the next queued run as soon as its run
ends, so the run started at s went to the free worker whose run ended last before s. A run is
warm when the cache is on and its worker has finished that preset before.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from typing import Any

import httpx
import numpy as np

from benchmarks.live import FINAL, LiveServer, cold_import_seconds, live_server
from benchmarks.students import class_mix
from tests.helpers import open_ws

PRESET_IDS = ("vanishing-sigmoid", "fixed-relu-he", "fixed-batchnorm")
STUDENTS = 10  # per preset: 30 runs
WORKERS = 2
PROBES = 6
IMPORTS = 3
EPOCHS: int | None = None  # the presets' own
GOALS = {"runs_per_core_minute_on_over_off": ">= 3", "step_gap_p95_warm_s": "<= 0.05",
         "step_gap_p95_cold_s": "<= 0.25", "probe_first_step_p95_warm_over_import": "<= 0.05"}
# The small size `make test` runs (tests/test_benchmarks.py): module constants overridden.
SMOKE = {"STUDENTS": 1, "PROBES": 1, "IMPORTS": 1, "EPOCHS": 1,
         "PRESET_IDS": ("vanishing-sigmoid",)}


def class_configs(students: int, seed0: int = 100) -> list[tuple[str, dict[str, Any]]]:
    """(preset id, config) of every student's run: presets interleaved, as a class posts."""
    return class_mix(PRESET_IDS, students, seed0, EPOCHS)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _steps(frame: dict[str, Any]) -> list[tuple[int, float]]:
    """(step, finishing time) of the steps a websocket frame carries."""
    if frame["type"] == "metrics":
        return [(item["step"], item["t"]) for item in frame["items"]]
    if frame["type"] == "snapshot":
        return list(zip(frame["history"]["step"], frame["history"]["t"], strict=True))
    return []


async def _student(url: str, preset: str, config: dict[str, Any],
                   stop_after_first: bool = False) -> dict[str, Any]:
    """One visitor's run: POST, watch it on its socket to the end; its timings."""
    async with httpx.AsyncClient(base_url=url, timeout=60, trust_env=False) as http:
        posted = time.time()
        response = await http.post("/api/runs", json=config)
        response.raise_for_status()
        run_id = response.json()["id"]
        steps: list[tuple[int, float]] = []
        first = None
        async with open_ws(url, run_id, http) as ws:
            async for text in ws:
                frame = json.loads(text)
                steps += _steps(frame)
                if steps and first is None:
                    first = time.time()
                    if stop_after_first:
                        (await http.post(f"/api/runs/{run_id}/stop")).raise_for_status()
                if frame["type"] == "status" and frame["status"] in FINAL:
                    break
        ended = time.time()
        run = (await http.get(f"/api/runs/{run_id}")).json()
    assert first is not None, f"run {run_id} ({preset}) ended {run['status']} without a step"
    return {"preset": preset, "status": run["status"], "posted": posted, "first": first,
            "ended": ended, "started_at": run["started_at"], "finished_at": run["finished_at"],
            "steps": sorted(dict(steps).items())}


def assign_workers(runs: list[dict[str, Any]], workers: int) -> None:
    """Set each run's `worker` (0..workers-1) and `warm_key` (its worker finished that preset
    before) from the runs' start and finish times (see the module's docstring)."""
    free_since = [0.0] * workers
    busy_until = [0.0] * workers
    seen: list[set[str]] = [set() for _ in range(workers)]
    for run in sorted(runs, key=lambda r: r["started_at"]):
        free = [w for w in range(workers) if busy_until[w] <= run["started_at"]]
        worker = max(free or range(workers), key=lambda w: free_since[w])
        run["worker"], run["warm_key"] = worker, run["preset"] in seen[worker]
        seen[worker].add(run["preset"])
        busy_until[worker] = free_since[worker] = run["finished_at"]


def _p95(values: list[float]) -> float | None:
    return round(float(np.percentile(values, 95)), 3) if values else None


def _gaps(runs: list[dict[str, Any]]) -> list[float]:
    """Gaps between consecutive steps' finishing times, over every run given."""
    gaps = []
    for run in runs:
        for (step, t), (step_next, t_next) in zip(run["steps"], run["steps"][1:]):
            if step_next == step + 1:
                gaps.append(t_next - t)
    return gaps


async def _class(url: str) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(_student(url, preset, config)
                                       for preset, config in class_configs(STUDENTS))))


async def _probes(url: str) -> list[float]:
    """POST → first step of runs posted one at a time, each a new seed of a trained preset."""
    waits = []
    for j in range(PROBES):
        preset, config = class_configs(1, seed0=1000 + j)[j % len(PRESET_IDS)]
        run = await _student(url, preset, config, stop_after_first=True)
        waits.append(run["first"] - run["posted"])
    return waits


def _pass(server: LiveServer, cache_on: bool) -> dict[str, Any]:
    pids = server.health()["executor"]["pids"]
    cpu, load = sum(cpu_seconds(p) for p in pids), os.getloadavg()[0]
    runs = asyncio.run(_class(server.url))
    cpu = sum(cpu_seconds(p) for p in pids) - cpu
    bad = [(r["preset"], r["status"]) for r in runs if r["status"] != "completed"]
    assert not bad, bad
    assign_workers(runs, WORKERS)
    every_key_warm = all(sum(1 for r in runs if r["worker"] == w) and
                         {r["preset"] for r in runs if r["worker"] == w} == set(PRESET_IDS)
                         for w in range(WORKERS))
    wall = max(r["ended"] for r in runs) - min(r["posted"] for r in runs)
    warm = [r for r in runs if cache_on and r["warm_key"]]
    cold = [r for r in runs if not (cache_on and r["warm_key"])]
    gaps_warm, gaps_cold = _gaps(warm), _gaps(cold)
    probes = asyncio.run(_probes(server.url))
    return {
        "cache": "on" if cache_on else "off", "runs": len(runs), "workers": WORKERS,
        "warm_runs": len(warm), "cold_runs": len(cold), "wall_s": round(wall, 2),
        "worker_cpu_s": round(cpu, 1),
        "runs_per_core_minute_worker_cpu": round(len(runs) / (cpu / 60), 1),
        "runs_per_core_minute_wall": round(len(runs) / (wall * WORKERS / 60), 1),
        "post_to_first_step_p95_s": _p95([r["first"] - r["posted"] for r in runs]),
        "start_to_first_step_p95_warm_s": _p95([r["first"] - r["started_at"] for r in warm]),
        "start_to_first_step_p95_cold_s": _p95([r["first"] - r["started_at"] for r in cold]),
        "step_gap_p95_warm_s": _p95(gaps_warm), "step_gap_p95_cold_s": _p95(gaps_cold),
        "step_gap_max_warm_s": round(max(gaps_warm), 3) if gaps_warm else None,
        "step_gap_max_cold_s": round(max(gaps_cold), 3) if gaps_cold else None,
        "probe_post_to_first_step_s": [round(w, 3) for w in probes],
        "probe_post_to_first_step_p95_s": _p95(probes),
        "probes_on_warm_keys": cache_on and every_key_warm,
        "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2)}


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def run() -> list[dict[str, Any]]:
    """Cache off, cache on, and their ratios and goals."""
    passes = {}
    for cache_on in (False, True):
        env = {"TF_THREADS": "1", "MODEL_CACHE": "8" if cache_on else "0"}
        with live_server(workers=WORKERS, **env) as server:
            passes[cache_on] = _pass(server, cache_on)
    imports = statistics.median(cold_import_seconds() for _ in range(IMPORTS))
    off, on = passes[False], passes[True]
    figures = {
        "runs_per_core_minute_on_over_off": _ratio(on["runs_per_core_minute_worker_cpu"],
                                                   off["runs_per_core_minute_worker_cpu"]),
        "runs_per_core_minute_wall_on_over_off": _ratio(on["runs_per_core_minute_wall"],
                                                        off["runs_per_core_minute_wall"]),
        "wall_on_over_off": _ratio(on["wall_s"], off["wall_s"]),
        "post_to_first_step_p95_on_over_off": _ratio(on["post_to_first_step_p95_s"],
                                                     off["post_to_first_step_p95_s"]),
        "step_gap_p95_warm_s": on["step_gap_p95_warm_s"],
        "step_gap_p95_cold_s": on["step_gap_p95_cold_s"],
        "step_gap_p95_cold_cache_off_s": off["step_gap_p95_cold_s"],
        "cold_import_tensorflow_s": round(imports, 3),
        "probe_first_step_p95_warm_over_import": _ratio(on["probe_post_to_first_step_p95_s"],
                                                        imports),
        "probe_first_step_p95_cold_over_import": _ratio(off["probe_post_to_first_step_p95_s"],
                                                        imports)}
    return [{"bench": "class_throughput", **off}, {"bench": "class_throughput", **on},
            {"bench": "class_throughput", **figures, "goals": GOALS}]
