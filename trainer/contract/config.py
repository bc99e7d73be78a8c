"""RunConfig: the one schema of a training run (names, defaults, limits, error sentences).

TF-free on purpose: the server, the page (through the JSON schema) and the Keras builder all read
this module, so a name, a default or a limit lives here and nowhere else.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trainer.contract.datasets import (
    DATASETS,
    IMAGE_DATASETS,
    SEQUENCE_DATASETS,
    showing,
)

# The figures derived from a config moved to figures.py; they stay importable from here.
from trainer.contract.figures import VALIDATION_FRACTION as VALIDATION_FRACTION
from trainer.contract.figures import input_shape as input_shape
from trainer.contract.figures import n_classes as n_classes
from trainer.contract.figures import n_samples as n_samples
from trainer.contract.figures import n_train as n_train
from trainer.contract.figures import steps_per_epoch as steps_per_epoch
from trainer.contract.figures import total_steps as total_steps
from trainer.contract.figures import trainable_params as trainable_params

INITIALIZERS = (
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal",
    "orthogonal", "random_normal", "random_uniform", "zeros",
)
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "swish", "linear")
REGULARIZERS = ("none", "l1", "l2", "l1_l2")
CLIPPINGS = ("none", "norm", "global_norm", "value")
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
ARCHS = ("mlp", "rnn", "cnn")
RESIDUAL_SCALES = ("inv_sqrt_depth", "none")
CELLS = ("simple_rnn", "lstm", "gru")

# The page greys out a field whose `x-applies-when` does not hold: a list of alternatives, each a
# {"section.field": [values]} that must all match (JSON-schema extension keyword).
def _applies(*alternatives: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    return {"x-applies-when": [{k: list(v) for k, v in alt.items()} for alt in alternatives]}


MAX_TRAINABLE_PARAMS = 5_000_000


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)


class DatasetConfig(_Section):
    """Which data the model learns from. A fifth of the samples is held out for validation."""

    name: Literal[DATASETS] = Field(
        "random",
        description="random: the seed's 1000×100 uniform inputs with random 0/1 labels (nothing "
        "to learn, so only the gradients are interesting); spirals, circles, moons, xor: 2-D "
        "toy problems; digits: scikit-learn's 8×8 digits (1797 images, 10 classes); adding: "
        "the adding problem (sequences, needs the rnn architecture).",
    )
    n_samples: int = Field(1000, ge=16, le=50_000, description="Number of examples "
                           "(digits has at most 1797).")
    n_features: int = Field(100, ge=1, le=4096, description="Input width of the random "
                            "dataset; the 2-D problems have 2, digits 64, adding 2 per step.",
                            json_schema_extra=_applies({"dataset.name": showing("n_features")}))
    noise: float = Field(0.1, ge=0.0, le=10.0, description="Noise added to the toy problems' "
                         "points (standard deviation).",
                         json_schema_extra=_applies({"dataset.name": showing("noise")}))
    seq_len: int = Field(50, ge=2, le=500, description="Time steps of an adding-problem "
                         "sequence: the longer, the further the gradient must travel back.",
                         json_schema_extra=_applies({"dataset.name": showing("seq_len")}))


class ModelConfig(_Section):
    """The network's shape."""

    arch: Literal[ARCHS] = Field("mlp", description="mlp: stacked Dense layers; rnn: stacked "
                                 "recurrent layers over a sequence; cnn: stacked 3×3 Conv2D "
                                 "layers over the digits as 8×8×1 images, then global average "
                                 "pooling and the output layer.")
    depth: int = Field(1, ge=1, le=64, description="Hidden layers (mlp), stacked recurrent "
                       "layers (rnn) or 3×3 convolutions (cnn). Vanishing and exploding grow "
                       "with depth.")
    width: int = Field(64, ge=1, le=1024, description="Units per hidden layer (filters per "
                       "convolution in a cnn).")
    cell: Literal[CELLS] = Field("simple_rnn", description="Recurrent cell (rnn only). A "
                                 "SimpleRNN multiplies the gradient by its recurrent Jacobian "
                                 "at every time step back, so it vanishes or explodes across "
                                 "time (Bengio, Simard & Frasconi 1994; Pascanu, Mikolov & "
                                 "Bengio 2013). An LSTM's cell state is multiplied only by its "
                                 "forget gate at each step (Gers, Schmidhuber & Cummins 2000) "
                                 "and a GRU's by its update gate (Cho et al. 2014), so the "
                                 "gradient crosses many steps once the gates learn to stay "
                                 "open. Both ignore remedies.activation.",
                                 json_schema_extra=_applies({"model.arch": ("rnn",)}))
    residual_scale: Literal[RESIDUAL_SCALES] = Field(
        "inv_sqrt_depth", description="How each residual branch is scaled before it is added: "
        "inv_sqrt_depth multiplies it by 1/√depth, which keeps the forward signal of many "
        "added branches bounded (Hanin & Rolnick 2018; De & Smith 2020); none adds it as it "
        "is, the identity mapping of He et al. 2016, Identity Mappings.",
        json_schema_extra=_applies({"remedies.residual": (True,)}))


