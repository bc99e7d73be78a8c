"""What the callback tells the server about a user's model besides its layers.

- `closest_config`: the RunConfig nearest to the model (architecture, activation, initializer,
  normalization, skips, clipping, optimizer), which the diagnosis reads to choose its advice.
- `code_for`: a suggestion's RunConfig overrides as the change to make in the script, since a
  script's run cannot be restarted from the page.
"""

from __future__ import annotations

from typing import Any

import keras

from trainer.contract.config import ACTIVATIONS, INITIALIZERS

_CAMEL_INIT = {name.replace("_", ""): name for name in INITIALIZERS}


def _initializer_name(layer: Any) -> str | None:
    init = getattr(layer, "kernel_initializer", None)
    name = type(init).__name__.lower() if init is not None else ""
    return _CAMEL_INIT.get(name)


def _activation_name(layer: Any) -> str | None:
    fn = getattr(layer, "activation", None)
    name = getattr(fn, "__name__", "")
    name = {"silu": "swish"}.get(name, name)
    return name if name in ACTIVATIONS and name != "linear" else None


def _optimizer(opt: Any) -> dict[str, Any]:
    kind = {"SGD": "momentum" if float(getattr(opt, "momentum", 0) or 0) > 0 else "sgd",
            "Adam": "adam", "RMSprop": "rmsprop"}.get(type(opt).__name__, "adam")
    try:
        lr = float(keras.ops.convert_to_numpy(opt.learning_rate))
    except (TypeError, ValueError):  # a schedule
        lr = 0.001
    return {"optimizer": kind, "learning_rate": min(max(lr, 1e-12), 10.0)}


def _clipping(opt: Any) -> dict[str, Any]:
    for attr, name in (("global_clipnorm", "global_norm"), ("clipnorm", "norm"),
                       ("clipvalue", "value")):
        value = getattr(opt, attr, None)
        if value:
            return {"clipping": name, "clip_value": float(value)}
    return {"clipping": "none"}


def closest_config(model: keras.Model, layers: list[tuple[str, Any]],
                   epochs: int = 1) -> dict[str, Any]:
    """A RunConfig body (sections only) describing the model as nearly as the form could."""
    leaves = [layer for _, layer in layers]
    every = [getattr(layer, "layer", layer) for layer in leaves]
    kinds = {type(layer).__name__ for layer in every}
    arch = ("cnn" if any("Conv" in k for k in kinds) else
            "rnn" if kinds & {"SimpleRNN", "LSTM", "GRU", "Bidirectional", "RNN"} else "mlp")
    cell = next((c for k, c in (("LSTM", "lstm"), ("GRU", "gru")) if k in kinds), "simple_rnn")
    activation = next((a for a in map(_activation_name, every) if a), None)
    # Activation layers apart from the weighted ones (Dense → BatchNorm → Activation)
    for layer in model._flatten_layers() if hasattr(model, "_flatten_layers") else []:
        if activation:
            break
        if isinstance(layer, keras.layers.Activation):
            activation = _activation_name(layer)
    widths = [int(getattr(layer, "units", 0) or getattr(layer, "filters", 0) or 0)
              for layer in every]
    all_layers = list(model._flatten_layers()) if hasattr(model, "_flatten_layers") else every
    regularizers = {type(getattr(layer, "kernel_regularizer", None)).__name__
                    for layer in every} - {"NoneType"}
    reg = next((r for k, r in (("L1L2", "l1_l2"), ("L1", "l1"), ("L2", "l2"))
                if k in regularizers), "none")
    remedies: dict[str, Any] = {
        "initializer": next((i for i in map(_initializer_name, every) if i), "glorot_uniform"),
        "activation": activation or "relu",
        "batch_norm": "BatchNormalization" in kinds,
        "layer_norm": "LayerNormalization" in kinds,
        "residual": any(isinstance(layer, keras.layers.Add) for layer in all_layers),
        "regularizer": reg, **_clipping(model.optimizer)}
    return {"model": {"arch": arch, "cell": cell, "depth": max(1, min(64, len(leaves) - 1)),
                      "width": max(1, min(1024, max(widths, default=1)))},
            "remedies": remedies, "training": {**_optimizer(model.optimizer),
                                               "epochs": max(1, min(500, int(epochs)))}}


def describe_script(model: keras.Model) -> dict[str, Any]:
    """The `script` member of the run: what kind of model and training this is."""
    loss = getattr(model, "loss", None)
    return {"model_class": type(model).__name__, "model_name": model.name,
            "optimizer": type(model.optimizer).__name__,
            "loss": getattr(loss, "name", None) or str(loss)[:100],
            "steps_per_execution": int(getattr(model, "steps_per_execution", 1) or 1),
            "keras": keras.__version__}


_REMEDY_CODE = {
    "initializer": lambda v, o: f'kernel_initializer="{v}"  # in each Dense / Conv2D layer',
    "activation": lambda v, o: f'activation="{v}"  # in each hidden layer',
    "batch_norm": lambda v, o: ("keras.layers.BatchNormalization()  # after each Dense / "
                                "Conv2D, before its activation") if v else
    "# remove the BatchNormalization layers",
    "layer_norm": lambda v, o: ("keras.layers.LayerNormalization()  # after each hidden "
                                "layer") if v else None,
    "residual": lambda v, o: ("x = keras.layers.Add()([x, block(x)])  # a skip connection "
                              "around each block") if v else None,
}
_CLIP_ARG = {"norm": "clipnorm", "global_norm": "global_clipnorm", "value": "clipvalue"}
_CELLS = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}


def code_for(overrides: dict[str, Any], optimizer: str = "Adam") -> str:
    """The lines to change in a script for a suggestion's RunConfig overrides."""
    remedies = overrides.get("remedies", {})
    training = overrides.get("training", {})
    lines = [line for key, value in remedies.items() if key in _REMEDY_CODE
             for line in [_REMEDY_CODE[key](value, overrides)] if line]
    opt_args = []
    if remedies.get("clipping", "none") != "none":
        opt_args.append(f"{_CLIP_ARG[remedies['clipping']]}={remedies.get('clip_value', 1.0):g}")
    if "learning_rate" in training:
        opt_args.append(f"learning_rate={training['learning_rate']:g}")
    if opt_args:
        lines.append(f"optimizer=keras.optimizers.{optimizer}({', '.join(opt_args)})"
                     "  # in model.compile")
    if "epochs" in training:
        lines.append(f"model.fit(..., epochs={training['epochs']})")
    cell = overrides.get("model", {}).get("cell")
    if cell:
        lines.append(f"keras.layers.{_CELLS[cell]}(...)  # instead of the SimpleRNN layers")
    return "\n".join(lines)
