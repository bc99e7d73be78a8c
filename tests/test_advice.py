"""Every suggestion the diagnosis can make changes what is trained: checked on the Keras model
the builder makes (layers, their settings, the optimizer), not on the config's fields."""

import keras
import pytest

from trainer.advice import suggestions
from trainer.contract.config import RunConfig, deep_merge
from trainer.contract.effective import effective
from trainer.models import build_model

VERDICTS = [("vanishing", "depth"), ("vanishing", "time"), ("exploding", "depth"),
            ("exploding", "scale"), ("exploding", "time"), ("diverged", "")]


def _canonical(value):
    """A layer or optimizer setting with what does not change training left out: names,
    and the distribution shape of variance-scaling initializers (he_normal ≡ he_uniform)."""
    if isinstance(value, dict):
        skip = {"name", "dtype", "dtype_policy", "distribution"}
        return {k: _canonical(v) for k, v in value.items() if k not in skip}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def fingerprint(config: RunConfig):
    """What the built model and its optimizer are, plus the training schedule."""
    model = build_model(config)
    layers = [(type(layer).__name__, _canonical(layer.get_config())) for layer in model.layers]
    optimizer = _canonical(model.optimizer.get_config())
    keras.backend.clear_session()
    return layers, optimizer, config.training.epochs, config.training.batch_size


def configs():
    base = {"dataset": {"name": "spirals", "n_samples": 64}, "model": {"depth": 3, "width": 8}}
    mlp = [{"remedies": {"activation": a, "initializer": i}}
           for a, i in [("sigmoid", "glorot_uniform"), ("tanh", "he_normal"),
                        ("relu", "glorot_uniform"), ("relu", "he_uniform"),
                        ("selu", "glorot_uniform")]]
    mlp += [{"remedies": {"activation": "relu", "initializer": "random_normal", "init_std": s}}
            for s in (0.01, 1.0)]
    mlp += [{"remedies": {"activation": "relu", "batch_norm": True}, "model": {"depth": 20}},
            {"remedies": {"activation": "tanh", "initializer": "random_uniform",
                          "init_std": 0.3, "regularizer": "l2", "l2": 0.01}},
            {"remedies": {"activation": "relu", "initializer": "he_normal", "residual": True,
                          "batch_norm": True, "clipping": "global_norm"}}]
    rnn = [{"dataset": {"name": "adding", "n_samples": 64, "seq_len": 5},
            "model": {"arch": "rnn", "cell": c, "depth": 1, "width": 4},
            "remedies": {"activation": "tanh", "initializer": "orthogonal"},
            "training": {"optimizer": "adam", "learning_rate": 0.001}}
           for c in ("simple_rnn", "lstm", "gru")]
    cnn = [{"dataset": {"name": "digits"}, "model": {"arch": "cnn", "depth": 2, "width": 2},
            "remedies": {"activation": "relu", "initializer": "glorot_uniform"}}]
    return [RunConfig.model_validate(deep_merge(base, c) if "dataset" not in c else c)
            for c in mlp + rnn + cnn]


@pytest.mark.slow
def test_every_suggestion_changes_the_built_model_or_its_training():
    checked = 0
    for config in configs():
        before = fingerprint(config)
        offered = {}
        for state, axis in VERDICTS:
            for s in suggestions(state, axis, config):
                offered[repr(s["overrides"])] = s
        for key, s in offered.items():
            after = RunConfig.model_validate(deep_merge(config.model_dump(), s["overrides"]))
            assert fingerprint(after) != before, (
                f"'{s['label']}' {key} changes nothing for {config.model_dump()}")
            checked += 1
    assert checked > 40


def test_lstm_and_gru_are_never_offered_an_activation():
    for config in configs():
        if config.model.arch == "rnn" and config.model.cell != "simple_rnn":
            for state, axis in VERDICTS:
                for s in suggestions(state, axis, config):
                    assert "activation" not in s["overrides"].get("remedies", {})


def test_he_uniform_counts_as_he_initialization():
    he_uniform = RunConfig.model_validate({"model": {"depth": 10, "width": 32},
                                           "remedies": {"activation": "relu",
                                                        "initializer": "he_uniform"}})
    labels = [s["label"] for s in suggestions("vanishing", "depth", he_uniform)]
    assert not any("He initialization" in label for label in labels)
    he = RunConfig.model_validate({"remedies": {"initializer": "he_normal"}})
    assert effective(he_uniform)["remedies"]["initializer"] == \
        effective(he)["remedies"]["initializer"]


def test_the_init_fix_follows_the_gain_not_a_fixed_std():
    def first(std, width):
        cfg = RunConfig.model_validate({
            "model": {"depth": 10, "width": width},
            "remedies": {"activation": "relu", "initializer": "random_normal",
                         "init_std": std}})
        return [s["overrides"] for s in suggestions("diverged", "", cfg)]
    # width 512, std 0.15: gain 0.15·√256 = 2.4 per layer (the case) → He first
    assert first(0.15, 512)[0] == {"remedies": {"initializer": "he_normal"}}
    # width 8, std 0.3: gain 0.6 — the init is not why this run diverged
    assert {"remedies": {"initializer": "he_normal"}} not in first(0.3, 8)


def test_clipping_is_offered_with_its_limits():
    cfg = RunConfig.model_validate({"remedies": {"activation": "relu",
                                                 "initializer": "random_normal",
                                                 "init_std": 1.0}})
    [clip] = [s for s in suggestions("exploding", "scale", cfg)
              if "clipping" in s["overrides"].get("remedies", {})]
    assert "the cause stays" in clip["label"] and "does not remove the cause" in clip["why"]
    assert not any("clipping" in s["overrides"].get("remedies", {})
                   for s in suggestions("vanishing", "depth", cfg))
