"""The page's copy of the contract: the ES module `/static/contract.js`, generated from here.

The page takes from it what it would otherwise retype: the statuses (and which are final), the
websocket close codes it acts on, the Step's per-layer fields in the order the heatmap offers
them with the words it shows for each, the epoch frame's figures and the diagnosis's
thresholds. tests/test_contract_js.py fails if a hand copy comes back in frontend/.

TF-free (the contract and the standard library only). `python -m trainer.contract.pagecontract`
prints the module; the page's JS unit tests and type check read it that way
(frontend/tests/contract-hook.js, `make lint`).
"""

from __future__ import annotations

import json
import sys
from functools import cache
from typing import Any

from trainer.contract import protocol, thresholds

# The words the page shows for each per-step list of a Step (protocol.LAYER_FIELDS, then
# protocol.SEQUENCE_FIELDS), in the order the heatmap's metric menu offers them:
# `label` in the menu and titles, `short` on axes and tooltips, `rows` what a heatmap row is,
# `marks` which of the diagnosis's thresholds its colour bar marks: "signal" (the depth ratio's,
# around the compared layer), "time", "weights" (none: the legend points to the signal view,
# which the diagnosis reads), None (none apply); `scale` how its colours run: "log" (log10 of a
# norm, an exact 0 drawn apart from a gap) or "fraction" (linear from 0 to 1).
METRICS: dict[str, dict[str, str | None]] = {
    "grad_norms": {"label": "gradient norm ‖∂L/∂W‖", "short": "‖∂L/∂W‖",
                   "rows": "layer", "marks": "weights", "scale": "log"},
    "clipped_grad_norms": {"label": "gradient norm after clipping", "short": "clipped ‖∂L/∂W‖",
                           "rows": "layer", "marks": "weights", "scale": "log"},
    "weight_norms": {"label": "weight norm ‖W‖", "short": "‖W‖", "rows": "layer", "marks": None,
                     "scale": "log"},
    "update_ratios": {"label": "update ratio ‖ΔW‖ / ‖W‖", "short": "‖ΔW‖/‖W‖",
                      "rows": "layer", "marks": None, "scale": "log"},
    "output_grad_norms": {"label": "backpropagated signal ‖∂L/∂s‖ (what the diagnosis reads)",
                          "short": "‖∂L/∂s‖", "rows": "layer", "marks": "signal", "scale": "log"},
    "dead_fractions": {"label": "dead units: the fraction of a ReLU layer's units that output "
                       "0 for the whole batch", "short": "dead", "rows": "layer", "marks": None,
                       "scale": "fraction"},
    "time_grad_norms": {"label": "gradient across time ‖∂L/∂xₜ‖ (RNN)", "short": "‖∂L/∂xₜ‖",
                        "rows": "time", "marks": "time", "scale": "log"},
}


def contract() -> dict[str, Any]:
    """What contract.js exports, by export name."""
    missing = set(protocol.LAYER_FIELDS + protocol.SEQUENCE_FIELDS) ^ set(METRICS)
    if missing:
        raise RuntimeError(f"pagecontract.METRICS and protocol's fields differ in {missing}")
    return {
        "STATUSES": list(protocol.STATUSES),
        "FINAL_STATUSES": list(protocol.FINAL_STATUSES),
        "ACTIVE_STATUSES": [s for s in protocol.STATUSES if s not in protocol.FINAL_STATUSES],
        "DIAGNOSIS_STATES": list(protocol.DIAGNOSIS_STATES),
        "CLOSE_CODES": {"gone": protocol.GONE_CODE, "evicted": protocol.EVICTED_CODE,
                        "refusedBase": protocol.REFUSED_CODE_BASE},
        "METRICS": METRICS,
        "DEFAULT_METRIC": protocol.LAYER_FIELDS[0],
        # The figures of an epoch frame besides its index, as protocol.epoch writes them.
        "EPOCH_FIELDS": [k for k in protocol.epoch(0, {}) if k not in ("type", "epoch")],
        "THRESHOLDS": thresholds.for_page(),
    }


@cache
def render() -> str:
    """contract.js: one frozen `export const` per entry of `contract()`."""
    lines = ["// Generated from trainer/contract/ by trainer/contract/pagecontract.py, and served",
             "// as /static/contract.js: change it there, not here.", "",
             "/** @template T @param {T} value @returns {Readonly<T>} */",
             "const freeze = (value) => {",
             "  if (value && typeof value === \"object\") Object.values(value).forEach(freeze);",
             "  return Object.freeze(value);",
             "};", ""]
    for name, value in contract().items():
        text = json.dumps(value, indent=2 if isinstance(value, dict) else None)
        if isinstance(value, dict | list):
            text = f"freeze({text})"
        lines.append(f"export const {name} = {text};")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
