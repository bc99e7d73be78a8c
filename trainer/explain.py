"""The words of a diagnosis: its message and its "why", with this run's numbers (TF-free).

Every claim names the paper that supports it (the page links each citation: frontend/refs.js,
checked by tests/test_sources.py); docs/diagnosis.md and docs/remedies.md give the measured
figures. The diagnosis fills in this run's own numbers.
"""

from __future__ import annotations

import math

from trainer.contract.config import RunConfig
from trainer.contract.effective import FIXED_SCALE, init_gain, uses_activation
from trainer.contract.thresholds import EXPLODING_RATIO, HYSTERESIS, VANISHING_RATIO
from trainer.evidence import Evidence
from trainer.sentences import CAUSE, REMEDY_WHY, SLOPE

ADAPTIVE = ("adam", "rmsprop")
OPTIMIZER_NAME = {"sgd": "SGD", "momentum": "SGD with momentum", "adam": "Adam",
                  "rmsprop": "RMSprop"}


def sup(value: float) -> str:
    """A positive number as its nearest power of ten, e.g. 10⁻⁶ (0 as 'less than 10⁻⁴⁵')."""
    if value <= 0:
        return "less than 10⁻⁴⁵"
    digits = str(int(round(math.log10(value))))
    return "10" + digits.translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.3g}" if abs(value) >= 1 else f"{value:.2g}"
    return f"{value:.1e}"


def _size(value: float | None) -> str:
    """A ratio as a plain number near 1, as a power of ten far from it."""
    if value is None:
        return "?"
    if value <= 0 or not 1e-4 <= value < 1e4:
        return sup(value)
    return f"{value:.2g}" if value < 100 else f"{value:.0f}"


def _steps(ev: Evidence) -> str:
    noun = "step" if ev.span == 1 else "steps"
    return f"{ev.span} layer-to-layer {noun}"


def _updates(ev: Evidence) -> str:
    if ev.update_first is None or ev.update_last is None:
        return ""
    return (f"{ev.first}'s weights change by {_num(ev.update_first)} of their norm per step, "
            f"{ev.last}'s by {_num(ev.update_last)}")


def _optimizer_effect(config: RunConfig, ev: Evidence) -> str:
    """What a small input-side gradient means for this optimizer's steps."""
    opt = config.training.optimizer
    updates = _updates(ev)
    if config.remedies.regularizer != "none":
        return (f" The weights still change every step ({updates}), but under "
                f"{config.remedies.regularizer.upper().replace('_', '+')} regularization that "
                "is mostly the penalty's gradient pulling them toward zero, not the data: the "
                "penalty is why the weight-gradient view looks healthier than the signal "
                "(Krogh & Hertz 1992).")
    if opt in ADAPTIVE:
        return (f" Under {OPTIMIZER_NAME[opt]} a small gradient is not a small step: each "
                "weight's step is divided by the running size of its own gradient (Kingma & "
                f"Ba 2015), so {updates or 'the input side still moves'}. Steps shrink only "
                "where a gradient falls near the optimizer's ε (10⁻⁷). What vanishes is the "
                f"signal: the loss is about {sup(ev.ratio or 0)} as sensitive to {ev.first}'s "
                "outputs, so its steps barely change what the network computes and the "
                "layers near the output do the learning.")
    return (f" Under {OPTIMIZER_NAME[opt]} a step is the learning rate times the gradient, so "
            f"the input side learns that much more slowly{': ' + updates if updates else ''}.")


