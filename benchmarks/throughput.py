"""Throughput of runs: two runs at once on this machine's cores vs the same two in sequence.

Each case is a real server; two identical runs are posted together and the figure is their
makespan, from the first `created_at` to the last `finished_at` (server clock), median of
REPEATS. The baseline is one worker (so the two run in sequence) with the threads the server
gives a lone worker (all cores); "concurrent" is one worker per core with the server's default
threads per worker (cores ÷ workers = 1 here); "concurrent, TensorFlow's default threads" is
the same with GRADWATCH_TF_THREADS=0 (each worker's pools as large as the machine), which is
what the workers did before the server set their threads.
"""

from __future__ import annotations

import os
import statistics
from typing import Any

from benchmarks.live import LiveServer, live_server

REPEATS = 3
CONFIGS = {
    "seed model": {"training": {"epochs": 60}},
    "10-layer MLP (width 64)": {"model": {"depth": 10, "width": 64}, "training": {"epochs": 20}},
    "wide MLP (4 x 512, batch 128)": {"model": {"depth": 4, "width": 512},
                                      "dataset": {"n_samples": 4000},
                                      "training": {"epochs": 8, "batch_size": 128}},
}
# The small size `make test` runs (tests/test_benchmarks.py): module constants overridden.
OVERSUBSCRIBED = True  # also measure TensorFlow's default thread pools
WARM_UP = True
SMOKE = {"REPEATS": 1, "CONFIGS": {"seed model": {"training": {"epochs": 1}}},
         "OVERSUBSCRIBED": False, "WARM_UP": False}


def _makespan(server: LiveServer, config: dict[str, Any]) -> float:
    with server.visitor() as http:
        created = [http.post("/api/runs", json=config).json() for _ in range(2)]
        runs = [server.wait_final(http, run["id"]) for run in created]
    assert all(run["status"] == "completed" for run in runs), [r["status"] for r in runs]
    return max(r["finished_at"] for r in runs) - min(r["created_at"] for r in runs)


def _case(workers: int, **env: str) -> dict[str, float]:
    with live_server(workers=workers, **env) as server:
        if WARM_UP:
            _makespan(server, {"training": {"epochs": 1}})  # the workers' first runs, unmeasured
        return {name: statistics.median(_makespan(server, config) for _ in range(REPEATS))
                for name, config in CONFIGS.items()}


def run() -> list[dict[str, Any]]:
    """Makespans of two runs, in sequence and concurrently, for each configuration."""
    cores = os.cpu_count() or 1
    sequence = _case(1)
    concurrent = _case(cores)
    oversubscribed = _case(cores, TF_THREADS="0") if OVERSUBSCRIBED else {}
    return [{"bench": "run_throughput", "model": name, "runs": 2, "cores": cores,
             "baseline_sequence_s": round(sequence[name], 2),
             "concurrent_s": round(concurrent[name], 2),
             "concurrent_tf_default_threads_s": round(oversubscribed[name], 2)
             if name in oversubscribed else None,
             "ratio": round(sequence[name] / concurrent[name], 3), "target": ">= 1.0"}
            for name in CONFIGS]
