"""Train the diagnosis cases of docs/diagnosis.md with real Keras and print their figures.

`python -m tools.diagnosis_cases [name ...]`: one JSON line per case with the final diagnosis,
the backpropagated-signal figures (first ÷ last, per-layer gain), the weight-gradient ratio,
update ratios and the last epoch's validation figures. tests/test_diagnosis_cases.py trains the
same cases (shorter) and checks their labels.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np

from trainer.cases import CASES
from trainer.job import run_job


def figures(name: str, config: dict) -> dict:
    events: list[dict] = []
    run_job(config, events.append)
    steps = [s for e in events if e["type"] == "metrics" for s in e["items"]]
    epochs = [e for e in events if e["type"] == "epoch"]
    diags = [e["diagnosis"] for e in events if e["type"] == "diagnosis"]
    finished = [e for e in events if e["type"] == "finished"][0]
    last = steps[-50:]
    og = np.array([[math.nan if v is None else v for v in s.get("output_grad_norms", [])]
                   for s in last], dtype=float)
    g = np.array([[math.nan if v is None else v for v in s["grad_norms"]] for s in last])
    u = np.array([[math.nan if v is None else v for v in s["update_ratios"]] for s in last])
    with np.errstate(all="ignore"):
        out = {"case": name, "status": finished["status"], "steps": len(steps),
               "state": diags[-1]["state"] if diags else None,
               "states_seen": sorted({d["state"] for d in diags}),
               "flips": sum(a["state"] != b["state"] for a, b in zip(diags, diags[1:])),
               "message": diags[-1]["message"] if diags else None,
               "suggestions": [s["label"] for s in diags[-1]["suggestions"]] if diags else [],
               "weight_ratio": float(np.nanmedian(g[:, 0] / g[:, -1])),
               "backprop_ratio": float(np.nanmedian(og[:, 0] / og[:, -1])) if og.size else None,
               "update_ratio_first_last": float(np.nanmedian(u[:, 0] / u[:, -1])),
               "max_grad": float(np.nanmedian(np.nanmax(g, axis=1))),
               "loss_last": steps[-1]["loss"] if steps else None,
               "epoch_last": {k: epochs[-1].get(k) for k in ("loss", "accuracy", "val_loss",
                                                          "val_accuracy")} if epochs else None}
        for key in ("gain", "ratio", "time_ratio", "axis"):
            if diags and key in diags[-1]:
                out["diag_" + key] = diags[-1][key]
    return out


def _g(value: float | None, spec: str = ".1e") -> str:
    return "—" if value is None else format(value, spec)


def markdown() -> None:
    """The table docs/diagnosis.md shows (`make docs`)."""
    import platform
    import time
    print(f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, each case trained "
          "to its end, `make docs` (`python -m tools.diagnosis_cases --markdown`).\n")
    print("| case | expected | diagnosis | signal first ÷ last (per layer) | weight-gradient "
          "ratio | first ÷ last time step | changes of state | validation loss | validation "
          "accuracy | first suggestion |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    for name, case in CASES.items():
        f = figures(name, case["config"])
        e = f["epoch_last"] or {}
        state = f["state"] + (f" ({f['diag_axis']})" if f.get("diag_axis") else "")
        signal = "—" if f.get("diag_ratio") is None else \
            f"{f['diag_ratio']:.1e} ({_g(f.get('diag_gain'), '.2f')})"
        print(f"| {name} | {case['state']} | {state} | {signal} | {_g(f['weight_ratio'])} "
              f"| {_g(f.get('diag_time_ratio'))} | {f['flips']} "
              f"| {_g(e.get('val_loss'), '.3g')} | {_g(e.get('val_accuracy'), '.3f')} "
              f"| {(f['suggestions'] or ['—'])[0]} |", flush=True)


def main(names: list[str]) -> None:
    if names == ["--markdown"]:
        markdown()
        return
    for name in names or list(CASES):
        print(json.dumps(figures(name, CASES[name]["config"])), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
