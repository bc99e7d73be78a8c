"""The diagnosis's thresholds, in one place for the trainer and the page (TF-free, no imports).

`trainer/diagnose.py` decides with them; the server hands them to the page as an ES module,
whose colour bars mark the same ranges. docs/diagnosis.md explains each one and the measured
cases they separate.
"""

# Depth: the backpropagated signal ‖∂L/∂s‖ per unit of the input-side layer ÷ that of the last
# layer compared (the last hidden layer, or the output layer when there is one hidden layer).
VANISHING_RATIO = 1e-2       # below: vanishing (the input side gets under 1 % of the signal)
EXPLODING_RATIO = 1e2        # above: exploding toward the input
# Time (recurrent runs): ‖∂L/∂x_1‖ ÷ ‖∂L/∂x_T‖, the first time step's gradient over the last's.
TIME_VANISHING_RATIO = 1e-2
TIME_EXPLODING_RATIO = 1e2
# Hysteresis: a state entered past a threshold is left only once the ratio is back this factor
# inside it (a decade), so a ratio hovering on a threshold cannot make the verdict flap: the old
# LSTM preset's time ratio wandered between 0.007 and 0.04 for its last 500 steps.
HYSTERESIS = 10.0
# Scale (explosion with every row uniformly huge, which no ratio shows): the median over recent
# steps of the largest layer gradient norm is above EXPLODING_NORM and above EXPLODING_SCALE
# times that layer's weight norm.
EXPLODING_NORM = 1e3
EXPLODING_SCALE = 1e2
# Dead units (ReLU units that output 0 for the whole batch pass no gradient): `dead` when some
# layer's median fraction is at least DEAD_FRACTION, or at least DEAD_WITH_BLOCKED_SIGNAL while
# no signal reaches the input side at all (a 30-layer Glorot ReLU net has many dead units too,
# but its signal vanishes geometrically from the start: that is vanishing). Measured: a
# 10-layer He ReLU net that trains (Adam 0.03) has 41–81 % dead units per layer; at Adam 0.3
# 72–100 %, with a layer wholly dead.
DEAD_FRACTION = 0.9
DEAD_WITH_BLOCKED_SIGNAL = 0.5
MIN_STEPS = 3                # fewer recorded steps: unknown
WINDOW = 50                  # the recent steps a diagnosis takes the median over


def for_page() -> dict[str, float]:
    """The thresholds the page's colour bars use, by the page's names."""
    return {"vanishingRatio": VANISHING_RATIO, "timeVanishingRatio": TIME_VANISHING_RATIO,
            "explodingRatio": EXPLODING_RATIO, "timeExplodingRatio": TIME_EXPLODING_RATIO,
            "explodingNorm": EXPLODING_NORM, "window": WINDOW}
