"""The event records a training job emits and the server stores, fans out and the page reads.

TF-free. Every event is a plain JSON-able dict with a "type":

- ``started``: ``{"type", "layers", "total_steps", "steps_per_epoch", "t"}``
- ``metrics``: ``{"type", "items": [Step, ...]}`` (one or more steps, in order)
- ``epoch``: ``{"type", "epoch", "loss", "accuracy", "val_loss", "val_accuracy"}``
- ``diagnosis``: ``{"type", "diagnosis": Diagnosis}``
- ``finished``: ``{"type", "status", "error"}``: the last event of every job

A Step is ``{"step", "epoch", "loss", "t", "grad_norms", "clipped_grad_norms"?, "weight_norms",
"update_ratios", "output_grad_norms", "time_grad_norms"?}``: CONTRACT §5 plus two extensions,
``output_grad_norms`` (‖∂L/∂ layer output‖ per layer) and, for sequence models on every tenth
step, ``time_grad_norms`` (‖∂L/∂x_t‖ for each input time step t).
"""

from __future__ import annotations

from typing import Any

import msgspec

STATUSES = ("queued", "running", "completed", "stopped", "failed", "diverged")
FINAL_STATUSES = ("completed", "stopped", "failed", "diverged")
DIAGNOSIS_STATES = ("healthy", "vanishing", "exploding", "dead", "diverged", "unknown")

# Websocket close codes the page acts on (CONTRACT §5; docs/protocol.md).
EVICTED_CODE = 1013  # "try again later": the viewer fell behind; it reconnects for a snapshot
GONE_CODE = 4404  # there is no such run (or it was deleted): the page stops reconnecting
REFUSED_CODE_BASE = 4000  # + the HTTP status of a refused handshake: 4403, 4429

# Per-layer lists of a Step, in the order the page offers them as heatmap metrics.
LAYER_FIELDS = ("grad_norms", "clipped_grad_norms", "weight_norms", "update_ratios",
                "output_grad_norms", "dead_fractions")
SCALAR_FIELDS = ("step", "epoch", "loss", "t")
# Per-step lists over time steps (sequence models only, on every TIME_VIEW_EVERY-th step).
SEQUENCE_FIELDS = ("time_grad_norms",)


def started(layers: list[dict[str, Any]], total_steps: int, steps_per_epoch: int,
            t: float) -> dict[str, Any]:
    """The job built its model: these are the layers whose gradients it reports."""
    return {"type": "started", "layers": layers, "total_steps": total_steps,
            "steps_per_epoch": steps_per_epoch, "t": t}


def metrics(items: list[dict[str, Any]]) -> dict[str, Any]:
    """New Step records, in step order."""
    return {"type": "metrics", "items": items}


def epoch(index: int, logs: dict[str, Any]) -> dict[str, Any]:
    """End-of-epoch figures; a metric the task does not have (accuracy of a regression) is None."""
    return {"type": "epoch", "epoch": index,
            **{k: logs.get(k) for k in ("loss", "accuracy", "val_loss", "val_accuracy")}}


def diagnosis(diag: dict[str, Any]) -> dict[str, Any]:
    """The diagnosis changed."""
    return {"type": "diagnosis", "diagnosis": diag}


def finished(status: str, error: str | None = None) -> dict[str, Any]:
    """The job ended; `status` is one of FINAL_STATUSES."""
    assert status in FINAL_STATUSES, status
    return {"type": "finished", "status": status, "error": error}


def dumps(value: Any) -> str:
    """Strict JSON: non-finite numbers become null, never NaN or Infinity.

    msgspec writes NaN and ±Infinity as null itself, and renders floats about 8× faster than
    the json module: a 12,500-step snapshot takes 8 ms instead of 65 (docs/performance.md).
    """
    return msgspec.json.encode(value).decode()


def loads(text: str | bytes) -> Any:
    """Parse JSON that `dumps` wrote (a stored Step row, say), about 3× faster than json."""
    return msgspec.json.decode(text)


def empty_history() -> dict[str, list[Any]]:
    """A History (CONTRACT §5): the Step fields as parallel lists."""
    return {k: [] for k in SCALAR_FIELDS + LAYER_FIELDS + SEQUENCE_FIELDS}


def append_steps(history: dict[str, list[Any]], items: list[dict[str, Any]]) -> None:
    """Append Step records to a History in place; a field a step lacks is stored as None."""
    for key in SCALAR_FIELDS + LAYER_FIELDS + SEQUENCE_FIELDS:  # a column at a time: faster
        history[key].extend([item.get(key) for item in items])
