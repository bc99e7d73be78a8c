"""Keeps a run's recent figures and re-diagnoses it now and then (trainer/diagnose.py decides)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from trainer.contract import protocol
from trainer.contract.config import RunConfig
from trainer.contract.thresholds import WINDOW
from trainer.diagnose import diagnose
from trainer.evidence import Layers, Recent
from trainer.probe import ProbeLayout

DIAGNOSE_SECONDS = 1.0
WINDOW_FIELDS = ("grad_norms", "output_grad_norms", "weight_norms", "update_ratios",
                 "dead_fractions")


class Diagnoser:
    """The last WINDOW steps' figures, and the run's diagnosis, emitted when it changes."""

    def __init__(self, config: RunConfig, layout: ProbeLayout,
                 emit: Callable[[dict[str, Any]], None]) -> None:
        self.config, self.layout, self.emit = config, layout, emit
        self.recent = Recent([], [])
        self.layers = Layers(layout.names, layout.kinds, layout.units)
        self.last: dict[str, Any] | None = None
        self.initial: dict[str, Any] | None = None  # the first verdict, at initialization
        self.last_at = time.monotonic()

    def take(self, matrix: np.ndarray) -> None:
        """Keep the newest steps of these probe rows (one per step, oldest first); the very
        first one also gives the verdict at initialization."""
        recent, layout, tail = self.recent, self.layout, matrix[-WINDOW:]
        first_rows = self.initial is None and not recent.grad_norms
        recent.losses.extend(tail[:, 0].tolist())
        for name in WINDOW_FIELDS:
            kept = getattr(recent, name)
            kept.extend(tail[:, layout.field_slice(name)].tolist())
            del kept[:-WINDOW]
        if layout.time_steps:
            first, last = tail[:, -layout.time_steps], tail[:, -1]
            with np.errstate(divide="ignore", invalid="ignore"):
                recent.time_ratios.extend(np.where(last > 0, first / last, np.nan).tolist())
        del recent.losses[:-WINDOW], recent.time_ratios[:-WINDOW]
        if first_rows and len(matrix):
            self.initial = self._at_initialization(matrix[:1])

    def _at_initialization(self, row: np.ndarray) -> dict[str, Any]:
        """The verdict on the first step alone: the network as initialized."""
        layout = self.layout
        step0 = Recent(row[:, layout.field_slice("grad_norms")].tolist(), row[:, 0].tolist())
        for name in WINDOW_FIELDS[1:]:
            setattr(step0, name, row[:, layout.field_slice(name)].tolist())
        if layout.time_steps:
            with np.errstate(divide="ignore", invalid="ignore"):
                last = row[:, -1]
                step0.time_ratios = np.where(last > 0, row[:, -layout.time_steps] / last,
                                             np.nan).tolist()
        diag = diagnose(self.config, step0, self.layers, min_steps=1)
        return {k: diag[k] for k in ("state", "axis", "ratio", "time_ratio")}

    def due(self) -> bool:
        """Whether DIAGNOSE_SECONDS have passed since the last diagnosis."""
        return time.monotonic() - self.last_at >= DIAGNOSE_SECONDS

    def update(self, before_emit: Callable[[], None], force: bool = False) -> None:
        """Re-diagnose; emit (after `before_emit`, which sends the steps it rests on) when the
        state or the advice changed, or always with `force`."""
        self.last_at = time.monotonic()
        diag = diagnose(self.config, self.recent, self.layers, self.last, self.initial)
        last = self.last
        if force or last is None or (last["state"], last["suggestions"]) != (
                diag["state"], diag["suggestions"]):
            before_emit()
            self.emit(protocol.diagnosis(diag))
            self.last = diag
