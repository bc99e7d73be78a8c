"""The figures a diagnosis rests on: the probed layers, the recent steps, and the evidence
drawn from them (trainer/diagnose.py draws it, trainer/explain.py words it)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Layers:
    """What the diagnosis needs to know of the probed layers (ProbeLayout's fields)."""

    names: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    units: tuple[int, ...] = ()


@dataclass
class Recent:
    """The recent steps' figures, oldest first, one row per step, one column per layer."""

    grad_norms: list[list[float | None]]
    losses: list[float | None]
    output_grad_norms: list[list[float | None]] = field(default_factory=list)
    weight_norms: list[list[float | None]] = field(default_factory=list)
    update_ratios: list[list[float | None]] = field(default_factory=list)
    time_ratios: list[float | None] = field(default_factory=list)
    dead_fractions: list[list[float | None]] = field(default_factory=list)


@dataclass
class Evidence:
    """The figures a verdict rests on (medians over the window); None where not measured."""

    steps: int
    source: str = "backprop"          # "backprop": output_grad_norms; "weights": grad_norms
    first: str = "layer 1"
    last: str = "the output layer"
    span: int = 1                      # layer-to-layer steps between first and last
    ratio: float | None = None         # per-unit signal, first ÷ last
    weight_ratio: float | None = None  # ‖∇W‖ first layer ÷ output layer (what the heatmap shows)
    top_grad: float | None = None      # largest layer gradient norm
    grad_to_weight: float | None = None  # that ÷ its weight norm
    update_first: float | None = None  # ‖ΔW‖/‖W‖ of the first and last compared layers
    update_last: float | None = None
    loss: float | None = None
    time_ratio: float | None = None
    dead: float | None = None          # the largest median fraction of a layer's dead units
    dead_layer: str = ""

    @property
    def gain(self) -> float | None:
        """The geometric-mean factor per layer-to-layer step."""
        if self.ratio is None or self.ratio <= 0:
            return None
        return float(self.ratio ** (1 / max(self.span, 1)))
