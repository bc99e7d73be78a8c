"""Diagnosis of a run from its recent per-layer gradient norms (NumPy only, no TensorFlow).

Thresholds (docs/diagnosis.md explains them):
- diverged: the loss or a gradient norm is NaN or infinite.
- exploding: some layer's gradient norm exceeds EXPLODING_NORM, or the first/last ratio
  exceeds EXPLODING_RATIO.
- vanishing: the first/last ratio is below VANISHING_RATIO (the input side learns at least a
  hundred times slower than the output side), or, with a time axis, the gradient reaching the
  first time step is below TIME_VANISHING_RATIO of the last time step's (median over recent
  steps; a whole sequence is allowed more decay than one layer-to-layer ratio).
- healthy otherwise; unknown with fewer than MIN_STEPS steps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from trainer.contract.config import RunConfig
from trainer.contract.thresholds import (
    EXPLODING_NORM,
    EXPLODING_RATIO,
    MIN_STEPS,
    TIME_VANISHING_RATIO,
    VANISHING_RATIO,
    WINDOW,
)
from trainer.explain import remedy_why, why

SATURATING = ("sigmoid", "tanh")
VARIANCE_PRESERVING = {"relu": "he_normal", "leaky_relu": "he_normal", "elu": "he_normal",
                       "gelu": "he_normal", "swish": "he_normal", "selu": "lecun_normal",
                       "sigmoid": "glorot_uniform", "tanh": "glorot_uniform",
                       "linear": "glorot_uniform"}


def _sup(value: float) -> str:
    """A positive number as its nearest power of ten, e.g. 10⁻⁶ (zero as 'less than 10⁻⁴⁵')."""
    if value <= 0:
        return "less than 10⁻⁴⁵"
    digits = str(int(round(math.log10(value))))
    return "10" + digits.translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def _suggest(label: str, **sections: dict[str, Any]) -> dict[str, Any]:
    return {"label": label, "overrides": sections, "why": remedy_why(sections)}


def _vanishing_suggestions(config: RunConfig) -> list[dict[str, Any]]:
    r, m = config.remedies, config.model
    if m.arch == "rnn" and m.cell == "simple_rnn":
        return [_suggest("Use an LSTM cell", model={"cell": "lstm"}),
                _suggest("Use a GRU cell", model={"cell": "gru"})]
    out = []
    if r.activation in SATURATING:
        out.append(_suggest("ReLU with He initialization",
                            remedies={"activation": "relu", "initializer": "he_normal"}))
    elif r.initializer != VARIANCE_PRESERVING[r.activation]:
        out.append(_suggest("He initialization", remedies={
            "initializer": VARIANCE_PRESERVING[r.activation]}))
    if not r.batch_norm and m.arch in ("mlp", "cnn"):
        out.append(_suggest("Batch normalization", remedies={"batch_norm": True}))
    if not r.residual and m.arch in ("mlp", "cnn"):
        out.append(_suggest("Residual connections", remedies={"residual": True}))
    return out


def _exploding_suggestions(config: RunConfig) -> list[dict[str, Any]]:
    r, t = config.remedies, config.training
    out = []
    good_init = VARIANCE_PRESERVING[r.activation]
    if r.initializer in ("random_normal", "random_uniform") and r.init_std >= 0.2:
        out.append(_suggest(f"Variance-preserving initialization ({good_init})",
                            remedies={"initializer": good_init}))
    if r.clipping == "none":
        out.append(_suggest("Clip the global gradient norm at 1",
                            remedies={"clipping": "global_norm", "clip_value": 1.0}))
    out.append(_suggest("A 10× smaller learning rate",
                        training={"learning_rate": t.learning_rate / 10}))
    return out


def _median_finite(values: list[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.median(finite)) if finite else None


def _ratio(first: np.ndarray, last: np.ndarray) -> float | None:
    ok = np.isfinite(first) & np.isfinite(last) & (last > 0)
    if not ok.any():
        return None
    return float(np.median(first[ok] / last[ok]))


def _diagnose(config: RunConfig, grad_norms: list[list[float | None]], losses: list[float | None],
              time_ratios: list[float | None] | None) -> dict[str, Any]:
    """The state, ratio, message and suggestions; arguments as for `diagnose`."""
    rows = grad_norms[-WINDOW:]
    if not rows:
        return {"state": "unknown", "ratio": None, "message": "No steps yet.",
                "suggestions": []}
    g = np.array([[math.nan if v is None else v for v in row] for row in rows], dtype=float)
    loss = np.array([math.nan if v is None else v for v in losses[-WINDOW:]], dtype=float)
    ratio = _ratio(g[:, 0], g[:, -1])
    finite = bool(np.isfinite(g).all() and np.isfinite(loss).all())
    if finite and len(rows) < MIN_STEPS:
        return {"state": "unknown", "ratio": ratio, "message": "Not enough steps yet.",
                "suggestions": []}
    if not finite:
        return {"state": "diverged", "ratio": ratio, "suggestions": _exploding_suggestions(config),
                "message": "The loss or a gradient became NaN or infinite: the weights "
                           "overflowed, and training cannot continue from here."}
    top = float(np.median(g.max(axis=1)))
    depth = g.shape[1]
    if ratio is None:
        return {"state": "unknown", "ratio": None, "suggestions": [],
                "message": "The output layer's gradient is zero, so no ratio can be formed."}
    if top > EXPLODING_NORM or ratio > EXPLODING_RATIO:
        return {"state": "exploding", "ratio": ratio,
                "suggestions": _exploding_suggestions(config),
                "message": f"Gradients are exploding: the largest layer gradient norm is about "
                           f"{_sup(top)} and the input-side layer's is "
                           f"{_sup(ratio)} times the output layer's. Each layer "
                           f"multiplies the backpropagated signal by more than 1."}
    if ratio <= 0:
        return {"state": "vanishing", "ratio": ratio,
                "suggestions": _vanishing_suggestions(config),
                "message": "Layer 1 receives no gradient at all: every path back to it is "
                           "blocked (all-zero weights, or units that never activate)."}
    if ratio < VANISHING_RATIO:
        return {"state": "vanishing", "ratio": ratio,
                "suggestions": _vanishing_suggestions(config),
                "message": f"Gradients are vanishing: layer 1's gradient is about "
                           f"{_sup(ratio)} of the output layer's, so the layers "
                           f"near the input barely learn: on its way back through "
                           f"{depth - 1} layers, each passes on about "
                           f"{ratio ** (1 / max(depth - 1, 1)):.2f} of the signal it "
                           f"receives."}
    across = _median_finite(time_ratios or [])
    if across is not None and across < TIME_VANISHING_RATIO:
        return {"state": "vanishing", "ratio": ratio,
                    "suggestions": _vanishing_suggestions(config),
                "message": f"Gradients vanish across time: the first time step gets "
                           f"{_sup(across)} of the gradient the last one gets, so the "
                           f"network cannot learn from early inputs."}
    return {"state": "healthy", "ratio": ratio, "time_ratio": across, "suggestions": [],
            "message": f"Gradients flow: layer 1's gradient is {ratio:.2g} times the output "
                       f"layer's, so every layer learns at a comparable pace."}


def diagnose(config: RunConfig, grad_norms: list[list[float | None]], losses: list[float | None],
             time_ratios: list[float | None] | None = None) -> dict[str, Any]:
    """Diagnose from the most recent steps, with a "why" paragraph using this run's numbers.

    Args:
        config: the run's config (decides which remedies to suggest).
        grad_norms: per-step lists of per-layer gradient norms, oldest first.
        losses: per-step losses, parallel to grad_norms.
        time_ratios: for sequence models, per recent step ‖∂L/∂x_1‖ / ‖∂L/∂x_T‖: how much
            of the gradient reaching the last time step still reaches the first.
    """
    result = _diagnose(config, grad_norms, losses, time_ratios)
    n_layers = len(grad_norms[-1]) if grad_norms else 0
    result["why"] = why(result["state"], config, result.get("ratio"), n_layers)
    return result
