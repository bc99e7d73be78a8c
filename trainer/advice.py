"""What to try for a diagnosis: partial RunConfigs that address its cause, best first (TF-free).

Each suggestion changes the effective model (`trainer.contract.effective`): a remedy the
builder would ignore (an activation for an LSTM) or one that is already in place under another
name (he_normal for he_uniform) is never offered. docs/diagnosis.md lists the rules.
"""

from __future__ import annotations

from typing import Any

from trainer.contract.config import RunConfig, deep_merge
from trainer.contract.effective import effective, init_gain, uses_activation
from trainer.sentences import REMEDY_WHY

RELU_FAMILY = ("relu", "leaky_relu", "elu", "gelu", "swish")
# The initializer that gives each activation a gain near 1 (None: no initializer does).
VARIANCE_PRESERVING = {**{a: "he_normal" for a in RELU_FAMILY}, "selu": "lecun_normal",
                       "tanh": "glorot_uniform", "linear": "glorot_uniform", "sigmoid": None}
INIT_NAME = {"he_normal": "He", "glorot_uniform": "Glorot", "lecun_normal": "LeCun-normal"}
LOW_GAIN, HIGH_GAIN = 0.8, 1.25   # a fixed-scale init outside these shrinks/grows the signal
DEEP_WITHOUT_SKIPS = 16           # past this depth batch norm alone explodes (Yang et al. 2019)


def _suggest(label: str, why: str, **sections: dict[str, Any]) -> dict[str, Any]:
    return {"label": label, "overrides": sections, "why": why}


def _init_fix(config: RunConfig) -> dict[str, Any] | None:
    """The variance-preserving initializer for this activation, if the current one is not
    (judged by the gain it gives, not by its name)."""
    r = config.remedies
    act = r.activation if uses_activation(config) else "tanh"
    good = VARIANCE_PRESERVING[act]
    gain = init_gain(config)
    if good is None or LOW_GAIN <= gain <= HIGH_GAIN:
        return None
    return _suggest(f"{INIT_NAME[good]} initialization ({good})",
                    f"{REMEDY_WHY['initializer']} Now {gain:.2f} per layer at initialization.",
                    remedies={"initializer": good})


def _depth_vanishing(config: RunConfig) -> list[dict[str, Any]]:
    r, m = config.remedies, config.model
    out: list[dict[str, Any]] = []
    if m.arch == "rnn":
        if m.cell == "simple_rnn":
            out += [_suggest("Use an LSTM cell", REMEDY_WHY["cell"], model={"cell": "lstm"}),
                    _suggest("Use a GRU cell", REMEDY_WHY["cell"], model={"cell": "gru"})]
        return out
    if init_gain(config) < LOW_GAIN and (fix := _init_fix(config)):
        out.append(fix)
    if r.activation in ("sigmoid", "tanh"):
        out.append(_suggest("ReLU with He initialization", REMEDY_WHY["activation"],
                            remedies={"activation": "relu", "initializer": "he_normal"}))
    elif (fix := _init_fix(config)):
        out.append(fix)
    if not r.residual:
        out.append(_suggest("Residual connections", REMEDY_WHY["residual"],
                            remedies={"residual": True}))
    if not r.batch_norm:
        if m.depth <= DEEP_WITHOUT_SKIPS or r.residual:
            out.append(_suggest("Batch normalization", REMEDY_WHY["batch_norm"],
                                remedies={"batch_norm": True}))
        else:
            out.append(_suggest("Batch normalization with residual connections",
                                REMEDY_WHY["batch_norm"] + " " + REMEDY_WHY["residual"],
                                remedies={"batch_norm": True, "residual": True}))
    return out


def _orthogonal_recurrent(config: RunConfig) -> list[dict[str, Any]]:
    r = config.remedies
    if (r.recurrent_initializer, r.recurrent_gain) == ("orthogonal", 1.0):
        return []
    return [_suggest("Orthogonal recurrent weights at gain 1 (spectral radius 1)",
                     REMEDY_WHY["orthogonal"],
                     remedies={"recurrent_initializer": "orthogonal", "recurrent_gain": 1.0})]