class RemediesConfig(_Section):
    """The switches that decide whether the gradient survives the trip back through the net."""

    initializer: Literal[INITIALIZERS] = Field(
        "glorot_uniform",
        description="How the weights start. Variance-preserving schemes scale the weights to "
        "the layer's width so that its gain is near 1: Glorot for tanh (Glorot & Bengio 2010), "
        "He for the ReLU family (He et al. 2015), LeCun-normal for SELU (Klambauer et al. "
        "2017). With sigmoid, whose slope is at most 1/4, Glorot still gives about 0.25 per "
        "layer. Too small a fixed scale makes gradients vanish; too large explodes them. "
        "zeros makes every unit identical.",
    )
    init_std: float = Field(0.05, gt=0.0, le=100.0, description="Scale of random_normal "
                            "(standard deviation) and random_uniform (±limit). A fixed scale "
                            "ignores the layer's width: with ReLU each layer multiplies the "
                            "signal by about std·√(width/2), so std 1 at width 32 gives about "
                            "4 per layer and explodes, and a tiny std vanishes. Larger weights "
                            "make explosion worse, not better (He et al. 2015).",
                            json_schema_extra=_applies(
                                {"remedies.initializer": ("random_normal", "random_uniform")}))
    activation: Literal[ACTIVATIONS] = Field(
        "relu",
        description="Non-linearity of the hidden layers (and of a SimpleRNN; LSTM and GRU "
        "cells keep their own). Each layer multiplies the gradient by the activation's slope "
        "times its weights' scale: sigmoid's slope is at most 1/4, so a deep sigmoid stack "
        "vanishes (Glorot & Bengio 2010); ReLU's is 1 where a unit is active, which with He "
        "initialization keeps the gain near 1 (Glorot, Bordes & Bengio 2011; He et al. 2015) "
        "but does nothing against exploding, and units that never activate pass no gradient.",
        json_schema_extra=_applies({"model.arch": ("mlp", "cnn")},
                                   {"model.cell": ("simple_rnn",)}),
    )
    regularizer: Literal[REGULARIZERS] = Field(
        "none",
        description="L1/L2 penalties (weight decay, Krogh & Hertz 1992) pull the weights "
        "towards zero. They shrink the weights (they never increase them) and can curb their "
        "growth, but are no direct cure for vanishing or exploding: watch the weight-norm view.",
    )
    l1: float = Field(0.0, ge=0.0, le=1.0, description="L1 factor (with l1 or l1_l2): the "
                      "penalty l1·Σ|w| pushes every weight towards zero by the same amount.",
                      json_schema_extra=_applies({"remedies.regularizer": ("l1", "l1_l2")}))
    l2: float = Field(0.0, ge=0.0, le=1.0, description="L2 factor (with l2 or l1_l2): the "
                      "penalty l2·Σw² shrinks every weight in proportion to its size.",
                      json_schema_extra=_applies({"remedies.regularizer": ("l2", "l1_l2")}))
    batch_norm: bool = Field(False, description="Batch normalization (Ioffe & Szegedy 2015) "
                             "re-centres and re-scales each hidden layer's input over the "
                             "batch, keeping activations out of saturation (mlp and cnn). It "
                             "does not hold the gain at 1: deep stacks without residual "
                             "connections explode toward the input at initialization (Yang "
                             "et al. 2019); its measured benefit is a smoother loss landscape "
                             "(Santurkar et al. 2018).",
                             json_schema_extra=_applies({"model.arch": ("mlp", "cnn")}))
    layer_norm: bool = Field(False, title="Layer norm on each layer's output",
                             description="Layer normalization (Ba, Kiros & Hinton 2016) of "
                             "each hidden layer's output, per example over its units: like "
                             "batch norm it keeps units out of saturation, with any batch "
                             "size. In an rnn it normalizes each recurrent layer's output "
                             "sequence, outside the recurrence: the recurrent Jacobian, and so "
                             "the gradient across time, is unchanged (Ba et al. normalize "
                             "inside the recurrence, which GradWatch does not build).")
    residual: bool = Field(False, description="Residual connections add each hidden block's "
                           "input to its output, giving the gradient an identity path around "
                           "every layer (He et al. 2016, Identity Mappings); the branch is "
                           "scaled as model.residual_scale says (mlp and cnn). The first "
                           "block, which maps the input to the width, has no skip.",
                           json_schema_extra=_applies({"model.arch": ("mlp", "cnn")}))
    recurrent_initializer: Literal[INITIALIZERS] = Field(
        "orthogonal", description="How a recurrent layer's recurrent weights start (rnn only; "
        "Keras's default is orthogonal). The gradient across time is multiplied by them at "
        "every step back, so their spectral radius decides whether it vanishes (below 1) or "
        "can explode (above 1) (Pascanu, Mikolov & Bengio 2013).",
        json_schema_extra=_applies({"model.arch": ("rnn",)}))
    recurrent_gain: float = Field(1.0, gt=0.0, le=10.0, description="Scale of the recurrent "
                                  "weights (rnn only): orthogonal × gain has spectral radius "
                                  "exactly gain; other initializers are multiplied by it.",
                                  json_schema_extra=_applies({"model.arch": ("rnn",)}))
    clipping: Literal[CLIPPINGS] = Field(
        "none",
        description="Gradient clipping (Pascanu, Mikolov & Bengio 2013) bounds the size of "
        "the update when gradients explode; it does not remove the cause, and does nothing "
        "for vanishing. norm: each variable's gradient "
        "(Keras clipnorm); global_norm: all together (global_clipnorm); value: each element "
        "(clipvalue).",
    )
    clip_value: float = Field(1.0, gt=0.0, le=1e6, description="Clipping threshold: with "
                              "norm or global_norm the gradient's norm is capped at this "
                              "value, with value each element at ±this value.",
                              json_schema_extra=_applies(
                                  {"remedies.clipping": CLIPPINGS[1:]}))


