"""Measures a run's peak memory in a worker-like process: `python -m tests.peak_memory CONFIG`.

Like a local worker: one TensorFlow thread, warmed up by a tiny run. Then the run of CONFIG (a
RunConfig as JSON) builds its data and model and trains a few chunks of steps. Prints
{"delta_mib": ...}: the process's peak resident size (VmHWM) minus its resident size just
before the run, i.e. what the run added at its peak.
"""

from __future__ import annotations

import json
import os
import sys

STEP_CALLS = 5  # stop polls (one per chunk of steps) before the run is stopped


def resident_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def high_water_mib() -> float:
    """This process's peak resident size (VmHWM). Not ru_maxrss: Linux carries that across
    exec from the forking process, so under a large pytest it reads pytest's size."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    os.environ["GRADWATCH_TF_THREADS"] = "1"
    from trainer.localworker import configure_threads, warm_up

    configure_threads()
    warm_up()
    from trainer.job import run_job

    config = json.loads(sys.argv[1])
    polls = iter(range(STEP_CALLS))
    before = resident_mib()
    events: list[dict] = []
    run_job(config, events.append, lambda: None if next(polls, None) is not None else "enough")
    peak = high_water_mib()
    status = [e for e in events if e["type"] == "finished"][0]
    print(json.dumps({"delta_mib": round(peak - before, 1), "status": status["status"],
                      "error": status.get("error")}))


if __name__ == "__main__":
    main()
