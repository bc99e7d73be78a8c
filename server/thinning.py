"""Keeps a run's recorded history under a bounded number of steps without losing its extremes.

The rule, applied per run while it trains:

- Steps are recorded while `step % stride == 0` (the stride starts at 1, so a short run keeps
  every step). A step off the stride is recorded anyway when it is the run's first non-finite
  step (where a divergence begins) or when one of its layers' gradient norms is more than twice
  the largest or less than half the smallest recorded so far (a spike or a collapse).
- When the record grows past the limit it is thinned: the stride doubles and every recorded step
  off the new stride is dropped, except the first and the last recorded step, the first
  non-finite step, and, for every layer, the steps with the largest and smallest gradient norm.
- When the run ends, its very last step is recorded even if it was off the stride.

So a thinned history keeps an even spread of steps plus everything a student would look for.
"""

from __future__ import annotations

import math
from typing import Any


def is_finite_step(item: dict[str, Any]) -> bool:
    """Whether a Step's loss and gradient norms are all finite numbers."""
    values = [item.get("loss"), *(item.get("grad_norms") or [])]
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


class Thinner:
    """Decides which of a run's steps are recorded, and which to drop when there are too many."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.stride = 1
        self.first_non_finite: int | None = None
        self.last_seen: dict[str, Any] | None = None
        self.last_recorded: int | None = None
        self._high: list[float] = []
        self._low: list[float] = []

    @classmethod
    def resume(cls, limit: int, history: dict[str, list[Any]]) -> Thinner:
        """A Thinner that carries on a run whose recorded History a previous process left.

        The stride is the smallest power of two whose every multiple up to the last recorded
        step is recorded (thinning only ever drops steps off the stride).
        """
        thinner = cls(limit)
        steps = history["step"]
        if not steps:
            return thinner
        recorded = set(steps)
        while thinner.stride <= steps[-1] and any(
                s not in recorded for s in range(0, steps[-1] + 1, thinner.stride)):
            thinner.stride *= 2
        keys = list(history)
        for i in range(len(steps)):
            item = {k: history[k][i] for k in keys}
            if not is_finite_step(item) and thinner.first_non_finite is None:
                thinner.first_non_finite = item["step"]
            thinner._track_extremes(item.get("grad_norms") or [], True)
            thinner.last_seen = item
        thinner.last_recorded = steps[-1]
        return thinner

    def admit(self, item: dict[str, Any]) -> bool:
        """Whether a new Step is recorded; call once per step, in order."""
        self.last_seen = item
        keep = item["step"] % self.stride == 0
        if not is_finite_step(item) and self.first_non_finite is None:
            self.first_non_finite = item["step"]
            keep = True
        keep = self._track_extremes(item.get("grad_norms") or [], keep) or keep
        if keep:
            self.last_recorded = item["step"]
        return keep

    def _track_extremes(self, norms: list[Any], keep: bool) -> bool:
        spike = False
        for i, g in enumerate(norms):
            if not (isinstance(g, int | float) and math.isfinite(g)):
                continue
            if i >= len(self._high):
                self._high.append(g)
                self._low.append(g)
                continue
            if g > 2 * self._high[i] or g < self._low[i] / 2:
                spike = True
            if keep or spike:
                self._high[i] = max(self._high[i], g)
                self._low[i] = min(self._low[i], g)
        return spike

    def tail(self) -> dict[str, Any] | None:
        """The run's last step if it was not recorded (call when the run ends), else None."""
        if self.last_seen is None or self.last_seen["step"] == self.last_recorded:
            return None
        self.last_recorded = self.last_seen["step"]
        return self.last_seen

    def over_limit(self, history: dict[str, list[Any]]) -> bool:
        """Whether the recorded history has grown past the limit."""
        return len(history["step"]) > self.limit

    def thin(self, history: dict[str, list[Any]]) -> list[int]:
        """Drop steps from a History in place per the rule above; returns the dropped steps."""
        steps = history["step"]
        dropped: list[int] = []
        while len(steps) > self.limit and len(steps) > 2:
            self.stride *= 2
            keep = self._protected(history) | {
                i for i, s in enumerate(steps) if s % self.stride == 0
            }
            if len(keep) >= len(steps) and self.stride > 2 ** 40:
                break  # nothing left to drop: the limit is smaller than the protected steps
            dropped += [s for i, s in enumerate(steps) if i not in keep]
            for key, values in history.items():
                history[key] = [v for i, v in enumerate(values) if i in keep]
            steps = history["step"]
        return dropped

    def _protected(self, history: dict[str, list[Any]]) -> set[int]:
        steps = history["step"]
        keep = {0, len(steps) - 1}
        if self.first_non_finite is not None and self.first_non_finite in steps:
            keep.add(steps.index(self.first_non_finite))
        rows = history["grad_norms"]
        n_layers = max((len(r) for r in rows if r), default=0)
        for layer in range(n_layers):
            column = [
                (r[layer], i) for i, r in enumerate(rows)
                if r and layer < len(r) and isinstance(r[layer], int | float)
                and math.isfinite(r[layer])
            ]
            if column:
                keep.add(max(column)[1])
                keep.add(min(column)[1])
        return keep
