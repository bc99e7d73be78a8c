"""Named RunConfigs that each show one phenomenon or its remedy (TF-free)."""

from __future__ import annotations

from typing import Any

from trainer.config import RunConfig

_DEEP = {"dataset": {"name": "spirals", "n_samples": 1000, "noise": 0.2},
         "model": {"arch": "mlp", "depth": 10, "width": 32}}


def _preset(id_: str, title: str, look_for: str, config: dict[str, Any]) -> dict[str, Any]:
    full = RunConfig.model_validate({"name": title, **config}).model_dump()
    return {"id": id_, "title": title, "look_for": look_for, "config": full}


def _deep(remedies: dict[str, Any], training: dict[str, Any] | None = None,
          model: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"dataset": _DEEP["dataset"], "model": {**_DEEP["model"], **(model or {})},
            "remedies": remedies,
            "training": {"optimizer": "sgd", "learning_rate": 0.05, "epochs": 10,
                         **(training or {})}}


PRESETS: list[dict[str, Any]] = [
    _preset("seed", "The seed's example",
            "Dense(64, relu) → Dense(1, sigmoid) on random data: a shallow net, so the two "
            "layers' gradients stay within a factor of ten of each other.", {}),
    _preset("vanishing-sigmoid", "Vanishing: 10 sigmoid layers",
            "The bottom rows (input side) are thousands of times darker than the top: each "
            "sigmoid layer passes back at most a quarter of the gradient.",
            _deep({"activation": "sigmoid", "initializer": "glorot_uniform"})),
    _preset("fixed-relu-he", "Fixed: ReLU + He initialization",
            "Every row has about the same colour: ReLU's slope is 1 where active and He "
            "initialization keeps each layer's gain near 1.",
            _deep({"activation": "relu", "initializer": "he_normal"})),
    _preset("fixed-batchnorm", "Fixed: sigmoid + batch normalization",
            "Still sigmoid, but batch norm keeps each layer's input out of saturation, so the "
            "input-side rows are far brighter than without it.",
            _deep({"activation": "sigmoid", "batch_norm": True})),
    _preset("exploding-init", "Exploding: N(0, 1) initialization",
            "With weights of standard deviation 1 each ReLU layer multiplies the signal by "
            "about √(width/2), so the gradients are huge from the first step.",
            _deep({"activation": "relu", "initializer": "random_normal", "init_std": 1.0})),
    _preset("tamed-clipping", "Tamed: the same with gradient clipping",
            "The raw gradient norms are still huge, but the clipped global norm never exceeds "
            "1, so the updates stay bounded.",
            _deep({"activation": "relu", "initializer": "random_normal", "init_std": 1.0,
                   "clipping": "global_norm", "clip_value": 1.0})),
]

PRESETS_BY_ID = {p["id"]: p for p in PRESETS}
