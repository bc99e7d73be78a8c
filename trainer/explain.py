"""The "why" behind a diagnosis and each suggested remedy, in sentences a student can check.

NumPy-free and TF-free. Every statement here follows docs/remedies.md (and corrects the seed
post where it was wrong); the diagnosis fills in this run's own numbers.
"""

from __future__ import annotations

import math

from trainer.contract.config import RunConfig

CAUSE = ("Backpropagation multiplies the gradient by one Jacobian per layer on its way back "
         "to the input; each factor is roughly the layer's weight scale times its "
         "activation's slope, so many factors below 1 shrink it geometrically and many above "
         "1 make it grow geometrically (Glorot & Bengio 2010).")

SLOPE = {
    "sigmoid": "Sigmoid's slope is at most 0.25 (at 0) and far less where a unit saturates, so "
               "each sigmoid layer passes back at most a quarter of the signal.",
    "tanh": "Tanh's slope is at most 1 and falls towards 0 where a unit saturates.",
    "relu": "ReLU's slope is 1 where a unit is active and 0 where it is not, so with the "
            "right initialization it passes the gradient back unshrunk; units that never "
            "activate pass back nothing.",
    "leaky_relu": "Leaky ReLU's slope is 1 for positive inputs and 0.2 for negative ones.",
    "elu": "ELU's slope is 1 for positive inputs and decays for negative ones.",
    "selu": "SELU is scaled so that, with LeCun-normal initialization, activations keep "
            "mean 0 and variance 1 from layer to layer.",
    "gelu": "GELU's slope is close to ReLU's away from 0.",
    "swish": "Swish's slope is close to ReLU's away from 0.",
    "linear": "A linear activation has slope 1: only the weights' scale sets each layer's gain.",
}

REMEDY_WHY = {
    "activation": "ReLU's slope is 1 where a unit is active, unlike sigmoid's 0.25 at most, so "
                  "the per-layer factor no longer shrinks the gradient (Glorot, Bordes & "
                  "Bengio 2011).",
    "initializer": "A variance-preserving initialization scales each layer's weights to its "
                   "width so that its gain is near 1: Glorot for tanh/sigmoid (Glorot & Bengio "
                   "2010), He for ReLU, which zeroes half its inputs (He et al. 2015).",
    "batch_norm": "Batch normalization re-centres and re-scales each layer's input over the "
                  "batch, keeping units out of saturation and each layer's gain near 1 (Ioffe & "
                  "Szegedy 2015).",
    "residual": "Residual connections add an identity path around every block, so the gradient "
                "reaches the input side without being multiplied by every layer's Jacobian "
                "(He et al. 2016).",
    "cell": "An LSTM or GRU updates its state additively through gates, so the gradient can "
            "cross many time steps instead of being multiplied by the recurrent Jacobian at "
            "each one (Hochreiter & Schmidhuber 1997; Pascanu et al. 2013).",
    "clipping": "Clipping caps the length of the gradient the optimizer applies, so one huge "
                "gradient cannot throw the weights far away (Pascanu et al. 2013). It keeps "
                "the direction and does not remove the cause; it does nothing for vanishing.",
    "learning_rate": "A smaller step keeps the weights from overshooting into the region where "
                     "the loss and its gradient blow up.",
}


def remedy_why(overrides: dict) -> str:
    """What a suggestion's overrides do to the gradient, and the papers to read."""
    keys = {k for section in overrides.values() for k in section}
    return " ".join(text for key, text in REMEDY_WHY.items() if key in keys)


def why(state: str, config: RunConfig, ratio: float | None, n_layers: int) -> str:
    """A paragraph explaining this diagnosis with this run's numbers."""
    r, m = config.remedies, config.model
    if state == "vanishing" and m.arch == "rnn":
        return ("A recurrent layer applies the same weights at every time step, so the "
                "gradient reaching the first time step is multiplied by the recurrent Jacobian "
                f"once per step: {config.dataset.seq_len} times here. A SimpleRNN's factor is "
                "below 1 once its tanh units saturate, so the product vanishes; an LSTM's cell "
                "state is updated additively and loses far less (Pascanu et al. 2013).")
    if state == "vanishing":
        per_layer = ""
        if ratio and ratio > 0 and n_layers > 1:
            factor = ratio ** (1 / (n_layers - 1))
            per_layer = (f" Here the input-side layer gets {ratio:.1e} of the output layer's "
                         f"gradient: about {factor:.2f} per layer over {n_layers - 1} layers.")
        init = ""
        if r.activation in ("relu", "leaky_relu", "elu", "gelu", "swish") and \
                not r.initializer.startswith("he_"):
            init = (f" With {r.initializer}, the weights are not scaled for ReLU, which zeroes "
                    "about half of its inputs, so every layer loses signal (He et al. 2015).")
        return f"{CAUSE} {SLOPE[r.activation]}{per_layer}{init}"
    if state == "exploding":
        gain = ""
        if r.initializer == "random_normal" and r.activation in ("relu", "leaky_relu"):
            g = r.init_std * math.sqrt(m.width / 2)
            gain = (f" With weights of standard deviation {r.init_std:g} and width {m.width}, "
                    f"each ReLU layer multiplies the signal by about {r.init_std:g}·√({m.width}"
                    f"/2) ≈ {g:.1f}, so {m.depth} layers give about {g ** m.depth:.0e}. Larger "
                    "initial weights make this worse, not better.")
        return f"{CAUSE}{gain} Clipping bounds each update but leaves the cause in place."
    if state == "diverged":
        return ("An update was so large that the weights, the loss or a gradient overflowed "
                "to infinity or NaN; from there every further step is NaN too. Exploding "
                "gradients are the usual cause: tame them at the source (initialization, "
                "learning rate) or bound the step with clipping (Pascanu et al. 2013).")
    if state == "healthy":
        return (f"{CAUSE} Here the factors stay near 1: the input-side layer gets a gradient "
                f"of the same order as the output layer's, so every layer learns.")
    return "Not enough steps have been recorded yet to judge."
