"""Worker memory across runs: a worker process trains run after run, so its memory must not
grow with each one.

In one process, as a worker does: 40 runs of a 5-layer MLP (2 epochs each) through
`trainer.job.run_job`. The baseline is the process's RSS after its first run; the figure is
the RSS after the last and the growth per run between them.
"""

from __future__ import annotations

from typing import Any

from trainer.job import run_job

RUNS = 40
CONFIG = {"model": {"depth": 5, "width": 32}, "training": {"epochs": 2}}


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def run() -> list[dict[str, Any]]:
    """The worker-memory figure."""
    run_job(CONFIG, lambda event: None)
    first = _rss_mib()
    for _ in range(RUNS - 1):
        run_job(CONFIG, lambda event: None)
    last = _rss_mib()
    return [{"bench": "worker_memory", "runs": RUNS, "baseline_rss_after_first_run_mib":
             round(first, 1), "rss_after_last_run_mib": round(last, 1),
             "growth_per_run_mib": round((last - first) / (RUNS - 1), 2)}]
