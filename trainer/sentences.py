"""The sourced sentences of the diagnosis: the cause, each activation's slope, and what each
remedy does to the gradient (no imports; trainer/explain.py assembles them with a run's numbers).

Every claim names its paper, one of trainer/contract/papers.py (tests/test_sources.py checks
that every year here belongs to such a citation).
"""

CAUSE = ("Backpropagation multiplies the gradient by one Jacobian per layer on its way back "
         "to the input. Each factor's size is roughly the layer's weight scale times its "
         "activation's slope, so many factors below 1 shrink the gradient geometrically and "
         "many above 1 make it grow (Hochreiter 1991; Bengio, Simard & Frasconi 1994; Glorot & "
         "Bengio 2010).")

SLOPE = {
    "sigmoid": "Sigmoid's slope is at most 1/4 (at 0) and far less where a unit saturates. A "
               "layer's gain is that slope times its weights' scale: with Glorot "
               "initialization, which was derived for tanh, that is about 0.25 per layer "
               "(Glorot & Bengio 2010). Larger weights raise the gain but push units into "
               "saturation.",
    "tanh": "Tanh's slope is 1 at 0 and falls toward 0 where a unit saturates. With Glorot "
            "initialization a tanh layer keeps a gain near 1 while its units are in their "
            "linear range; the older U(±1/√n) initialization gives about √(1/3) ≈ 0.58 per "
            "layer (Glorot & Bengio 2010).",
    "relu": "ReLU's slope is 1 where a unit is active and 0 where it is not, so a layer passes "
            "on about √(1/2) of the signal times its weights' scale σ√n. He initialization "
            "makes that 1 (He et al. 2015); Glorot initialization gives about 0.7 per layer. "
            "Units that never activate pass back nothing.",
    "leaky_relu": "Leaky ReLU's slope is 1 for positive inputs and 0.2 (Keras's default) for "
                  "negative ones, so like ReLU it needs He initialization for a gain near 1 "
                  "(He et al. 2015).",
    "elu": "ELU's slope is 1 for positive inputs and decays for negative ones; He "
           "initialization keeps its gain near 1 (He et al. 2015).",
    "selu": "SELU is scaled so that, with LeCun-normal initialization, activations keep mean 0 "
            "and variance 1 from layer to layer (Klambauer et al. 2017).",
    "gelu": "GELU's slope is close to ReLU's away from 0, so it needs He initialization for a "
            "gain near 1 (He et al. 2015).",
    "swish": "Swish's slope is close to ReLU's away from 0, so it needs He initialization for "
             "a gain near 1 (He et al. 2015).",
    "linear": "A linear activation has slope 1: only the weights' scale sets each layer's gain "
              "(Saxe, McClelland & Ganguli 2014).",
}

REMEDY_WHY = {
    "activation": "ReLU's slope is 1 wherever a unit is active, against sigmoid's 1/4 at most "
                  "(Glorot, Bordes & Bengio 2011); with He initialization each ReLU layer's "
                  "gain is near 1 (He et al. 2015). With Glorot initialization it would pass on "
                  "only about 0.7 per layer.",
    "initializer": "A variance-preserving initialization scales each layer's weights to its "
                   "width so that its gain is near 1: Glorot for tanh (Glorot & Bengio 2010), "
                   "He for the ReLU family, which zeroes about half its inputs (He et al. "
                   "2015), LeCun-normal for SELU (Klambauer et al. 2017). No initialization "
                   "gives sigmoid a gain of 1 without saturating it.",
    "batch_norm": "Batch normalization re-centres and re-scales each layer's input over the "
                  "batch (Ioffe & Szegedy 2015), which keeps sigmoid units out of saturation. "
                  "It does not hold the gain at 1: a deep stack of batch-normalized layers "
                  "without skips makes the gradient grow toward the input at initialization "
                  "(Yang et al. 2019). Its measured benefit is a smoother loss landscape "
                  "(Santurkar et al. 2018).",
    "residual": "Residual connections add each block's input to its output, so the gradient "
                "has an identity path back that is not multiplied by every layer's Jacobian "
                "(He et al. 2016, Identity Mappings). Here each branch is scaled by 1/√depth "
                "to keep the forward signal bounded (Hanin & Rolnick 2018; De & Smith 2020).",
    "residual_bn": "With skip connections a deep batch-normalized network no longer explodes "
                   "at initialization: the identity path carries the gradient, and the "
                   "normalized branches add to it (De & Smith 2020; Yang et al. 2019).",
    "no_batch_norm": "A plain ReLU stack with He initialization keeps each layer's gain near 1 "
                     "at initialization (He et al. 2015); batch normalization at this depth "
                     "without skips is what makes the gradient grow toward the input (Yang et "
                     "al. 2019).",
    "cell": "An LSTM carries a cell state c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t. Along it the "
            "gradient is multiplied at each step by the forget gate f_t, not by the recurrent "
            "weights and a tanh slope, so it crosses many steps where the network learns to "
            "keep f_t near 1 (Gers, Schmidhuber & Cummins 2000; the original LSTM of "
            "Hochreiter & Schmidhuber 1997 had no forget gate and passed it unchanged). A "
            "GRU's update gate interpolates between the old and the new state in the same way "
            "(Cho et al. 2014).",
    "gates_learn": "An LSTM's gates start half open (Keras sets the forget gate's bias to 1), "
                   "and the gradient reaches early time steps only once training has learned "
                   "to keep them open (Gers, Schmidhuber & Cummins 2000). Measured here on the "
                   "adding problem with 100 steps: at learning rate 10⁻² an LSTM of width 32 "
                   "learns within a few thousand steps, at 10⁻³ it had not after 250.",
    "orthogonal": "An orthogonal matrix has every singular value 1, so multiplying by it once "
                  "per time step neither shrinks nor grows the gradient; a gain g scales its "
                  "spectral radius to g, and the gradient across T steps by up to g^T (Saxe, "
                  "McClelland & Ganguli 2014; Pascanu, Mikolov & Bengio 2013). The activation's "
                  "slope still shrinks it where units saturate.",
    "dead": "A ReLU unit whose input is negative for every example outputs 0 and has slope 0 "
            "there, so its weights get exactly zero gradient and no later step can revive it. "
            "One large update can push most of a layer's units there, by a large step or a "
            "large negative shift of the biases (Lu et al. 2019).",
    "dead_smaller_step": "A smaller learning rate keeps single updates from pushing whole "
                         "layers below zero: measured on the dying-ReLU preset, Adam at 0.3 "
                         "kills most of a layer's units, at 0.03 they stay alive (Lu et al. "
                         "2019).",
    "leaky": "Leaky ReLU (slope 0.2 below zero in Keras) and ELU keep a non-zero slope for "
             "negative inputs, so a unit pushed below zero still gets a gradient and can come "
             "back (Lu et al. 2019).",
    "clipping": "Clipping rescales the gradient the optimizer applies whenever its norm passes "
                "the threshold, so one huge gradient cannot throw the weights far (Pascanu, "
                "Mikolov & Bengio 2013). It bounds each step; it does not remove the cause, and "
                "it does nothing for vanishing.",
    "smaller_step": "A smaller learning rate makes every step smaller, so the weights do not "
                    "overshoot into the region where the loss and its gradient blow up. The "
                    "gradient's growth across layers stays as it is.",
}
