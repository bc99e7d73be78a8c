"""Probe overhead: steps/s of the instrumented run ÷ steps/s of plain `model.fit`, same process.

Both sides train the same architecture on the same batches (the job's own tf.data pipeline)
with the same optimizer; the probed side also streams every step through `StreamCallback`
(events collected in memory). Each side is warmed up (traced) first and then timed over seven
alternating rounds of about 1000 steps; the median is kept.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import keras

from trainer.config import RunConfig
from trainer.datasets import make_dataset
from trainer.job import StreamCallback, _batches
from trainer.models import LOSSES, build_model, task_of

ROUNDS = 7
STEPS_PER_ROUND = 1000  # about 1–5 s a round here: long enough to be steady on a shared machine


def _plain(config: RunConfig) -> keras.Model:
    """The same layers as build_model, as an ordinary keras.Model with Keras's train step."""
    probed = build_model(config)
    plain = keras.Model(probed.inputs, probed.outputs)
    plain.compile(optimizer=type(probed.optimizer).from_config(probed.optimizer.get_config()),
                  loss=LOSSES[task_of(config)]())
    return plain


def _steps_per_second(model: keras.Model, data: Any, config: RunConfig, probed: bool) -> float:
    callbacks = []
    if probed:
        callbacks = [StreamCallback(config, lambda e: None, lambda: None, 1e18, 1e18)]
    per_epoch = -(-len(data.x_train) // config.training.batch_size)
    epochs = -(-STEPS_PER_ROUND // per_epoch)
    start = time.perf_counter()
    model.fit(_batches(data, config), epochs=epochs, verbose=0, callbacks=callbacks,
              shuffle=False)
    return epochs * per_epoch / (time.perf_counter() - start)


def measure(name: str, config: dict[str, Any]) -> dict[str, Any]:
    """One JSON-able figure: probed and plain steps/s and their ratio."""
    cfg = RunConfig.model_validate(config)
    data = make_dataset(cfg)
    probed, plain = build_model(cfg), _plain(cfg)
    for model, is_probed in ((probed, True), (plain, False)):  # trace both first
        _steps_per_second(model, data, cfg, is_probed)
    with_probe, without = [], []
    for _ in range(ROUNDS):
        with_probe.append(_steps_per_second(probed, data, cfg, True))
        without.append(_steps_per_second(plain, data, cfg, False))
    a, b = statistics.median(with_probe), statistics.median(without)
    return {"bench": "probe_overhead", "model": name, "probed_steps_per_s": round(a, 1),
            "plain_fit_steps_per_s": round(b, 1), "ratio": round(a / b, 3), "target": 0.95}


CASES = {
    "seed (Dense 64 relu → Dense 1)": {},
    "20-layer MLP (width 64)": {"model": {"depth": 20, "width": 64},
                                "dataset": {"n_features": 32}},
}


def run() -> list[dict[str, Any]]:
    """All probe-overhead figures."""
    return [measure(name, config) for name, config in CASES.items()]
