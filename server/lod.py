"""Level of detail: a run's history at the resolution a viewer displays (issue 18).

The page draws at most a few hundred columns, whatever the run's length. A Summary cuts the
recorded steps into `buckets` equal ranges of step numbers and gives, per bucket, for the loss
and every layer of every per-layer metric asked for, the largest and the smallest finite value
and the last one: a one-step spike stays in its bucket's max, a collapse in its min (the rule
the page applies to its own columns, run on the server before the bytes leave it).

A Summary (docs/protocol.md):

    {"buckets": 3, "first_step": [0, 40, 80], "last_step": [39, 79, 99], "count": [40, 40, 20],
     "loss": {"max": [...], "min": [...], "last": [...]},
     "grad_norms": {"max": [[per layer], ...], "min": [...], "last": [...]}, ...}

A value that is not finite, or a layer a step lacks, counts as missing; a bucket without any
finite value of a layer has null there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trainer.contract.protocol import LAYER_FIELDS

DEFAULT_BUCKETS = 625
MAX_BUCKETS = 10_000
DEFAULT_RECENT = 200  # steps at the end of a snapshot sent exact
SUMMARY_FIELDS = ("loss", *LAYER_FIELDS)


def matrix(rows: list[Any]) -> np.ndarray:
    """Per-step lists (None where a step lacks them) as a float matrix, NaN where missing."""
    width = max((len(r) for r in rows if r is not None), default=0)
    out = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        if row:
            out[i, :len(row)] = [np.nan if v is None else v for v in row]
    return np.where(np.isfinite(out), out, np.nan)


def columns_of(history: dict[str, list[Any]], fields: tuple[str, ...]) -> dict[str, np.ndarray]:
    """A History held in memory (a live run's) as the columns `summarize` takes."""
    out = {"step": np.asarray(history["step"], dtype=np.int64)}
    for field in fields:
        if field == "loss":
            out[field] = matrix([[v] for v in history[field]])[:, 0] if history["step"] \
                else np.zeros(0)
        else:
            out[field] = matrix(history[field])
    return out


def _reduce(values: np.ndarray, starts: np.ndarray) -> dict[str, list[Any]]:
    with np.errstate(invalid="ignore"):
        high = np.fmax.reduceat(values, starts, axis=0)
        low = np.fmin.reduceat(values, starts, axis=0)
    ends = np.append(starts[1:], len(values)) - 1
    return {name: _plain(part) for name, part in
            (("max", high), ("min", low), ("last", values[ends]))}


def _plain(values: np.ndarray) -> list[Any]:
    if np.isnan(values).any():
        boxed = values.astype(object)
        boxed[np.isnan(values)] = None
        return boxed.tolist()
    return values.tolist()


def summarize(columns: dict[str, np.ndarray], buckets: int) -> dict[str, Any]:
    """The Summary of recorded steps given as columns (`step` and fields, in step order)."""
    steps = columns["step"]
    summary: dict[str, Any] = {"buckets": 0, "first_step": [], "last_step": [], "count": []}
    if len(steps) == 0:
        return summary
    first, last = int(steps[0]), int(steps[-1])
    width = (last - first + 1) / buckets
    index = np.minimum(((steps - first) / width).astype(np.int64), buckets - 1)
    starts = np.flatnonzero(np.diff(index, prepend=-1))
    ends = np.append(starts[1:], len(steps)) - 1
    summary.update(buckets=len(starts), first_step=steps[starts].tolist(),
                   last_step=steps[ends].tolist(), count=np.diff(np.append(starts,
                                                                           len(steps))).tolist())
    for field, values in columns.items():
        if field != "step" and values.size:
            summary[field] = _reduce(values, starts)
        elif field != "step":
            summary[field] = None
    return summary
