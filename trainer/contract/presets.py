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
    # Adam at 10⁻² (at 10⁻³ neither cell learns within a minute): the LSTM learns to hold its
    # forget gates open after ~1000 steps and solves the task; the SimpleRNN never does
    # (docs/remedies.md has the validation figures).
    return {"dataset": {"name": "adding", "n_samples": 4000, "seq_len": 50},
            "model": {"arch": "rnn", "cell": cell, "depth": 1, "width": 32},
            "remedies": {"activation": "tanh", "initializer": "orthogonal"},
            "training": {"optimizer": "adam", "learning_rate": 0.01, "epochs": 15}}


def _deep30(remedies: dict[str, Any], **model: Any) -> dict[str, Any]:
    """The papers' 30-layer MLPs: SGD at 0.01 for 3 epochs."""
    return _deep(remedies, model={"depth": 30, **model},
                 training={"learning_rate": 0.01, "epochs": 3})


def _pascanu(gain: float, clipping: str = "none") -> dict[str, Any]:
    # Pascanu, Mikolov & Bengio 2013's setting: a SimpleRNN on the adding problem, its
    # recurrent weights orthogonal × gain (spectral radius = gain).
    return {"dataset": {"name": "adding", "n_samples": 1000, "seq_len": 100},
            "model": {"arch": "rnn", "cell": "simple_rnn", "depth": 1, "width": 32},
            "remedies": {"activation": "tanh", "initializer": "glorot_uniform",
                         "recurrent_initializer": "orthogonal", "recurrent_gain": gain,
                         "clipping": clipping, "clip_value": 1.0},
            "training": {"optimizer": "sgd", "learning_rate": 0.01, "epochs": 2}}


def _deep_cnn(residual: bool) -> dict[str, Any]:
    return {"dataset": {"name": "digits"},
            "model": {"arch": "cnn", "depth": 20, "width": 16},
            "remedies": {"activation": "relu", "initializer": "glorot_uniform",
                         "residual": residual},
            "training": {"optimizer": "adam", "learning_rate": 0.003, "epochs": 10}}


