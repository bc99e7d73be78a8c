"""Synthetic stored runs: steps written straight through the RunStore, as a worker's would be.

For the storage and snapshot measurements (disk per layer-step, bytes per late viewer, exports)
the numbers' values do not matter, only their shape: float32 norms per layer for the per-layer
metrics of an MLP without clipping, a float64 wall clock, as the probe sends them. Writing them
through the store takes seconds where training them would take an hour.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from server.store import RunStore

FIELDS = ("grad_norms", "weight_norms", "update_ratios", "output_grad_norms", "dead_fractions")
BATCH = 500


def layers(n: int) -> list[dict[str, Any]]:
    """A run's `layers`: n Dense layers."""
    return [{"name": f"dense_{i}", "kind": "Dense", "params": 4160} for i in range(n)]


def steps(start: int, count: int, n_layers: int, rng: np.random.Generator,
          spike: int | None = None) -> list[dict[str, Any]]:
    """`count` Step records from `start`, values float32 as the probe's (one spike optional)."""
    values = rng.lognormal(-3, 1, size=(count, len(FIELDS), n_layers)).astype(np.float32)
    if spike is not None and start <= spike < start + count:
        values[spike - start, 0, :] *= np.float32(1000)
    loss = rng.random(count).astype(np.float32).tolist()
    t0 = 1.7e9 + start * 0.01
    out = []
    for i in range(count):
        item: dict[str, Any] = {"step": start + i, "epoch": (start + i) // 1000,
                                "loss": loss[i], "t": t0 + i * 0.0123456789}
        rows = values[i].tolist()
        item.update(zip(FIELDS, rows, strict=True))
        out.append(item)
    return out


def write_run(store: RunStore, run_id: str, n_steps: int, n_layers: int, seed: int = 0,
              spike: int | None = None) -> None:
    """A completed run of n_steps recorded steps × n_layers layers, flushed to the store."""
    rng = np.random.default_rng(seed)
    store.insert_run({"id": run_id, "owner": "bench", "name": f"synthetic {n_steps}×{n_layers}",
                      "status": "completed", "config": {"seed": seed}, "parent_id": None,
                      "created_at": time.time(), "started_at": time.time(),
                      "finished_at": time.time(), "layers": layers(n_layers),
                      "progress": {"step": n_steps, "epoch": n_steps // 1000,
                                   "total_steps": n_steps}})
    for start in range(0, n_steps, BATCH):
        store.append_steps(run_id, steps(start, min(BATCH, n_steps - start), n_layers, rng,
                                         spike))
        store.flush()
    for epoch in range(max(1, n_steps // 1000)):
        store.append_epoch(run_id, {"type": "epoch", "epoch": epoch, "loss": 0.5,
                                    "accuracy": 0.5, "val_loss": None, "val_accuracy": None})
    store.flush()


def disk_bytes(folder: Path) -> int:
    """Bytes of the database with its write-ahead log and shared memory file."""
    return sum(p.stat().st_size for p in folder.glob("gradwatch.db*"))
