"""`make bench`: every benchmark, one JSON object per line on stdout.

`python -m benchmarks first_frame live_latency` runs only the suites named; `--smoke` runs them
at the small size `make test` runs (tests/test_benchmarks.py), so a broken suite fails there.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# name -> module whose run() returns the suite's figures (imported only when run).
SUITES = {
    "probe_overhead": "benchmarks.probe_overhead",   # issue 7, target 1
    "first_frame": "benchmarks.first_frame",         # target 2
    "heatmap_browser": "benchmarks.heatmap_browser",  # issue 4: the page at 64 × 20,000
    "live_latency": "benchmarks.latency",            # target 3
    "fanout": "benchmarks.fanout",                   # target 4
    "run_throughput": "benchmarks.throughput",       # target 5
    "history": "benchmarks.history",                 # target 6
    "worker_memory": "benchmarks.worker_memory",     # a worker's memory across runs
    "callback_overhead": "benchmarks.callback_overhead",  # issue 14: a user's fit, watched
    "preset_runs": "benchmarks.preset_runs",         # issue 16: a class's runs, cache off/on
    "long_runs": "benchmarks.long_runs",             # issue 18: long and deep runs
    "class_throughput": "benchmarks.class_throughput",  # issue 16: 30 runs, 2 workers, cache
    "arithmetic_optimizer": "benchmarks.arithmetic_optimizer",  # issue 16: its cost, off
    "classroom": "benchmarks.classroom",             # issue 12: a class under attack
}


def run_suite(name: str, smoke: bool = False) -> list[dict[str, Any]]:
    """A suite's figures; `smoke`: at its small size (the module's SMOKE constants)."""
    module = importlib.import_module(SUITES[name])
    overrides = getattr(module, "SMOKE", {}) if smoke else {}
    saved = {key: getattr(module, key) for key in overrides}
    try:
        for key, value in overrides.items():
            setattr(module, key, value)
        return list(module.run())
    finally:
        for key, value in saved.items():
            setattr(module, key, value)


def main() -> int:
    """Run the benchmarks named on the command line (default: all) and print their figures;
    `--smoke` runs each at the small size the test suite uses."""
    args = sys.argv[1:]
    smoke = "--smoke" in args
    wanted = [a for a in args if a != "--smoke"] or list(SUITES)
    unknown = [name for name in wanted if name not in SUITES]
    if unknown:
        print(f"unknown suite(s) {unknown}; choose from {list(SUITES)}", file=sys.stderr)
        return 2
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    for name in wanted:
        module = importlib.import_module(SUITES[name])
        figures = run_suite(name, smoke=True) if smoke else module.run()
        for figure in figures:
            figure.update(date=time.strftime("%Y-%m-%d"), machine=machine)
            print(json.dumps(figure), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
