"""Named RunConfigs that each show one phenomenon or its remedy (TF-free)."""

from __future__ import annotations

from typing import Any

from trainer.contract.config import RunConfig

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


def _sequence(cell: str) -> dict[str, Any]:
    return {"dataset": {"name": "adding", "n_samples": 1000, "seq_len": 100},
            "model": {"arch": "rnn", "cell": cell, "depth": 1, "width": 32},
            "remedies": {"activation": "tanh", "initializer": "orthogonal"},
            "training": {"optimizer": "adam", "learning_rate": 0.001, "epochs": 10}}


def _deep_cnn(residual: bool) -> dict[str, Any]:
    return {"dataset": {"name": "digits"},
            "model": {"arch": "cnn", "depth": 20, "width": 16},
            "remedies": {"activation": "relu", "initializer": "glorot_uniform",
                         "residual": residual},
            "training": {"optimizer": "adam", "learning_rate": 0.003, "epochs": 10}}


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
    _preset("vanishing-relu-30", "Vanishing: 30 ReLU layers with Glorot init",
            "ReLU alone is not enough: Glorot initialization is scaled for tanh, so each ReLU "
            "layer halves the signal's variance and after 30 layers the input side gets about "
            "10⁻⁵ of the output side's gradient.",
            _deep({"activation": "relu", "initializer": "glorot_uniform"},
                  model={"depth": 30})),
    _preset("fixed-residual", "Fixed: residual connections in the 30-layer net",
            "The same 30 layers and initialization, but each block's input is added to its "
            "output: the gradient has an identity path around every layer, so all 30 rows stay "
            "within a factor of ten of each other.",
            _deep({"activation": "relu", "initializer": "glorot_uniform", "residual": True},
                  model={"depth": 30})),
    _preset("exploding-init", "Exploding: N(0, 1) initialization",
            "With weights of standard deviation 1 each ReLU layer multiplies the signal by "
            "about √(width/2) = 4, so the gradients are around 10⁵ from the first step and one "
            "SGD step later the weights overflow: the run diverges.",
            _deep({"activation": "relu", "initializer": "random_normal", "init_std": 1.0})),
    _preset("tamed-clipping", "Tamed: the same with gradient clipping",
            "The raw gradient norms are still huge (the initialization is the cause), but the "
            "clipped global norm never exceeds 1, so every update stays small and the run no "
            "longer diverges. Switch the heatmap to the clipped norm to see the bound.",
            _deep({"activation": "relu", "initializer": "random_normal", "init_std": 1.0,
                   "clipping": "global_norm", "clip_value": 1.0})),
    _preset("l2-shrinks", "L2 regularization shrinks the weights",
            "Compare the weight-norm view with the ReLU + He run: the L2 penalty pulls every "
            "layer's weights towards zero. It changes the weights' size, not the gradient's "
            "path, so it is no cure for vanishing or exploding by itself.",
            _deep({"activation": "relu", "initializer": "he_normal", "regularizer": "l2",
                   "l2": 0.01})),
    _preset("vanishing-cnn", "Vanishing: a plain 20-layer conv net",
            "Twenty 3×3 convolutions over the 8×8 digits, ReLU with Glorot initialization: the "
            "input-side rows are about 10⁻⁴ of the output side's and some are dark altogether, "
            "so the net never gets past chance (about 10% validation accuracy).",
            _deep_cnn(residual=False)),
    _preset("fixed-cnn-residual", "Fixed: the same conv net with residual connections",
            "Each convolution's input is added to its output (as in a ResNet): every row of the "
            "heatmap stays within a factor of about ten of the others, and the validation "
            "accuracy climbs well above chance within a few epochs.",
            _deep_cnn(residual=True)),
    _preset("vanishing-rnn", "Vanishing across time: SimpleRNN on the adding problem",
            "Switch to the time-step view: the gradient reaching the first of 100 time steps "
            "is many orders of magnitude below the last one's, so the SimpleRNN cannot learn "
            "that an early marked value matters.",
            _sequence("simple_rnn")),
    _preset("fixed-lstm", "Fixed: an LSTM on the same problem",
            "The LSTM's cell state is updated additively through its forget gate, so as it "
            "trains the gradient across 100 time steps decays far less than the SimpleRNN's.",
            _sequence("lstm")),
]

PRESETS_BY_ID = {p["id"]: p for p in PRESETS}