def message(state: str, axis: str, config: RunConfig, ev: Evidence) -> str:
    """One or two sentences: the verdict and the figure it rests on."""
    m = config.model
    basis = ("the backpropagated signal (per unit, median of recent steps)"
             if ev.source == "backprop" else
             "the weight gradients (this model's layer outputs are not recorded)")
    if state == "unknown":
        return "Not enough steps yet." if ev.steps else "No steps yet."
    if state == "diverged":
        return ("The loss or a gradient became NaN or infinite: the weights overflowed, and "
                "training cannot continue from here.")
    if state == "dead":
        t = config.training
        return (f"Most of {ev.dead_layer}'s units are dead: {ev.dead:.0%} of them output 0 for "
                "every example of the batch (median of recent steps), so no gradient passes "
                "through them and they cannot come back (Lu et al. 2019). The usual cause is "
                f"too large a step ({OPTIMIZER_NAME[t.optimizer]} at learning rate "
                f"{t.learning_rate:g} here), or a large negative shift of the biases.")
    if state == "exploding" and axis == "scale":
        return (f"Gradients are exploding in every layer at once: the largest layer gradient "
                f"norm is about {sup(ev.top_grad or 0)}, {sup(ev.grad_to_weight or 0)} times "
                f"that layer's weight norm, with a loss of {_num(ev.loss)}. The rows are "
                "uniformly huge rather than growing toward the input.")
    if axis == "time":
        where = f"the first of {config.dataset.seq_len} time steps"
        if state == "vanishing":
            return (f"Gradients vanish across time: {where} gets {sup(ev.time_ratio or 0)} of "
                    "the gradient the last one gets (median of recent steps), so the network "
                    "can hardly learn from early inputs.")
        return (f"Gradients explode across time: {where} gets {sup(ev.time_ratio or 0)} times "
                "the gradient the last one gets (median of recent steps).")
    figures = (f"{ev.first} gets {_size(ev.ratio) if ev.ratio else '0'} of {ev.last}'s "
               f"{'signal' if ev.source == 'backprop' else 'gradient'}")
    if state == "vanishing":
        if not ev.ratio:
            return (f"{ev.first} receives no gradient at all: every path back to it is "
                    "blocked (all-zero weights, or units that never activate).")
        held = (f" It fell below {sup(VANISHING_RATIO)} earlier; a state is left only once "
                f"the ratio is back above {sup(VANISHING_RATIO * HYSTERESIS)}."
                if ev.ratio >= VANISHING_RATIO else "")
        return (f"Gradients are vanishing, judged by {basis}: {figures}, about "
                f"{ev.gain:.2f} per layer over {_steps(ev)}.{held}"
                + _optimizer_effect(config, ev))
    if state == "exploding":
        held = (f" It passed {sup(EXPLODING_RATIO)} earlier; a state is left only once the "
                f"ratio is back below {sup(EXPLODING_RATIO / HYSTERESIS)}."
                if (ev.ratio or 0) <= EXPLODING_RATIO else "")
        adam = ""
        if config.training.optimizer in ADAPTIVE:
            adam = (f" Under {OPTIMIZER_NAME[config.training.optimizer]} each weight's step is "
                    "divided by the running size of its own gradient (Kingma & Ba 2015), so "
                    f"the input side's steps do not grow with it"
                    f"{' (' + _updates(ev) + ')' if _updates(ev) else ''}; the loss is that "
                    "much more sensitive to the input side, which is what calls for small "
                    "learning rates there (Yang et al. 2019).")
        return (f"Gradients explode toward the input, judged by {basis}: {ev.first} gets "
                f"{_size(ev.ratio)} times {ev.last}'s, about {ev.gain:.2f} per layer over "
                f"{_steps(ev)}.{held}{adam}")
    time = (f" Across time the first step gets {_num(ev.time_ratio)} of the last step's "
            "gradient." if ev.time_ratio is not None else "")
    depth = ""
    if ev.ratio is not None and not (m.arch == "rnn" and m.depth == 1):
        depth = (f" {ev.first} gets {_num(ev.ratio)} times {ev.last}'s "
                 f"{'signal' if ev.source == 'backprop' else 'gradient'}, about "
                 f"{_num(ev.gain)} per layer over {_steps(ev)}.")
    dead = (f" {ev.dead:.0%} of {ev.dead_layer}'s units output 0 for the whole batch; the "
            "rest still carry the gradient." if ev.dead is not None and ev.dead >= 0.5 else "")
    return ("No vanishing or exploding: the gradient reaches every layer within the healthy "
            f"range (10⁻² to 10²).{depth}{time}{dead} This says the gradient flows, not that "
            "the model fits the data: watch the loss and the validation figures.")


def then(initial: dict | None, state: str, ev: Evidence) -> str:
    """A sentence on the run's first verdict when it was a problem and differs from today's."""
    if not initial or initial["state"] in ("unknown", "healthy", state):
        return ""
    axis = initial.get("axis") or ""
    if axis == "time" and initial.get("time_ratio") is not None:
        figure = (f"the first time step got {_size(initial['time_ratio'])} of the last one's "
                  "gradient")
    elif initial.get("ratio") is not None:
        figure = f"{ev.first} got {_size(initial['ratio'])} times {ev.last}'s signal"
    else:
        figure = ""
    return (f" At initialization (step 0) it was {initial['state']}"
            f"{' (' + figure + ')' if figure else ''}; training has moved it since.")


def _init_text(config: RunConfig) -> str:
    if config.remedies.initializer not in FIXED_SCALE:
        return ""
    gain = init_gain(config)
    r, m = config.remedies, config.model
    verdict = ("so the signal grows geometrically with depth" if gain > 1.25 else
               "so the signal shrinks geometrically with depth" if gain < 0.8 else
               "close to 1")
    return (f" With {r.initializer} of scale {r.init_std:g} at width {m.width}, each layer "
            f"multiplies the signal by about {gain:.2f} ({verdict}; over {m.depth} layers "
            f"about {gain ** m.depth:.1e}). A fixed scale ignores the width: a "
            "variance-preserving initializer sets it from the width (He et al. 2015).")


