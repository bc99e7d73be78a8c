"""Diagnosis of a run from its recent steps (NumPy only, no TensorFlow).

The judgement follows the backpropagated signal ‖∂L/∂s_l‖ (the probe's `output_grad_norms`:
the gradient of the loss with respect to each layer's output), which is what vanishes or
explodes. Weight gradients are not used for the verdict where the signal is recorded: they
include the regularizer's penalty gradient and the size of each layer's input. docs/diagnosis.md
states the rules, the thresholds and the measured cases; trainer/explain.py writes the "why".

1. `unknown` with no steps, or fewer than MIN_STEPS finite ones.
2. `diverged` when the loss or a gradient norm is NaN or infinite.
3. `exploding` (axis `time`) when a recurrent run's gradient grows across time (below);
   `exploding` (axis `scale`) when every row is huge: the largest layer gradient norm is above
   EXPLODING_NORM and EXPLODING_SCALE times that layer's weight norm (init-driven explosion,
   where forward and backward growth cancel in any ratio of weight gradients).
4. Depth: the per-unit signal of the input-side layer ÷ that of the last hidden layer (the
   output layer when there is a single hidden layer); normalization layers are not depth, and
   in a residual net the first block (no skip: it maps the input to the width) is left out.
   `exploding` above EXPLODING_RATIO (growth toward the input), `vanishing` below
   VANISHING_RATIO.
4b. `dead` (axis `units`) when a ReLU layer's units output 0 for the whole batch (median of
   recent steps) in nearly all of them (≥ DEAD_FRACTION), or in most of them while no signal
   reaches the input side at all (≥ DEAD_WITH_BLOCKED_SIGNAL): no gradient passes through them.
5. Time (recurrent runs): ‖∂L/∂x_1‖ ÷ ‖∂L/∂x_T‖ below TIME_VANISHING_RATIO or above
   TIME_EXPLODING_RATIO.
6. `healthy` otherwise.

Every ratio is a median over the last WINDOW steps, and a state is left only once its ratio is
HYSTERESIS back inside the threshold (the previous diagnosis is passed in).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from trainer.advice import suggestions
from trainer.contract.config import RunConfig, input_shape
from trainer.contract.thresholds import (
    DEAD_FRACTION,
    DEAD_WITH_BLOCKED_SIGNAL,
    EXPLODING_NORM,
    EXPLODING_RATIO,
    EXPLODING_SCALE,
    HYSTERESIS,
    MIN_STEPS,
    TIME_EXPLODING_RATIO,
    TIME_VANISHING_RATIO,
    VANISHING_RATIO,
    WINDOW,
)
from trainer.evidence import Evidence, Layers, Recent
from trainer.explain import message, then, why

NORMALIZATION = ("BatchNormalization", "LayerNormalization", "GroupNormalization",
                 "UnitNormalization", "RMSNormalization")


def _matrix(rows: list[list[float | None]]) -> np.ndarray:
    return np.array([[math.nan if v is None else v for v in row] for row in rows], dtype=float)


def _median(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else None


def _carriers(layers: Layers, og: np.ndarray, n: int) -> list[int]:
    """The layers whose backpropagated signal is recorded and which carry it (normalization
    layers re-scale the signal but are not depth), input side first."""
    kinds = layers.kinds if len(layers.kinds) == n else ("",) * n
    units = layers.units if len(layers.units) == n else (1,) * n
    if og.shape[1] != n:
        return []
    return [i for i in range(n) if kinds[i] not in NORMALIZATION and units[i] > 0
            and np.isfinite(og[:, i]).any()]


def evidence(layers: Layers, recent: Recent, skip_first: bool = False) -> Evidence:
    """The figures of the last WINDOW steps.

    Args:
        skip_first: compare from the second carrying layer on (a residual net's first block
            maps the input to the width and has no skip: like is compared with like).
    """
    g = _matrix(recent.grad_norms[-WINDOW:])
    n = g.shape[1]
    ev = Evidence(steps=len(g))
    names = layers.names if len(layers.names) == n else tuple(f"layer {i + 1}" for i in range(n))
    with np.errstate(divide="ignore", invalid="ignore"):
        ev.weight_ratio = _median(g[:, 0] / g[:, -1])
        ev.loss = _median(np.array([math.nan if v is None else v
                                    for v in recent.losses[-WINDOW:]], dtype=float))
        if recent.weight_norms:
            w = _matrix(recent.weight_norms[-WINDOW:])
            top = np.nanargmax(np.where(np.isfinite(g), g, -1), axis=1)
            rows = np.arange(len(g))
            ev.top_grad = _median(g[rows, top])
            ev.grad_to_weight = _median(np.where(w[rows, top] > 0, g[rows, top] / w[rows, top],
                                                 np.nan))
        og = _matrix(recent.output_grad_norms[-WINDOW:]) if recent.output_grad_norms \
            else np.empty((len(g), 0))
        carry = _carriers(layers, og, n)
        if skip_first and len(carry) >= 4:
            carry = carry[1:]
        if len(carry) >= 2:
            # input-side layer ÷ last hidden layer (the same kind of signal); the output
            # layer when there is one hidden layer, or when no signal reaches the last hidden
            # one (every unit dead: the signal is blocked above it)
            units = layers.units if len(layers.units) == n else (1,) * n
            per_unit = og / np.sqrt(np.maximum(np.array(units, dtype=float), 1))
            a, b = carry[0], carry[-2] if len(carry) >= 3 else carry[-1]
            if len(carry) >= 3 and not (per_unit[:, b] > 0).any():
                b = carry[-1]
            ev.span = carry.index(b)
            ratios = np.where(per_unit[:, b] > 0, per_unit[:, a] / per_unit[:, b], np.nan)
        else:  # no recorded signal (a subclassed model): the weight gradients, first ÷ last
            a, b, ev.source = 0, n - 1, "weights"
            kinds = layers.kinds if len(layers.kinds) == n else ("",) * n
            ev.span = max(sum(k not in NORMALIZATION for k in kinds) - 1, 1)
            ratios = np.where(g[:, b] > 0, g[:, a] / g[:, b], np.nan)
        ev.first, ev.last = names[a], names[b]
        ev.ratio = _median(ratios)
        if recent.update_ratios:
            u = _matrix(recent.update_ratios[-WINDOW:])
            ev.update_first, ev.update_last = _median(u[:, a]), _median(u[:, b])
        if recent.dead_fractions:
            dead = _matrix(recent.dead_fractions[-WINDOW:])
            if dead.shape[1] == n and np.isfinite(dead).any():
                with warnings.catch_warnings():  # layers without a ReLU are all-NaN columns
                    warnings.simplefilter("ignore", RuntimeWarning)
                    medians = np.nanmedian(dead, axis=0)
                medians = np.where(np.isfinite(medians), medians, -1.0)
                worst = int(np.argmax(medians))
                if medians[worst] >= 0:
                    ev.dead, ev.dead_layer = float(medians[worst]), names[worst]
        if recent.time_ratios:
            ev.time_ratio = _median(np.array([math.nan if v is None else v
                                              for v in recent.time_ratios[-WINDOW:]],
                                             dtype=float))
    return ev


def _finite(recent: Recent) -> bool:
    g = _matrix(recent.grad_norms[-WINDOW:])
    loss = np.array([math.nan if v is None else v for v in recent.losses[-WINDOW:]], dtype=float)
    return bool(np.isfinite(g).all() and np.isfinite(loss).all())


def judge(ev: Evidence, finite: bool, previous: dict[str, Any] | None = None,
          min_steps: int = MIN_STEPS) -> tuple[str, str]:
    """(state, axis) from the evidence; axis is depth, time, scale or "" (no single axis)."""
    if ev.steps == 0:
        return "unknown", ""
    if not finite:
        return "diverged", ""
    if ev.steps < min_steps:
        return "unknown", ""
    was = (previous or {}).get("state"), (previous or {}).get("axis")

    def widen(state: str, axis: str) -> float:
        return HYSTERESIS if was == (state, axis) else 1.0

    if ev.dead is not None:
        blocked = not ev.ratio  # no signal reaches the input side at all
        held = was == ("dead", "units")
        if ev.dead >= (DEAD_WITH_BLOCKED_SIGNAL if held else DEAD_FRACTION) or (
                blocked and ev.dead >= DEAD_WITH_BLOCKED_SIGNAL):
            return "dead", "units"
    # A recurrent run whose gradient grows across time: that is where its huge gradients
    # come from, so the time axis is named before the scale rule.
    if ev.time_ratio is not None and \
            ev.time_ratio > TIME_EXPLODING_RATIO / widen("exploding", "time"):
        return "exploding", "time"
    if (ev.top_grad is not None and ev.grad_to_weight is not None
            and ev.top_grad > EXPLODING_NORM / widen("exploding", "scale")
            and ev.grad_to_weight > EXPLODING_SCALE / widen("exploding", "scale")):
        return "exploding", "scale"
    if ev.ratio is not None:
        if ev.ratio > EXPLODING_RATIO / widen("exploding", "depth"):
            return "exploding", "depth"
        if ev.ratio < VANISHING_RATIO * widen("vanishing", "depth"):
            return "vanishing", "depth"
    if ev.time_ratio is not None and \
            ev.time_ratio < TIME_VANISHING_RATIO * widen("vanishing", "time"):
        return "vanishing", "time"
    if ev.ratio is None and ev.time_ratio is None:
        return "unknown", ""
    return "healthy", ""


def diagnose(config: RunConfig, recent: Recent, layers: Layers | None = None,
             previous: dict[str, Any] | None = None,
             initial: dict[str, Any] | None = None,
             min_steps: int = MIN_STEPS) -> dict[str, Any]:
    """The Diagnosis of CONTRACT §5 (with this project's extensions, docs/protocol.md).

    Args:
        config: the run's config (the optimizer, the cell and the remedies decide the words
            and the advice).
        recent: the most recent steps' figures.
        layers: names, kinds and output sizes of the probed layers.
        previous: the last diagnosis of this run, for hysteresis.
        initial: the verdict at initialization (step 0: state, axis, ratio, time_ratio),
            told when it differs from today's: a net that exploded at first and recovered.
        min_steps: fewer steps than this are `unknown` (1 for the verdict at step 0).
    """
    layers = layers or Layers()
    m = config.model
    skip_first = (config.remedies.residual and m.arch in ("mlp", "cnn")
                  and input_shape(config)[-1] != m.width)
    ev = evidence(layers, recent, skip_first) if recent.grad_norms else Evidence(steps=0)
    state, axis = judge(ev, ev.steps > 0 and _finite(recent), previous, min_steps)
    return {
        "state": state, "axis": axis, "ratio": ev.ratio, "gain": ev.gain,
        "span": ev.span, "compared": [ev.first, ev.last], "source": ev.source,
        "weight_ratio": ev.weight_ratio, "time_ratio": ev.time_ratio,
        "update_ratios": [ev.update_first, ev.update_last],
        "dead_fraction": ev.dead,
        "message": message(state, axis, config, ev) + then(initial, state, ev),
        "initial": initial,
        "suggestions": suggestions(state, axis, config),
        "why": why(state, axis, config, ev),
    }