class TrainingConfig(_Section):
    """How the optimizer steps."""

    optimizer: Literal[OPTIMIZERS] = Field("adam", description="sgd, momentum (SGD with "
                                           "momentum 0.9), adam, rmsprop.")
    learning_rate: float = Field(0.001, gt=0.0, le=10.0, description="Step size: it scales "
                                 "every update, not the gradient itself.")
    epochs: int = Field(20, ge=1, le=500, description="Passes over the training data.")
    batch_size: int = Field(32, ge=1, le=4096, description="Examples per optimizer step.")


class RunConfig(_Section):
    """Everything that defines one training run; every field is optional."""

    name: str = Field("", max_length=100, description="A label for the runs list.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seeds the data and the weights.")
    dataset: DatasetConfig = Field(default_factory=DatasetConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    remedies: RemediesConfig = Field(default_factory=RemediesConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)

    @model_validator(mode="after")
    def _check_combination(self) -> RunConfig:
        sequence = self.dataset.name in SEQUENCE_DATASETS
        if sequence and self.model.arch != "rnn":
            raise CombinationError(
                "model.arch", f"dataset '{self.dataset.name}' is a sequence task and needs "
                "model.arch 'rnn'")
        if self.model.arch == "rnn" and not sequence:
            raise CombinationError(
                "dataset.name", "model.arch 'rnn' needs a sequence dataset: use dataset.name "
                "'adding'")
        if self.model.arch == "cnn" and self.dataset.name not in IMAGE_DATASETS:
            raise CombinationError(
                "dataset.name", "model.arch 'cnn' needs an image dataset: use dataset.name "
                "'digits' (the 8×8 digits as 8×8×1 images)")
        if self.model.arch == "rnn" and (self.remedies.batch_norm or self.remedies.residual):
            which = "batch_norm" if self.remedies.batch_norm else "residual"
            raise CombinationError(
                f"remedies.{which}", f"remedies.{which} applies to the mlp and cnn "
                "architectures only; for an rnn use remedies.layer_norm, or an lstm or gru cell")
        r = self.remedies
        if self.model.arch != "rnn" and (r.recurrent_initializer != "orthogonal"
                                         or r.recurrent_gain != 1.0):
            which = ("recurrent_gain" if r.recurrent_initializer == "orthogonal"
                     else "recurrent_initializer")
            raise CombinationError(
                f"remedies.{which}", f"remedies.{which} applies to the rnn architecture only "
                "(its recurrent weights); leave it at its default for an mlp or a cnn")
        check_size(self, MAX_TRAINABLE_PARAMS)
        return self


class CombinationError(ValueError):
    """Fields that are each valid but do not work together; `path` names the one to change."""

    def __init__(self, path: str, sentence: str) -> None:
        super().__init__(sentence)
        self.path = path


def check_size(config: RunConfig, max_params: int) -> None:
    """Raise CombinationError if the model has more than `max_params` trainable parameters.

    RunConfig checks its own limit with it; a server checks its (lower) setting with it too.
    """
    n = trainable_params(config)
    if n > max_params:
        raise CombinationError(
            "model", f"this model has {n:,} trainable parameters, more than the limit of "
            f"{max_params:,}; use a smaller depth, width or n_features")


def deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return base with overrides merged in, recursing into nested objects.

    Args:
        base: a full RunConfig as a dict.
        overrides: a partial RunConfig; its leaves replace base's.
    """
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