def why(state: str, axis: str, config: RunConfig, ev: Evidence) -> str:
    """A paragraph explaining this diagnosis with this run's numbers."""
    r, m = config.remedies, config.model
    act = SLOPE[r.activation] if uses_activation(config) else ""
    if state == "dead":
        return f"{REMEDY_WHY['dead']} {REMEDY_WHY['dead_smaller_step']} {REMEDY_WHY['leaky']}"
    if axis == "time" or (m.arch == "rnn" and state in ("vanishing", "exploding")):
        return _why_recurrent(state, config, ev)
    if state == "vanishing":
        numbers = ""
        if ev.ratio:
            numbers = (f" Here {ev.first} gets {ev.ratio:.1e} of {ev.last}'s backpropagated "
                       f"signal: about {ev.gain:.2f} per layer over {_steps(ev)}.")
        return f"{CAUSE} {act}{numbers}{_init_text(config)}"
    if state == "exploding" and axis == "scale":
        adam = config.training.optimizer in ADAPTIVE
        return ("When the weights are too large, every layer multiplies both the forward "
                "signal and the backpropagated one by more than 1, so the outputs, the loss "
                "and every layer's gradient are huge from the first step. A layer's weight "
                "gradient is its input times the signal it gets back, so the forward and the "
                "backward growth cancel between layers and every row is uniformly bright "
                f"instead of growing.{_init_text(config)} Larger initial weights make this "
                "worse, not better (He et al. 2015). "
                + ("Adam divides each step by the running size of the gradient (Kingma & Ba "
                   "2015), so the huge gradients do not make huge steps and the run goes on, "
                   "but it starts from a network whose outputs are far too large."
                   if adam else
                   "A step of the learning rate times such a gradient moves the weights far "
                   "outside the region the loss was measured in, so the run soon diverges.")
                + " Clipping bounds each step but leaves the cause in place (Pascanu, Mikolov "
                "& Bengio 2013).")
    if state == "exploding":
        bn = (" Batch normalization causes this in deep stacks without skip connections: "
              "normalizing over the batch makes the gradient grow by a constant factor per "
              "layer toward the input at initialization (Yang et al. 2019)."
              if r.batch_norm and not r.residual else "")
        return (f"{CAUSE}{bn} Here {ev.first} gets {_num(ev.ratio)} times {ev.last}'s "
                f"backpropagated signal: about {_num(ev.gain)} per layer over {_steps(ev)}. "
                "Clipping bounds each step but leaves the cause in place (Pascanu, Mikolov & "
                "Bengio 2013).")
    if state == "diverged":
        return ("An update was so large that the weights, the loss or a gradient overflowed "
                "to infinity or NaN; from there every further step is NaN too. Exploding "
                "gradients are the usual cause: tame them at the source (initialization, "
                "learning rate) or bound the step with clipping (Pascanu, Mikolov & Bengio "
                f"2013).{_init_text(config)}")
    if state == "healthy":
        return (f"{CAUSE} Here the factors stay near 1 on the whole: the backpropagated signal "
                "reaching the input side is between 10⁻² and 10² times the output side's, so "
                "every layer gets a usable gradient. Healthy gradient flow is necessary for "
                "training a deep network, not sufficient: the loss and the validation figures "
                "tell whether it learns.")
    return "Not enough steps have been recorded yet to judge."


def _why_recurrent(state: str, config: RunConfig, ev: Evidence) -> str:
    m, steps = config.model, config.dataset.seq_len
    here = (f" Here the first time step gets {_num(ev.time_ratio)} of the last one's "
            "gradient." if ev.time_ratio is not None else "")
    r = config.remedies
    radius = (f" Its recurrent weights start orthogonal with gain {r.recurrent_gain:g}: "
              f"spectral radius {r.recurrent_gain:g}."
              if r.recurrent_initializer == "orthogonal" else "")
    if m.cell == "simple_rnn":
        return ("A recurrent layer applies the same weights at every time step, so the "
                f"gradient reaching the first of {steps} steps has been multiplied {steps - 1} "
                "times by the recurrent Jacobian (the recurrent weights times the activation's "
                "slope). When its largest singular value stays below 1 the product vanishes "
                "geometrically; above 1 it can explode (Hochreiter 1991; Bengio, Simard & "
                f"Frasconi 1994; Pascanu, Mikolov & Bengio 2013).{radius}{here}"
                + (" Clipping bounds each step; it leaves the growth across time in place."
                   if state == "exploding" else ""))
    cell = "LSTM" if m.cell == "lstm" else "GRU"
    gate = ("its cell state is multiplied by the forget gate at every step (Gers, Schmidhuber "
            "& Cummins 2000)" if m.cell == "lstm" else
            "its state is carried forward through the update gate (Cho et al. 2014)")
    return (f"A {cell} ignores the activation setting: {gate}. The gradient across "
            f"{steps} steps survives only where those gates stay near 1, which the network "
            "has to learn; until it does, the gradient to early steps still vanishes. The "
            "original LSTM (Hochreiter & Schmidhuber 1997) had no forget gate: its cell "
            f"passed the gradient back unchanged.{here}")