PRESETS: list[dict[str, Any]] = [
    _preset("seed", "The seed's example",
            "Dense(64, relu) → Dense(1) on random data (the seed post's model; the sigmoid is "
            "inside the loss): a shallow net, so the two layers' gradients stay within a "
            "factor of ten of each other.", {}),
    _preset("vanishing-sigmoid", "Vanishing: 10 sigmoid layers",
            "Switch to the backpropagated-signal view: the input side gets about 10⁻⁶ of the "
            "last hidden layer's signal. Each sigmoid layer's gain is its slope (at most 1/4) "
            "times its weights' scale, about 0.2 per layer with Glorot initialization, which "
            "was derived for tanh (Glorot & Bengio 2010).",
            _deep({"activation": "sigmoid", "initializer": "glorot_uniform"})),
    _preset("fixed-relu-he", "Fixed: ReLU + He initialization",
            "Every row has about the same colour: ReLU's slope is 1 where a unit is active and "
            "He initialization scales the weights so that each layer's gain is near 1 (He et "
            "al. 2015).",
            _deep({"activation": "relu", "initializer": "he_normal"})),
    _preset("fixed-batchnorm", "Fixed: sigmoid + batch normalization",
            "Still sigmoid, but batch normalization re-centres each layer's input, keeping "
            "units out of saturation (Ioffe & Szegedy 2015): the input side's signal is no "
            "longer a millionth of the output side's. It even grows a little toward the input; "
            "in much deeper stacks without skips that growth becomes an explosion (Yang et al. "
            "2019).",
            _deep({"activation": "sigmoid", "batch_norm": True})),
    _preset("vanishing-relu-30", "Vanishing: 30 ReLU layers with Glorot init",
            "ReLU alone is not enough: Glorot initialization is scaled for tanh, so each ReLU "
            "layer keeps only about √(1/2) ≈ 0.7 of the signal and after 30 layers the input "
            "side gets about 2^(−29/2) ≈ 10⁻⁵ of the last layer's (He et al. 2015).",
            _deep({"activation": "relu", "initializer": "glorot_uniform"},
                  model={"depth": 30})),
    _preset("fixed-residual", "Fixed: residual connections in the 30-layer net",
            "The same 30 layers and initialization, but each block's input is added to its "
            "output (the branch scaled by 1/√depth): the gradient has an identity path around "
            "every layer (He et al. 2016, Identity Mappings), so the signal of dense_2 (the "
            "first layer with a skip) is of the order of the last layer's (measured 1.1× after "
            "250 steps) instead of 10⁻⁵ of it.",
            _deep({"activation": "relu", "initializer": "glorot_uniform", "residual": True},
                  model={"depth": 30})),
    _preset("exploding-init", "Exploding: N(0, 0.5²) initialization",
            "With weights of standard deviation 0.5 at width 32 each ReLU layer multiplies the "
            "signal by about 0.5·√(32/2) = 2, so the first loss is over 100 and the gradients "
            "are in the hundreds; a few SGD steps later the weights overflow and the run "
            "diverges. Larger initial weights make this worse, not better (He et al. 2015).",
            _deep({"activation": "relu", "initializer": "random_normal", "init_std": 0.5})),
    _preset("tamed-clipping", "Tamed: the same with gradient clipping",
            "The same net with the global gradient norm clipped at 1: the raw gradient norms "
            "are as large as before (the initialization is still the cause, and the diagnosis "
            "still says exploding), but every step is bounded, so the run no longer diverges "
            "and learns the spirals. Switch the heatmap to the clipped norm to see the bound "
            "(Pascanu, Mikolov & Bengio 2013).",
            _deep({"activation": "relu", "initializer": "random_normal", "init_std": 0.5,
                   "clipping": "global_norm", "clip_value": 1.0})),
    _preset("l2-shrinks", "L2 regularization shrinks the weights",
            "Compare the weight-norm view with the ReLU + He run: the L2 penalty pulls every "
            "layer's weights towards zero (Krogh & Hertz 1992). Its gradient 2λW is part of "
            "each layer's weight gradient, so the gradient-norm view mixes it in; the "
            "backpropagated signal, which the diagnosis reads, does not. It is no cure for "
            "vanishing or exploding by itself.",
            _deep({"activation": "relu", "initializer": "he_normal", "regularizer": "l2",
                   "l2": 0.01})),
    _preset("vanishing-cnn", "Vanishing: a plain 20-layer conv net",
            "Twenty 3×3 convolutions over the 8×8 digits, ReLU with Glorot initialization "
            "(about 0.7 per layer, He et al. 2015): at initialization the input side's signal "
            "is about 10⁻⁴ of the last convolution's. Within a hundred steps every "
            "convolution's units die, outputting 0 for the whole batch, so no signal passes "
            "at all (Lu et al. 2019): the diagnosis ends at dead, having started at vanishing, "
            "and the net stays at chance (about 10% validation accuracy).",
            _deep_cnn(residual=False)),
    _preset("fixed-cnn-residual", "Fixed: the same conv net with residual connections",
            "Each convolution's input is added to its output (the branch scaled by 1/√depth), "
            "as in a ResNet (He et al. 2016, Identity Mappings): the signal reaches conv_2 "
            "again, and the validation accuracy climbs from chance to about 0.75. The signal of "
            "conv_2 (the first layer with a skip; conv_1 maps the image to the width) stays "
            "within 10² of the last convolution's: measured 83× after 10 epochs.",
            _deep_cnn(residual=True)),
    _preset("vanishing-rnn", "Vanishing across time: SimpleRNN on the adding problem",
            "Switch to the time-step view: the gradient reaching the first of 50 time steps "
            "is orders of magnitude below the last one's, because it is multiplied by the "
            "recurrent Jacobian at every step back (Bengio, Simard & Frasconi 1994; Pascanu, "
            "Mikolov & Bengio 2013). The SimpleRNN cannot learn that an early marked value "
            "matters: its validation error stays near 0.167, what always answering 1 scores.",
            _sequence("simple_rnn")),
    _preset("fixed-lstm", "Fixed: an LSTM on the same problem",
            "The LSTM's cell state is multiplied by its forget gate at each step, not by the "
            "recurrent weights (Gers, Schmidhuber & Cummins 2000). After about a thousand "
            "steps it learns to hold the gates open: the gradient to the first time step "
            "jumps from about 10⁻⁵ to the last step's size, and the validation error falls "
            "from 0.167 to about 10⁻³.",
            _sequence("lstm")),
]

