"""The server's memory stays bounded however many runs it serves (issue 12, "Server memory").

Before: RSS grew from 80 to 369 MiB over 7 runs of 30,000 steps at 13 layers, with 59 MiB of
it the snapshot cache. glibc kept what the runs' histories and their reads had freed (per-thread
heaps, an mmap threshold raised to 32 MiB after the first large buffer) and the store's writer
kept the last chunk of the last 64 runs' steps. Now server/memory.py gives freed memory back and
a run's last chunk is dropped when it ends (docs/hosting.md, Sizing).

A real `python -m server` with one local worker serves 50 runs one after another, each with a
viewer from its start (as the page asks, `?buckets=`), then, at once as a class would, late
viewers (bounded and whole), a history range and both downloads:

- 3 long runs through the script ingest (what `GradWatchCallback` posts; a worker would take
  a minute a run here): 21,000 steps of 12 layers, so the history is thinned at the cap, its
  whole snapshot takes a third of the cache and a Summary is read from the stored chunks;
- 5 tiny real Keras runs on the worker and 42 short script runs (they fill the cache).

The server's RSS afterwards must stay within its RSS at idle after a warm-up, plus the snapshot
cache's limit, plus MARGIN_MIB (docs/hosting.md, Sizing): what the largest live History leaves
with Python's allocator for the next run (about 45 bytes a value: 20,000 steps × 12 layers ×
5 per-layer metrics is 51 MiB), SQLite's page caches (2 MiB a connection, one connection per
thread that reads: about 16 MiB), and 13 MiB of slack.
Measured on a 2-core machine under other work (load 8-11), against a bound of idle + 144:
with the fix, 177 MiB after the runs against 86 idle (91 above, about 55 of it the cache); without
it, 290 against 99 (191 above), and 247 against 97 when each run's reads came one after another
instead of at once, both failing.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import numpy as np
import pytest
from websockets.asyncio.client import connect

from server import memory
from tests.helpers import cookie_header, server_process, ws_url

CACHE_MIB = 64  # GRADWATCH_SNAPSHOT_CACHE_BYTES, the default
MARGIN_MIB = 80  # docs/hosting.md, Sizing
LAYERS = 12
LONG_STEPS = 21_000
POST_STEPS = 500
TINY_RUN = {"dataset": {"n_samples": 128}, "model": {"depth": 2, "width": 8},
            "training": {"epochs": 1, "batch_size": 32}}
FINAL = ("completed", "stopped", "failed", "diverged")
JSON = {"Content-Type": "application/json"}  # bodies encoded by msgspec: 5× faster than json


def rss_mib(pid: int) -> float:
    """A process's resident memory now, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS line")


