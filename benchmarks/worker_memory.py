"""Worker memory across runs: a worker process trains run after run, so its memory must not
grow with each one, with its cache of traced models off or on.

In one process, as a worker does, through `trainer.job.run_job`:

- cache off: 40 runs of a 5-layer MLP (2 epochs each). The baseline is the process's RSS after
  its first run; the figure is the RSS after the last and the growth per run between them.
- cache on (4 models, 256 MiB): 40 runs as a class starts them, each with its own seed and
  learning rate: three presets' graphs again and again (hits), and every fifth run a graph
  not seen before (a miss, which pushes the least recently used model out). Figures: hits,
  misses, evictions, the RSS growth per run after the cache is full, the cache's estimate of
  its models' memory, and the mean wall time of a hit run ÷ a miss run.
"""

from __future__ import annotations

import time
from typing import Any

from trainer import modelcache
from trainer.job import run_job

RUNS = 40
CONFIG = {"model": {"depth": 5, "width": 32}, "training": {"epochs": 2}}
# The small size `make test` runs (tests/test_benchmarks.py): module constants overridden.
SMOKE = {"RUNS": 2}
CACHE_COUNT, CACHE_MIB = 4, 256.0


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _class_run(i: int) -> dict[str, Any]:
    """The i-th run a class starts: a hot graph (depth 3, 4 or 5), or every fifth a new one."""
    depth = 6 + i // 5 if i % 5 == 4 else 3 + i % 3
    return {"seed": i, "model": {"depth": depth, "width": 32},
            "training": {"epochs": 2, "learning_rate": 0.001 * (1 + i % 7)}}


def _cache_off(runs: int) -> dict[str, Any]:
    run_job(CONFIG, lambda event: None)
    first = _rss_mib()
    for _ in range(runs - 1):
        run_job(CONFIG, lambda event: None)
    last = _rss_mib()
    return {"bench": "worker_memory", "cache": "off", "runs": runs,
            "baseline_rss_after_first_run_mib": round(first, 1),
            "rss_after_last_run_mib": round(last, 1),
            "growth_per_run_mib": round((last - first) / (runs - 1), 2)}


def _cache_on(runs: int) -> dict[str, Any]:
    modelcache.configure(CACHE_COUNT, CACHE_MIB)
    cache = modelcache.CACHE
    counts = (cache.hits, cache.misses, cache.evictions)
    seconds: dict[bool, list[float]] = {True: [], False: []}
    before = _rss_mib()
    full_at, full_rss = None, 0.0
    try:
        for i in range(runs):
            hits = cache.hits
            began = time.perf_counter()
            run_job(_class_run(i), lambda event: None)
            seconds[cache.hits > hits].append(time.perf_counter() - began)
            if full_at is None and cache.evictions > counts[2]:
                full_at, full_rss = i, _rss_mib()
        last = _rss_mib()
        stats = cache.stats()
        stats.update(hits=cache.hits - counts[0], misses=cache.misses - counts[1],
                     evictions=cache.evictions - counts[2])
    finally:
        modelcache.configure(0, 0)
    mean = {hit: sum(s) / len(s) if s else float("nan") for hit, s in seconds.items()}
    after_full = runs - 1 - full_at if full_at is not None else 0
    return {"bench": "worker_memory", "cache": f"{CACHE_COUNT} models, {CACHE_MIB:g} MiB",
            "runs": runs, "hits": stats["hits"], "misses": stats["misses"],
            "evictions": stats["evictions"], "cache_estimate_mib": stats["mib"],
            "rss_before_mib": round(before, 1), "rss_after_last_run_mib": round(last, 1),
            "growth_per_run_once_full_mib": round((last - full_rss) / after_full, 2)
            if after_full else None,
            "hit_run_s": round(mean[True], 3), "miss_run_s": round(mean[False], 3),
            "hit_over_miss": round(mean[True] / mean[False], 3)}


def run(runs: int | None = None) -> list[dict[str, Any]]:
    """The worker-memory figures, cache off then on."""
    runs = RUNS if runs is None else runs
    return [_cache_off(runs), _cache_on(runs)]
