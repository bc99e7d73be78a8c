"""Run every preset briefly and print the Markdown table of measured effects for docs/remedies.md.

`make docs` writes its output between the markers in docs/remedies.md; nothing in that table
is typed by hand.
"""

from __future__ import annotations

import copy
import math
import platform
import statistics
import sys
import time

from trainer.contract.config import deep_merge
from trainer.contract.presets import PRESETS
from trainer.job import run_job

EPOCHS = 2


def measure(preset: dict) -> dict:
    """Train the preset for EPOCHS epochs; summarize its gradients."""
    config = deep_merge(copy.deepcopy(preset["config"]), {"training": {"epochs": EPOCHS}})
    events: list[dict] = []
    run_job(config, events.append)
    steps = [s for e in events if e["type"] == "metrics" for s in e["items"]]
    diag = [e["diagnosis"] for e in events if e["type"] == "diagnosis"][-1]
    status = [e for e in events if e["type"] == "finished"][0]["status"]
    finite = [s for s in steps if all(math.isfinite(v) for v in s["grad_norms"])]
    ratios = [s["grad_norms"][0] / s["grad_norms"][-1] for s in finite[-20:]
              if s["grad_norms"][-1] > 0]
    times = [s["time_grad_norms"] for s in steps if "time_grad_norms" in s][-4:]
    return {
        "steps": len(steps), "status": status, "state": diag["state"],
        "step0_max": max(steps[0]["grad_norms"]),
        "ratio": statistics.median(ratios) if ratios else float("nan"),
        "time": statistics.median(t[0] / t[-1] for t in times) if times else None,
        "weights": statistics.mean(steps[-1]["weight_norms"]),
        "loss": steps[-1]["loss"],
    }


def main() -> int:
    """Print the table."""
    print(f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, "
          f"{EPOCHS} epochs per preset, `make docs`.\n")
    print("| preset | steps | status | diagnosis | max grad norm at step 0 "
          "| first/last layer (median, last 20 steps) | first/last time step "
          "| mean weight norm at end | loss at end |")
    print("|---|---:|---|---|---:|---:|---:|---:|---:|")
    for preset in PRESETS:
        m = measure(preset)
        time_col = f"{m['time']:.1e}" if m["time"] is not None else "—"
        print(f"| {preset['title']} | {m['steps']} | {m['status']} | {m['state']} "
              f"| {m['step0_max']:.2e} | {m['ratio']:.1e} | {time_col} "
              f"| {m['weights']:.3g} | {m['loss']:.3g} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
