"""Thinner: bounded history that keeps first, last, non-finite and extreme steps."""

from __future__ import annotations

import math

from server.thinning import Thinner
from trainer.contract.protocol import append_steps, empty_history


def item(i: int, g0: float = 1.0, loss: float = 0.5) -> dict:
    return {"step": i, "epoch": 0, "loss": loss, "t": float(i), "grad_norms": [g0, 1.0]}


def feed(thinner: Thinner, items: list[dict]) -> tuple[dict, list[int]]:
    history, dropped = empty_history(), []
    for it in items:
        if thinner.admit(it):
            append_steps(history, [it])
            if thinner.over_limit(history):
                dropped += thinner.thin(history)
    tail = thinner.tail()
    if tail is not None:
        append_steps(history, [tail])
    return history, dropped


def test_short_run_keeps_every_step() -> None:
    history, dropped = feed(Thinner(100), [item(i) for i in range(100)])
    assert history["step"] == list(range(100)) and dropped == []


def test_long_run_stays_bounded_and_evenly_spread() -> None:
    n, limit = 10_000, 100
    history, dropped = feed(Thinner(limit), [item(i) for i in range(n)])
    steps = history["step"]
    assert len(steps) <= limit + 1  # +1: the run's last step, added at the end
    assert steps[0] == 0 and steps[-1] == n - 1
    assert steps == sorted(set(steps))
    assert len(set(steps) | set(dropped)) == len(steps) + len(dropped)
    gaps = [b - a for a, b in zip(steps, steps[1:], strict=False)]
    assert max(gaps[:-1]) <= 2 * min(gaps[:-1])  # an even spread, not a dense tail


def test_extremes_and_first_non_finite_survive_thinning() -> None:
    items = [item(i) for i in range(5000)]
    items[1237] = item(1237, g0=1e6)  # a spike off every stride
    items[2001] = item(2001, g0=1e-9)  # a collapse
    items[3333] = item(3333, loss=math.nan)  # where divergence begins
    items[3334] = item(3334, loss=math.nan)
    history, _ = feed(Thinner(64), items)
    steps = history["step"]
    assert {1237, 2001, 3333} <= set(steps)
    assert 3334 not in steps  # only the first non-finite step is protected
    assert len(steps) <= 65


def test_a_resumed_thinner_carries_on_where_the_first_one_stopped() -> None:
    items = [item(i, g0=1.0 + (i % 7) / 10) for i in range(3000)]
    items[777] = item(777, g0=50.0)
    first, history, dropped = Thinner(64), empty_history(), []
    for it in items[:1500]:
        if first.admit(it):
            append_steps(history, [it])
            if first.over_limit(history):
                dropped += first.thin(history)
    assert first.stride > 1
    # A new server process rebuilds the thinner from the stored history only.
    resumed = Thinner.resume(64, {k: list(v) for k, v in history.items()})
    assert resumed.stride == first.stride
    assert resumed.last_seen["step"] == history["step"][-1]
    assert [resumed.admit(it) for it in items[1500:]] == [first.admit(it) for it in items[1500:]]
    assert Thinner.resume(64, empty_history()).stride == 1
