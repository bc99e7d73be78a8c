"""The diagnosis's thresholds, in one place for the trainer and the page (TF-free, no imports).

`trainer/diagnose.py` decides with them; the server hands them to the page as an ES module
(`/static/thresholds.values.js`), whose colour bars mark the same ranges. docs/diagnosis.md
explains each one.
"""

VANISHING_RATIO = 1e-2       # first / last layer gradient norm below this: vanishing
TIME_VANISHING_RATIO = 1e-6  # first / last time step's gradient below this: vanishing in time
EXPLODING_RATIO = 1e2        # first / last layer ratio above this: exploding
EXPLODING_NORM = 1e3         # any layer's gradient norm above this: exploding
MIN_STEPS = 3                # fewer recorded steps: unknown
WINDOW = 50                  # the recent steps a diagnosis takes the median over


def for_page() -> dict[str, float]:
    """The thresholds the page's colour bars use, by the page's names."""
    return {"vanishingRatio": VANISHING_RATIO, "timeVanishingRatio": TIME_VANISHING_RATIO,
            "explodingRatio": EXPLODING_RATIO, "explodingNorm": EXPLODING_NORM,
            "window": WINDOW}
