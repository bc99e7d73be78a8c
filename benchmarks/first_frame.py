"""First frame: from `POST /api/runs` to the first Step on a websocket, on a warm server.

The baseline is a cold `import tensorflow` in a fresh interpreter of the same venv (what a
server without warm workers would pay before anything else). Each trial is a new visitor that
posts a 10-layer MLP, opens the run's socket as soon as the POST answers and waits for the first
frame carrying a Step (a snapshot with history or a metrics frame); the run is then stopped and
waited for, so every trial finds an idle warm worker.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from typing import Any

from benchmarks.live import LiveServer, cold_import_seconds, live_server, loads

TRIALS = 5
IMPORTS = 3
CONFIG = {"name": "first-frame benchmark", "model": {"depth": 10, "width": 64}}
TARGET_RATIO = 0.25
# The small size `make test` runs (tests/test_benchmarks.py): module constants overridden.
SMOKE = {"TRIALS": 1, "IMPORTS": 1}


async def _first_step(server: LiveServer, http: Any) -> float:
    start = time.perf_counter()
    run_id = server.start_run(http, CONFIG)
    async with server.ws(run_id, http) as ws:
        while True:
            frame = loads(await ws.recv())
            if frame["type"] == "metrics" or (
                    frame["type"] == "snapshot" and frame["history"]["step"]):
                break
    elapsed = time.perf_counter() - start
    http.post(f"/api/runs/{run_id}/stop")
    server.wait_final(http, run_id)
    return elapsed


def run() -> list[dict[str, Any]]:
    """The first-frame figure: median of TRIALS against the median cold import."""
    imports = [cold_import_seconds() for _ in range(IMPORTS)]
    with live_server(workers=os.cpu_count() or 1) as server:
        trials = []
        for _ in range(TRIALS):
            with server.visitor() as http:
                trials.append(asyncio.run(_first_step(server, http)))
    first, baseline = statistics.median(trials), statistics.median(imports)
    return [{"bench": "first_frame", "model": "10-layer MLP (width 64)",
             "first_step_s": round(first, 3), "trials_s": [round(t, 3) for t in trials],
             "baseline_cold_import_tensorflow_s": round(baseline, 3),
             "ratio": round(first / baseline, 3), "target": f"<= {TARGET_RATIO}"}]