def steps(first: int, count: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Step records as a worker sends them: loss, time and five per-layer metrics."""
    values = rng.random((count, 5, LAYERS)).tolist()
    return [{"step": first + i, "epoch": (first + i) // 1000, "loss": row[0][0], "t": 0.0,
             "grad_norms": row[0], "weight_norms": row[1], "update_ratios": row[2],
             "output_grad_norms": row[3], "dead_fractions": row[4]}
            for i, row in enumerate(values)]


async def watch(url: str, http: httpx.AsyncClient, run_id: str, query: str) -> None:
    """A viewer from now until the run's final status (or just its snapshot, if it ended)."""
    async with connect(ws_url(url, run_id) + query, max_size=None, proxy=None,
                       additional_headers={"Cookie": cookie_header(http)},
                       open_timeout=60) as ws:
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "snapshot" and frame["run"]["status"] in FINAL:
                return
            if frame["type"] == "status" and frame["status"] in FINAL:
                return


async def late_viewer(url: str, http: httpx.AsyncClient, run_id: str, query: str) -> None:
    async with connect(ws_url(url, run_id) + query, max_size=None, proxy=None,
                       additional_headers={"Cookie": cookie_header(http)},
                       open_timeout=60) as ws:
        await ws.recv()


async def script_run(url: str, http: httpx.AsyncClient, count: int,
                     rng: np.random.Generator) -> str:
    """A script's run of `count` steps, watched from its start; its id once it has ended."""
    layers = [{"name": f"dense_{i}", "kind": "Dense", "params": 72} for i in range(LAYERS)]
    answer = await http.post("/api/ingest/runs", json={"name": "memory", "layers": layers,
                                                       "total_steps": count})
    run_id = answer.raise_for_status().json()["id"]
    viewer = asyncio.create_task(watch(url, http, run_id, "?buckets=625"))
    for first in range(0, count, POST_STEPS):
        events = [{"type": "metrics", "items": steps(first, min(POST_STEPS, count - first), rng)}]
        if first % 5000 == 0:
            events.append({"type": "epoch", "epoch": first // 1000, "loss": 0.5})
        (await http.post(f"/api/ingest/runs/{run_id}/events", headers=JSON,
                         content=msgspec.json.encode({"events": events}))).raise_for_status()
        if first == count // 2 // POST_STEPS * POST_STEPS and first:
            await late_viewer(url, http, run_id, "?buckets=625")
    (await http.post(f"/api/ingest/runs/{run_id}/events", json={"events": [
        {"type": "finished", "status": "completed", "error": None}]})).raise_for_status()
    await viewer
    return run_id


async def keras_run(url: str, http: httpx.AsyncClient) -> str:
    """A tiny real run on the worker, watched from its start; its id once it has ended."""
    run_id = (await http.post("/api/runs", json=TINY_RUN)).raise_for_status().json()["id"]
    await watch(url, http, run_id, "?buckets=625")
    return run_id


async def read_back(url: str, http: httpx.AsyncClient, run_id: str) -> None:
    """What a class does with an ended run, at once: late viewers, a range, both downloads."""
    async def get(path: str, **params: Any) -> None:
        (await http.get(f"/api/runs/{run_id}/{path}", params=params)).raise_for_status()

    await asyncio.gather(late_viewer(url, http, run_id, "?buckets=625"),
                         late_viewer(url, http, run_id, ""),
                         get("history", first=0, last=3000, buckets=300),
                         get("metrics", format="csv"), get("metrics", format="json"))


async def settled_rss(http: httpx.AsyncClient, pid: int) -> float:
    """RSS once no run is live and the server had time to give freed memory back."""
    deadline = time.monotonic() + 60
    while (await http.get("/api/health")).json().get("live_runs", 0):
        assert time.monotonic() < deadline, "runs still live a minute after their end"
        await asyncio.sleep(0.1)
    await asyncio.sleep(2.0)  # the trim after the last frees (server/memory.py: ≤ 1.2 s)
    return rss_mib(pid)


async def serve_runs(url: str, pid: int) -> tuple[float, float, list[float]]:
    rng = np.random.default_rng(0)
    async with httpx.AsyncClient(base_url=url, timeout=120, trust_env=False) as http:
        await http.get("/api/health")
        # Warm-up: every path once (the worker's first run, a script run and their reads).
        for run_id in (await keras_run(url, http), await script_run(url, http, 2000, rng)):
            await read_back(url, http, run_id)
        idle = await settled_rss(http, pid)
        after: list[float] = []
        plan = ["long"] * 3 + ["keras", *["script"] * 8] * 5 + ["script"] * 2
        assert len(plan) == 50
        for kind in plan:
            if kind == "long":
                run_id = await script_run(url, http, LONG_STEPS, rng)
            elif kind == "keras":
                run_id = await keras_run(url, http)
            else:
                run_id = await script_run(url, http, 300, rng)
            await read_back(url, http, run_id)
            after.append(rss_mib(pid))
        cache = (await http.get("/api/health")).json()["snapshot_cache"]
        assert cache["bytes"] > CACHE_MIB * 2**20 / 2, f"the cache was not exercised: {cache}"
        return idle, await settled_rss(http, pid), after


@pytest.mark.skipif(not memory.GLIBC, reason="not glibc: nothing to trim")
def test_a_burst_of_frees_is_given_back_with_one_trim() -> None:
    async def burst() -> list[int]:
        trimmer = memory.Trimmer(interval=0.3)
        for _ in range(100):  # e.g. a class's late viewers reading one run
            trimmer.soon()
        await asyncio.sleep(1.0)
        first = trimmer.trims
        trimmer.soon()
        await asyncio.sleep(1.0)
        return [first, trimmer.trims]

    assert asyncio.run(burst()) == [1, 2]


@pytest.mark.slow
@pytest.mark.extended  # 2-4 minutes on 2 cores: make test-extended and CI
def test_rss_after_50_runs_stays_within_the_cache_limit_plus_the_margin(tmp_path: Path) -> None:
    env = {"GRADWATCH_WORKERS": "1", "GRADWATCH_MAX_BODY_BYTES": str(2**21),
           "GRADWATCH_SNAPSHOT_CACHE_BYTES": str(CACHE_MIB * 2**20)}
    with server_process(tmp_path, **env) as (url, proc):
        idle, end, after = asyncio.run(asyncio.wait_for(serve_runs(url, proc.pid), 900))
    bound = idle + CACHE_MIB + MARGIN_MIB
    assert end <= bound, (f"RSS {end:.0f} MiB after 50 runs, over {idle:.0f} idle + "
                          f"{CACHE_MIB} cache + {MARGIN_MIB} margin; after each run: "
                          f"{[round(a) for a in after]}")
