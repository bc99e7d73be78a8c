"""`make bench`: every benchmark, one JSON object per line on stdout.

`python -m benchmarks first_frame live_latency` runs only the suites named.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time

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
}


def main() -> int:
    """Run the benchmarks named on the command line (default: all) and print their figures."""
    wanted = sys.argv[1:] or list(SUITES)
    unknown = [name for name in wanted if name not in SUITES]
    if unknown:
        print(f"unknown suite(s) {unknown}; choose from {list(SUITES)}", file=sys.stderr)
        return 2
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    for name in wanted:
        for figure in importlib.import_module(SUITES[name]).run():
            figure.update(date=time.strftime("%Y-%m-%d"), machine=machine)
            print(json.dumps(figure), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
