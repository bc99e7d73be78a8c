"""A run's History as CSV: one row per recorded step, one column per (metric, layer)."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from trainer.contract.protocol import LAYER_FIELDS, SCALAR_FIELDS


def _cell(value: Any) -> Any:
    # Empty for missing and non-finite values, as the JSON export has null for them.
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return value


def history_csv(history: dict[str, list[Any]], layers: list[dict[str, Any]]) -> str:
    """Columns step, epoch, loss, t, then `grad_norm[<layer>]` etc. for each metric present.

    Args:
        history: a History (CONTRACT §5).
        layers: the run's layers; a column is named after its layer, or its index if unknown.
    """
    n_layers = max([len(layers)] + [len(r) for f in LAYER_FIELDS for r in history[f] if r])
    names = [layers[i]["name"] if i < len(layers) else str(i) for i in range(n_layers)]
    present = [f for f in LAYER_FIELDS if any(r is not None for r in history[f])]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*SCALAR_FIELDS,
                     *(f"{f.removesuffix('s')}[{name}]" for f in present for name in names)])
    for i in range(len(history["step"])):
        row = [_cell(history[f][i]) for f in SCALAR_FIELDS]
        for f in present:
            values = history[f][i] or []
            row += [_cell(values[j]) if j < len(values) else "" for j in range(n_layers)]
        writer.writerow(row)
    return out.getvalue()
