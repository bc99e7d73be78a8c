"""Fan-out: 300 viewers of one run while 8 other runs are queued or running.

Checks that every viewer gets every step exactly once (snapshot + metrics frames) and its final
status; reads the server's fan-out counters (`frames` in GET /api/health) to show that a frame is
encoded once per run, not once per viewer; and samples the server process's resident memory
(its workers not included) while it streams. The memory baseline is the same server, idle, just
before.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from benchmarks.live import LiveServer, live_server
from benchmarks.viewers import gaps_and_duplicates, percentile, watch_many

VIEWERS = 300
OTHER_RUNS = 8
WATCHED = {"name": "fan-out benchmark", "training": {"epochs": 200}}  # 5000 steps
OTHER = {"name": "another run", "training": {"epochs": 20}}
MEMORY_SAMPLE_SECONDS = 0.25
# The small size `make test` runs (tests/test_benchmarks.py): module constants overridden.
SMOKE = {"VIEWERS": 5, "OTHER_RUNS": 1,
         "WATCHED": {"name": "fan-out smoke", "training": {"epochs": 4}},
         "OTHER": {"name": "another run", "training": {"epochs": 1}}}


async def _sample_memory(server: LiveServer, into: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        into.append(server.rss_mib())
        await asyncio.sleep(MEMORY_SAMPLE_SECONDS)


async def _class(server: LiveServer) -> dict[str, Any]:
    counts_before = server.health()["frames"]
    rss: list[float] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample_memory(server, rss, stop))
    with server.visitor() as http:
        run_id = server.start_run(http, WATCHED)
        others = [server.start_run(http, OTHER) for _ in range(OTHER_RUNS)]
        viewers, tasks, since = await watch_many(server, run_id, http, VIEWERS)
        await asyncio.wait_for(asyncio.gather(*tasks), 1800)
        stop.set()
        await sampler
        run = http.get(f"/api/runs/{run_id}").json()
        for other in others:
            http.post(f"/api/runs/{other}/stop")
    counts_after = server.health()["frames"]
    expected = run["progress"]["total_steps"]
    problems = [gaps_and_duplicates(v.steps(), expected) for v in viewers]
    latencies = [x * 1000 for v in viewers for x in v.latencies(since)]
    return {"run": run, "rss": rss, "problems": problems, "latencies": latencies,
            "counts": {k: counts_after[k] - counts_before[k] for k in counts_after},
            "final_frames": sum(v.frames[-1][1].startswith('{"type":"status"') for v in viewers)}


def run() -> list[dict[str, Any]]:
    """The fan-out figure."""
    with live_server(workers=os.cpu_count() or 1) as server:
        time.sleep(1.0)
        idle = server.rss_mib()
        result = asyncio.run(_class(server))
        time.sleep(1.0)
        after = server.rss_mib()
    rss, counts = result["rss"], result["counts"]
    complete = sum(1 for missing, dups in result["problems"] if not missing and not dups)
    quarter = max(1, len(rss) // 4)
    return [{
        "bench": "fanout", "viewers": VIEWERS, "other_runs": OTHER_RUNS,
        "steps": result["run"]["progress"]["total_steps"], "status": result["run"]["status"],
        "run_seconds": round(result["run"]["finished_at"] - result["run"]["started_at"], 1),
        "viewers_with_every_step_once": complete,
        "steps_missing": sum(m for m, _ in result["problems"]),
        "steps_duplicated": sum(d for _, d in result["problems"]),
        "viewers_with_final_status": result["final_frames"],
        "frames_encoded": counts["encoded"], "frames_queued": counts["queued"],
        "frames_sent": counts["sent"],
        "queued_per_encode": round(counts["queued"] / max(counts["encoded"], 1), 1),
        "baseline_rss_idle_mib": round(idle, 1), "rss_peak_mib": round(max(rss), 1),
        "rss_by_quarter_mib": [round(max(rss[i:i + quarter]), 1)
                               for i in range(0, len(rss), quarter)][:4],
        "rss_after_mib": round(after, 1), "ratio_peak_to_idle": round(max(rss) / idle, 2),
        "latency_p95_ms": round(percentile(result["latencies"], 95), 1),
    }]