PAPER_PRESETS: list[dict[str, Any]] = [
    _preset("saxe-orthogonal", "Saxe 2014: 30 linear layers, orthogonal",
            "Orthogonal weights keep every singular value at 1, so each linear layer passes the "
            "signal on unchanged: the input side's signal equals the last layer's (Saxe, "
            "McClelland & Ganguli 2014).",
            _deep30({"activation": "linear", "initializer": "orthogonal"})),
    _preset("saxe-gaussian", "Saxe 2014: the same with Gaussian N(0, 1/32) weights",
            "Gaussian weights of the same variance (1/width) keep the gain 1 only on average: "
            "each layer's factor differs, so the product over 30 layers wanders away from 1 "
            "(Saxe, McClelland & Ganguli 2014).",
            _deep30({"activation": "linear", "initializer": "random_normal",
                   "init_std": 0.1768})),
    _preset("selu-lecun", "SELU, 30 layers, LeCun-normal",
            "SELU with LeCun-normal initialization keeps activations near mean 0 and variance "
            "1 from layer to layer, so the gain stays near 1 (Klambauer et al. 2017).",
            _deep30({"activation": "selu", "initializer": "lecun_normal"})),
    _preset("selu-he", "SELU, 30 layers, He-normal",
            "The same SELU net with He initialization (twice LeCun's variance): each layer's "
            "gain is above 1, and over 30 layers the input side's signal grows by orders of "
            "magnitude (Klambauer et al. 2017 derive the LeCun scaling).",
            _deep30({"activation": "selu", "initializer": "he_normal"})),
    _preset("pascanu-rho3", "Pascanu 2013: SimpleRNN, recurrent spectral radius 3",
            "Recurrent weights orthogonal × 3: the gradient across 100 time steps is "
            "multiplied by up to 3 at each step back, so the first step's gradient is many "
            "orders of magnitude above the last's: exploding across time (Pascanu, Mikolov & "
            "Bengio 2013).",
            _pascanu(3.0)),
    _preset("pascanu-rho3-clipped", "Pascanu 2013: the same, clipped at 1",
            "Global-norm clipping at 1 bounds every step (switch to the clipped norm), but the "
            "growth across time is still there: clipping bounds the step, not the cause "
            "(Pascanu, Mikolov & Bengio 2013).",
            _pascanu(3.0, "global_norm")),
    _preset("pascanu-rho1", "Pascanu 2013: the same at spectral radius 1",
            "Orthogonal recurrent weights at gain 1 do not grow the gradient across time; the "
            "tanh's slope shrinks it where units saturate (Pascanu, Mikolov & Bengio 2013).",
            _pascanu(1.0)),
    _preset("dying-relu", "Lu 2019: dying ReLU at a large step",
            "10 ReLU layers with He initialization under Adam at learning rate 0.3: within a "
            "few dozen steps a large step pushes most of a layer's units below zero for every "
            "input, they output 0, pass no gradient and never recover (Lu et al. 2019). The "
            "diagnosis says dead, not vanishing.",
            _deep({"activation": "relu", "initializer": "he_normal"},
                  training={"optimizer": "adam", "learning_rate": 0.3, "epochs": 4})),
    _preset("dying-relu-fixed", "Lu 2019: the same at a 10× smaller step",
            "The same net at learning rate 0.03: the units stay alive and the net learns the "
            "spirals (Lu et al. 2019).",
            _deep({"activation": "relu", "initializer": "he_normal"},
                  training={"optimizer": "adam", "learning_rate": 0.03, "epochs": 4})),
    _preset("he2016-plain", "He 2016: 30 plain ReLU layers (Glorot), SGD 0.01",
            "The plain net of the pair: each Glorot ReLU layer keeps about 0.7 of the signal, "
            "so the input side gets about 10⁻⁵ of the last layer's (He et al. 2015).",
            _deep30({"activation": "relu", "initializer": "glorot_uniform"})),
    _preset("he2016-identity", "He 2016: the same with unscaled identity skips",
            "The same 30 layers as residual units of He et al. 2016, Identity Mappings: batch "
            "normalization in each branch and the identity skip added unscaled. The input side's "
            "signal is now of the order of the last layer's instead of 10⁻⁵ of it (unscaled "
            "skips without normalization make the forward signal grow with depth and diverge "
            "here).",
            _deep30({"activation": "relu", "initializer": "glorot_uniform", "residual": True,
                   "batch_norm": True}, residual_scale="none")),
]
PRESETS += PAPER_PRESETS

PRESETS_BY_ID = {p["id"]: p for p in PRESETS}
