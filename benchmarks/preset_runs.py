"""A class's runs on one worker: the same few presets, each student with its own seed and
learning rate, with the worker's cache of traced models off, then on, in the same process.

One process trains, through `trainer.job.run_job` as a worker does, 3 presets × `PER_PRESET`
runs (10-layer MLPs: sigmoid, ReLU/He, batch norm) each with its own seed and learning rate,
first with the cache off, then on (the on pass starts cold: its first run of each preset
traces). Figures per pass: runs per CPU-minute of the process (all its threads), the p95 wait
from the job's start to its first step and the p95 gap between consecutive metrics events of a
run (the stall while the chunk function traces shows here), and on ÷ off ratios.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchmarks.students import class_mix
from trainer import modelcache
from trainer.job import run_job

PRESET_IDS = ("vanishing-sigmoid", "fixed-relu-he", "fixed-batchnorm")
PER_PRESET = 4
EPOCHS: int | None = None  # the presets' own
# The small size `make test` runs (tests/test_benchmarks.py): module constants overridden.
SMOKE = {"PER_PRESET": 1, "EPOCHS": 1, "PRESET_IDS": ("vanishing-sigmoid",)}


def _runs(per_preset: int, epochs: int | None) -> list[dict[str, Any]]:
    return [config for _, config in class_mix(PRESET_IDS, per_preset, 100, epochs)]


def _pass(configs: list[dict[str, Any]], cache_on: bool) -> dict[str, Any]:
    modelcache.configure(8, 256) if cache_on else modelcache.configure(0, 0)
    waits, gaps = [], []
    hits_before = modelcache.CACHE.hits
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        for config in configs:
            arrivals: list[float] = []

            def emit(event: dict[str, Any], arrivals: list[float] = arrivals) -> None:
                if event["type"] == "metrics":
                    arrivals.append(time.perf_counter())

            began = time.perf_counter()
            run_job(config, emit)
            waits.append(arrivals[0] - began)
            gaps.extend(np.diff(arrivals).tolist())
        hits = modelcache.CACHE.hits - hits_before
    finally:
        modelcache.configure(0, 0)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"runs": len(configs), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "runs_per_cpu_minute": round(len(configs) / (cpu / 60), 1),
            "first_step_p95_s": round(float(np.percentile(waits, 95)), 3),
            "step_gap_p95_s": round(float(np.percentile(gaps, 95)), 3),
            "step_gap_max_s": round(max(gaps), 3), "hits": hits}


def run(per_preset: int | None = None, epochs: int | None = None) -> list[dict[str, Any]]:
    """Cache off, cache on, and their ratios."""
    per_preset = PER_PRESET if per_preset is None else per_preset
    epochs = EPOCHS if epochs is None else epochs
    configs = _runs(per_preset, epochs)
    off, on = _pass(configs, False), _pass(configs, True)
    ratios = {"runs_per_cpu_minute_on_over_off": round(
        on["runs_per_cpu_minute"] / off["runs_per_cpu_minute"], 2),
        "first_step_p95_on_over_off": round(on["first_step_p95_s"] / off["first_step_p95_s"], 3),
        "step_gap_p95_on_over_off": round(on["step_gap_p95_s"] / off["step_gap_p95_s"], 3)}
    return [{"bench": "preset_runs", "cache": "off", **off},
            {"bench": "preset_runs", "cache": "on", **on},
            {"bench": "preset_runs", **ratios}]
