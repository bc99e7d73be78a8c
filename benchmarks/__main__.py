"""`make bench`: every benchmark, one JSON object per line on stdout."""

from __future__ import annotations

import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> int:
    """Run the benchmarks named on the command line (default: all) and print their figures."""
    from benchmarks import probe_overhead

    suites = {"probe_overhead": probe_overhead.run}
    wanted = sys.argv[1:] or list(suites)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    for name in wanted:
        for figure in suites[name]():
            figure.update(date=time.strftime("%Y-%m-%d"), machine=machine)
            print(json.dumps(figure), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
