"""Live latency: from a Step's `t` (the worker's clock when the step finished) to its arrival at
a websocket client on loopback, with one viewer and with 200 viewers of the same run.

The run is the seed's model trained long enough to stream for several seconds, stopped after
MEASURE_SECONDS; only steps taken after the last viewer connected count, so the figure is the
steady state, not the handshakes. The 200-viewer figure's baseline is the one-viewer figure of the
same command.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from benchmarks.live import LiveServer, live_server
from benchmarks.viewers import percentile, watch_many

# 50 steps an epoch, 25,000 in all: long enough to outlast the handshakes of 200 viewers on a
# busy machine (at 1,100 steps/s, the 5,000 steps it had before ended before they had all
# connected); it is stopped once MEASURE_SECONDS have been measured.
CONFIG = {"name": "latency benchmark", "dataset": {"n_samples": 2000},
          "training": {"epochs": 500}}
MEASURE_SECONDS = 8.0  # of streaming after the last viewer connected
TARGETS_MS = {1: 50, 200: 250}
MANY = 200  # viewers of the second figure
# The small size `make test` runs (tests/test_benchmarks.py): module constants overridden.
SMOKE = {"CONFIG": {"name": "latency smoke", "training": {"epochs": 200}}, "MANY": 5,
         "MEASURE_SECONDS": 1.0, "TARGETS_MS": {1: 50, 5: 250}}


async def _latencies(server: LiveServer, viewers: int) -> list[float]:
    with server.visitor() as http:
        run_id = server.start_run(http, CONFIG)
        watched, tasks, since = await watch_many(server, run_id, http, viewers)
        await asyncio.sleep(MEASURE_SECONDS)
        stopped = await asyncio.to_thread(http.post, f"/api/runs/{run_id}/stop")
        if stopped.status_code not in (200, 409):  # 409: it had ended already
            stopped.raise_for_status()
        await asyncio.wait_for(asyncio.gather(*tasks), 900)
    return [lat for viewer in watched for lat in viewer.latencies(since)]


def measure(server: LiveServer, viewers: int) -> dict[str, Any]:
    """One figure: percentiles of the step-to-arrival latency over every viewer and step."""
    lat = [x * 1000 for x in asyncio.run(_latencies(server, viewers))]
    return {"bench": "live_latency", "viewers": viewers, "samples": len(lat),
            "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1),
            "p99_ms": round(percentile(lat, 99), 1), "max_ms": round(max(lat), 1),
            "target_p95_ms": TARGETS_MS[viewers],
            "ratio_to_target": round(percentile(lat, 95) / TARGETS_MS[viewers], 3)}


def run() -> list[dict[str, Any]]:
    """The latency figures for 1 and 200 viewers on one server."""
    with live_server(workers=os.cpu_count() or 1) as server:
        one = measure(server, 1)
        many = measure(server, MANY)
    many["baseline_one_viewer_p95_ms"] = one["p95_ms"]
    many["ratio_vs_one_viewer"] = round(many["p95_ms"] / max(one["p95_ms"], 1e-9), 2)
    return [one, many]
