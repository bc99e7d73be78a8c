"""The diagnosis's reference cases: configs whose true state is known from the literature and
from measurement (TF-free; docs/diagnosis.md lists them with their figures).

Each case is a RunConfig dict and the state a correct diagnosis gives once it has trained.
`tools/diagnosis_cases.py` trains them at full length; tests/test_diagnosis_cases.py trains
them shortened and checks the label and the advice.
"""

from __future__ import annotations

import copy
from typing import Any

from trainer.contract.config import deep_merge
from trainer.contract.presets import PRESETS_BY_ID


def _preset(preset_id: str, **overrides: Any) -> dict[str, Any]:
    return deep_merge(copy.deepcopy(PRESETS_BY_ID[preset_id]["config"]), overrides)


def _mlp(dataset: dict[str, Any], depth: int, width: int, remedies: dict[str, Any],
         training: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"dataset": dataset, "model": {"arch": "mlp", "depth": depth, "width": width},
            "remedies": remedies,
            "training": {"optimizer": "sgd", "learning_rate": 0.05, "epochs": 10,
                         **(training or {})}}


_SPIRALS = {"name": "spirals", "n_samples": 1000, "noise": 0.2}
_DIGITS = {"name": "digits"}

CASES: dict[str, dict[str, Any]] = {
    "sigmoid-l2": {"state": "vanishing", "config": _preset(
        "vanishing-sigmoid", remedies={"regularizer": "l2", "l2": 0.01})},
    "sigmoid-l1": {"state": "vanishing", "config": _preset(
        "vanishing-sigmoid", remedies={"regularizer": "l1", "l1": 0.001})},
    "tanh-standard-init": {"state": "vanishing", "config": _mlp(
        _DIGITS, 10, 64, {"activation": "tanh", "initializer": "random_uniform",
                          "init_std": 0.125})},
    "relu-batchnorm-30": {"state": "exploding", "config": _mlp(
        _SPIRALS, 30, 32, {"activation": "relu", "initializer": "he_normal",
                           "batch_norm": True})},
    "normal-init-sgd": {"state": "diverged", "config": _mlp(
        _SPIRALS, 10, 32, {"activation": "relu", "initializer": "random_normal",
                           "init_std": 1.0})},
    "normal-init-adam": {"state": "exploding", "config": _mlp(
        _SPIRALS, 10, 32, {"activation": "relu", "initializer": "random_normal",
                           "init_std": 1.0}, {"optimizer": "adam", "learning_rate": 0.001})},
    "wide-normal-0.15": {"state": "diverged", "config": _mlp(
        _SPIRALS, 10, 512, {"activation": "relu", "initializer": "random_normal",
                            "init_std": 0.15}, {"epochs": 2})},
    "simple-rnn": {"state": "vanishing", "config": _preset("vanishing-rnn")},
    "lstm": {"state": "healthy", "config": _preset("fixed-lstm")},
    "lstm-untrained": {"state": "vanishing", "config": _preset(
        "fixed-lstm", training={"epochs": 2})},
    "batchnorm-sigmoid-10": {"state": "healthy", "config": _preset("fixed-batchnorm")},
    "sigmoid-adam": {"state": "vanishing", "config": _preset(
        "vanishing-sigmoid", training={"optimizer": "adam", "learning_rate": 0.001})},
    "relu-he-uniform-narrow": {"state": "healthy", "config": _mlp(
        _SPIRALS, 30, 8, {"activation": "relu", "initializer": "he_uniform"})},
    "exploding-preset": {"state": "diverged", "config": _preset("exploding-init")},
    "tamed-clipping": {"state": "exploding", "config": _preset("tamed-clipping")},
    # vanishes at initialization (10⁻⁴), then every convolution's units die
    "vanishing-cnn": {"state": "dead", "config": _preset("vanishing-cnn")},
    "relu-glorot-30": {"state": "vanishing", "config": _preset("vanishing-relu-30")},
    # Controls: known to train well.
    "relu-he": {"state": "healthy", "config": _preset("fixed-relu-he")},
    "residual-30": {"state": "healthy", "config": _preset("fixed-residual")},
    "tanh-glorot": {"state": "healthy", "config": _mlp(
        _DIGITS, 10, 64, {"activation": "tanh", "initializer": "glorot_uniform"})},
    "seed": {"state": "healthy", "config": _preset("seed")},
    "l2-he": {"state": "healthy", "config": _preset("l2-shrinks")},
    # Learns (validation accuracy ~0.77); compared from conv_2 (the first layer with a skip)
    # its signal stays at 83× the last convolution's. Counting conv_1, which has no skip, the
    # old comparison said ×530, exploding.
    "residual-cnn": {"state": "healthy", "config": _preset("fixed-cnn-residual")},
}
