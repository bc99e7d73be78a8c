"""Callback overhead: steps/s of a user's `fit` with GradWatchCallback ÷ the same `fit` without.

A real server (no workers) takes the watched runs. Both sides train the same model (same
layers, optimizer, loss, metrics, batches, `steps_per_execution`), each its own copy, in
alternating rounds of about 1000 steps; the median of the rounds is kept. Each round's rate is
timed from the start of its second epoch to the end of fit, so the one-off traces of the train
function (Keras's own, or the callback's probed one, which it traces at each fit's start) are
left out of the rate and reported apart (`first_epoch_s`).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from examples.watch_my_cnn import build as build_cnn
from gradwatch import GradWatchCallback
from tests.helpers import server_process

ROUNDS = 5
STEPS_PER_ROUND = 1000


class _Clock(keras.callbacks.Callback):
    """Seconds of the first epoch and of the epochs after it."""

    def on_train_begin(self, logs: Any = None) -> None:
        self.began = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        if epoch == 1:
            self.second = time.perf_counter()

    def on_train_end(self, logs: Any = None) -> None:
        self.ended = time.perf_counter()


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.images / 16.0).reshape(-1, 8, 8, 1).astype("float32"), digits.target


def _mlp() -> keras.Model:
    inputs = keras.Input((64,))
    x = inputs
    for i in range(4):
        x = keras.layers.Dense(64, activation="relu", name=f"dense_{i + 1}")(x)
    return keras.Model(inputs, keras.layers.Dense(10, name="out")(x))


CASES = {
    "digits conv net (3 Conv2D+BN blocks, 16 filters)": (build_cnn, lambda x: x),
    "4-layer MLP (width 64) on the digits": (_mlp, lambda x: x.reshape(len(x), 64)),
}


# The small size `make test` runs (tests/test_benchmarks.py): module constants overridden.
SMOKE = {"ROUNDS": 1, "STEPS_PER_ROUND": 60,  # two epochs: the rate is timed from the second
         "CASES": {"4-layer MLP (width 64) on the digits": (_mlp, lambda x: x.reshape(len(x), 64))}}


def _compiled(build: Any, spe: int) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], steps_per_execution=spe)
    return model


def _fit(model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int,
         callbacks: list[Any]) -> tuple[float, float]:
    """(steps/s after the first epoch, seconds of the first epoch)."""
    clock = _Clock()
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, callbacks=[*callbacks, clock])
    steps = (epochs - 1) * int(np.ceil(len(x) / 32))
    return steps / (clock.ended - clock.second), clock.second - clock.began


def measure(url: str, name: str, spe: int) -> dict[str, Any]:
    build, shape = CASES[name]
    x, y = _digits()
    x = shape(x)
    epochs = 1 + STEPS_PER_ROUND // int(np.ceil(len(x) / 32))
    plain, watched = _compiled(build, spe), _compiled(build, spe)
    _fit(plain, x, y, 2, [])  # trace Keras's own train function once
    rates: dict[str, list[float]] = {"plain": [], "watched": []}
    first: dict[str, list[float]] = {"plain": [], "watched": []}
    runs = []
    for _ in range(ROUNDS):
        rate, head = _fit(plain, x, y, epochs, [])
        rates["plain"].append(rate)
        first["plain"].append(head)
        watch = GradWatchCallback(url, name=f"bench {name} spe {spe}", fail_silently=False)
        rate, head = _fit(watched, x, y, epochs, [watch])
        rates["watched"].append(rate)
        first["watched"].append(head)
        runs.append(watch.run["id"])
    plain_rate = statistics.median(rates["plain"])
    watched_rate = statistics.median(rates["watched"])
    return {"suite": "callback_overhead", "case": name, "steps_per_execution": spe,
            "plain_steps_per_s": round(plain_rate, 1),
            "watched_steps_per_s": round(watched_rate, 1),
            "ratio": round(watched_rate / plain_rate, 3),
            "first_epoch_s": {k: round(statistics.median(v), 2) for k, v in first.items()},
            "rounds": ROUNDS, "steps_per_round": (epochs - 1) * int(np.ceil(len(x) / 32)),
            "goal": ">= 0.9", "runs": len(runs)}


def run() -> list[dict[str, Any]]:
    """The ratio for each case at steps_per_execution 1 and 32."""
    with tempfile.TemporaryDirectory() as tmp, server_process(
            Path(tmp), GRADWATCH_WORKERS="0") as (url, _):
        return [measure(url, name, spe) for name in CASES for spe in (1, 32)]
