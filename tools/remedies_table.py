"""Train every preset to its end and print the Markdown table of measured effects for
docs/remedies.md.

`make docs` writes its output between the markers in docs/remedies.md; nothing in that table
is typed by hand. The figures are the run's last diagnosis (the backpropagated signal, per unit,
median of the last 50 steps) and its last epoch's validation loss and accuracy.
"""

from __future__ import annotations

import platform
import sys
import time

from trainer.contract.presets import PRESETS
from trainer.job import run_job


def measure(preset: dict) -> dict:
    """Train the preset as configured; its last diagnosis and validation figures."""
    events: list[dict] = []
    started = time.monotonic()
    run_job(preset["config"], events.append)
    steps = [s for e in events if e["type"] == "metrics" for s in e["items"]]
    diag = [e["diagnosis"] for e in events if e["type"] == "diagnosis"][-1]
    epochs = [e for e in events if e["type"] == "epoch"]
    status = [e for e in events if e["type"] == "finished"][0]["status"]
    return {"steps": len(steps), "status": status, "diag": diag,
            "epoch": epochs[-1] if epochs else {}, "seconds": time.monotonic() - started,
            "step0_max": max(steps[0]["grad_norms"]) if steps else float("nan")}


def _fmt(value: float | None, spec: str = ".2g") -> str:
    return "—" if value is None else format(value, spec)


def main() -> int:
    """Print the table."""
    print(f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} "
          f"({platform.python_version()}), every preset trained to its end, `make docs`.\n")
    print("| preset | steps | status | diagnosis | signal first ÷ last (per layer) "
          "| first ÷ last time step | max grad norm at step 0 | validation loss "
          "| validation accuracy | seconds |")
    print("|---|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for preset in PRESETS:
        m = measure(preset)
        d, e = m["diag"], m["epoch"]
        signal = "—" if d.get("ratio") is None else \
            f"{d['ratio']:.1e} ({_fmt(d.get('gain'), '.2f')})"
        state = d["state"] + (f" ({d['axis']})" if d.get("axis") else "")
        print(f"| {preset['title']} | {m['steps']} | {m['status']} | {state} | {signal} "
              f"| {_fmt(d.get('time_ratio'), '.1e')} | {m['step0_max']:.2e} "
              f"| {_fmt(e.get('val_loss'), '.3g')} | {_fmt(e.get('val_accuracy'), '.3f')} "
              f"| {m['seconds']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