def _time_vanishing(config: RunConfig) -> list[dict[str, Any]]:
    m, t = config.model, config.training
    if m.cell == "simple_rnn":
        return [_suggest("Use an LSTM cell", REMEDY_WHY["cell"], model={"cell": "lstm"}),
                _suggest("Use a GRU cell", REMEDY_WHY["cell"], model={"cell": "gru"}),
                *_orthogonal_recurrent(config)]
    out = []
    if t.optimizer in ("adam", "rmsprop") and t.learning_rate < 1e-2:
        rate = min(t.learning_rate * 10, 1e-2)
        out.append(_suggest(f"Learning rate {rate:g} (larger)", REMEDY_WHY["gates_learn"],
                            training={"learning_rate": rate}))
    if t.epochs < 500:
        epochs = min(t.epochs * 3, 500)
        out.append(_suggest(f"{epochs} epochs (3× longer)", REMEDY_WHY["gates_learn"],
                            training={"epochs": epochs}))
    return out


def _exploding(config: RunConfig, axis: str) -> list[dict[str, Any]]:
    r, m, t = config.remedies, config.model, config.training
    out: list[dict[str, Any]] = []
    if init_gain(config) > HIGH_GAIN:
        if (fix := _init_fix(config)):
            out.append(fix)
        elif r.activation == "sigmoid":
            out.append(_suggest("ReLU with He initialization", REMEDY_WHY["activation"],
                                remedies={"activation": "relu", "initializer": "he_normal"}))
    if axis == "time" or m.arch == "rnn":
        out += _orthogonal_recurrent(config)
        if m.cell == "simple_rnn":
            out += [_suggest("Use an LSTM cell", REMEDY_WHY["cell"], model={"cell": "lstm"}),
                    _suggest("Use a GRU cell", REMEDY_WHY["cell"], model={"cell": "gru"})]
    if axis == "depth" and m.arch != "rnn" and r.batch_norm and not r.residual:
        out.append(_suggest("Residual connections", REMEDY_WHY["residual_bn"],
                            remedies={"residual": True}))
        out.append(_suggest("Without batch normalization", REMEDY_WHY["no_batch_norm"],
                            remedies={"batch_norm": False}))
    if r.clipping == "none":
        out.append(_suggest("Clip the global gradient norm at 1 (bounds each step; the cause "
                            "stays)", REMEDY_WHY["clipping"],
                            remedies={"clipping": "global_norm", "clip_value": 1.0}))
    out.append(_suggest(f"Learning rate {t.learning_rate / 10:g} (10× smaller)",
                        REMEDY_WHY["smaller_step"],
                        training={"learning_rate": t.learning_rate / 10}))
    return out


def _dead(config: RunConfig) -> list[dict[str, Any]]:
    t = config.training
    return [_suggest(f"Learning rate {t.learning_rate / 10:g} (10× smaller)",
                     REMEDY_WHY["dead_smaller_step"],
                     training={"learning_rate": t.learning_rate / 10}),
            _suggest("Leaky ReLU (activation leaky_relu)", REMEDY_WHY["leaky"],
                     remedies={"activation": "leaky_relu"}),
            _suggest("ELU (activation elu)", REMEDY_WHY["leaky"], remedies={"activation": "elu"})]


def suggestions(state: str, axis: str, config: RunConfig) -> list[dict[str, Any]]:
    """The remedies for a verdict, best first; each changes the effective model."""
    if state == "dead":
        found = _dead(config)
    elif state == "vanishing":
        found = _time_vanishing(config) if axis == "time" else _depth_vanishing(config)
    elif state in ("exploding", "diverged"):
        found = _exploding(config, axis)
    else:
        found = []
    return changing(config, found)


def changing(config: RunConfig, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`found` without suggestions that change nothing or repeat an earlier one's effect."""
    base = config.model_dump()
    seen = [effective(config)]
    out = []
    for suggestion in found:
        try:
            after = effective(RunConfig.model_validate(deep_merge(base,
                                                                  suggestion["overrides"])))
        except ValueError:  # not a valid config here (e.g. over the parameter limit)
            continue
        if after not in seen:
            seen.append(after)
            out.append(suggestion)
    return out
