"""Diagnosis rules on recorded figures: states, hysteresis, optimizer-aware words, sources.

The same rules on real Keras training are in tests/test_diagnosis_cases.py; here the figures are
written by hand so each rule and threshold is checked on its own.
"""

import math

from trainer.contract.config import RunConfig, deep_merge
from trainer.contract.presets import PRESETS_BY_ID
from trainer.diagnose import diagnose
from trainer.evidence import Layers, Recent

N = 11  # dense_1 … dense_10, output
NAMES = tuple(f"dense_{i}" for i in range(1, N)) + ("output",)
LAYERS = Layers(NAMES, ("Dense",) * N, (32,) * (N - 1) + (1,))


def config(preset, **overrides):
    return RunConfig.model_validate(deep_merge(PRESETS_BY_ID[preset]["config"], overrides))


def recent(signal_first, signal_last=1.0, grads=None, n=10, weights=1.0, loss=0.7, updates=1e-3,
           time_ratios=()):
    """Steps whose backpropagated signal falls geometrically from dense_10 to dense_1."""
    per = (signal_first / signal_last) ** (1 / 9) if signal_first > 0 else 0.0
    signal = [signal_last * per ** (9 - i) for i in range(10)] + [0.5]
    g = grads or [0.1] * N
    return Recent([list(g)] * n, [loss] * n, [signal] * n, [[weights] * N] * n,
                  [[updates] * N] * n, list(time_ratios) * n if len(time_ratios) == 1
                  else list(time_ratios))


def test_states_follow_the_documented_thresholds():
    sig = config("vanishing-sigmoid")
    assert diagnose(sig, recent(1e-3), LAYERS)["state"] == "vanishing"
    assert diagnose(sig, recent(0.05), LAYERS)["state"] == "healthy"
    assert diagnose(sig, recent(5e2), LAYERS)["state"] == "exploding"
    assert diagnose(sig, recent(1.0, n=2), LAYERS)["state"] == "unknown"
    bad = recent(0.05)
    bad.grad_norms[-1] = [0.1] * 5 + [math.nan] + [0.1] * 5
    assert diagnose(sig, bad, LAYERS)["state"] == "diverged"
    # a single non-finite step is enough, however few steps there are
    one = Recent([[math.inf] * N], [math.inf])
    assert diagnose(sig, one, LAYERS)["state"] == "diverged"


def test_the_verdict_follows_the_signal_not_the_weight_gradients():
    # L2's penalty gradient makes dense_1's weight gradient look healthy (ratio 0.14 measured);
    # the backpropagated signal still vanishes (10⁻⁷).
    sig = config("vanishing-sigmoid", remedies={"regularizer": "l2", "l2": 0.01})
    d = diagnose(sig, recent(1e-7, grads=[0.02] + [0.1] * 9 + [0.15]), LAYERS)
    assert d["state"] == "vanishing" and d["axis"] == "depth"
    assert d["weight_ratio"] > 0.1 and d["ratio"] < 1e-6
    assert "penalty" in d["message"]


def test_normalization_layers_are_not_depth():
    names, kinds, units = [], [], []
    for i in range(1, 11):
        names += [f"dense_{i}", f"batch_norm_{i}"]
        kinds += ["Dense", "BatchNormalization"]
        units += [32, 32]
    layers = Layers(tuple(names) + ("output",), tuple(kinds) + ("Dense",),
                    tuple(units) + (1,))
    n = len(names) + 1
    signal = [0.1 * 0.4 ** (9 - i // 2) for i in range(20)] + [0.5]
    rec = Recent([[0.1] * n] * 10, [0.7] * 10, [signal] * 10, [[1.0] * n] * 10,
                 [[1e-3] * n] * 10)
    d = diagnose(config("fixed-batchnorm"), rec, layers)
    assert d["span"] == 9 and d["compared"] == ["dense_1", "dense_10"]
    assert abs(d["gain"] - 0.4) < 1e-6
    assert "0.40 per layer over 9 layer-to-layer steps" in d["message"]


def test_uniformly_huge_rows_are_exploding_although_the_ratio_is_one():
    cfg = config("exploding-init", training={"optimizer": "adam", "learning_rate": 0.001})
    d = diagnose(cfg, recent(1.0, grads=[1e5] * N, weights=30.0, loss=900.0), LAYERS)
    assert d["state"] == "exploding" and d["axis"] == "scale"
    assert d["suggestions"][0]["overrides"] == {"remedies": {"initializer": "he_normal"}}
    assert "Adam" in d["why"] and "uniformly" in d["why"]


def test_hysteresis_keeps_a_state_until_the_ratio_is_well_inside():
    sig = config("vanishing-sigmoid")
    entered = diagnose(sig, recent(5e-3), LAYERS)
    assert entered["state"] == "vanishing"
    # 0.05 is above the entry threshold but within a decade of it: still vanishing
    held = diagnose(sig, recent(5e-2), LAYERS, previous=entered)
    assert held["state"] == "vanishing" and "earlier" in held["message"]
    assert diagnose(sig, recent(5e-2), LAYERS)["state"] == "healthy"
    assert diagnose(sig, recent(2e-1), LAYERS, previous=held)["state"] == "healthy"


def test_time_axis_with_hysteresis():
    rnn = config("vanishing-rnn")
    layers = Layers(("simple_rnn_1", "output"), ("SimpleRNN", "Dense"), (32, 1))

    def rec(t):
        return Recent([[0.5, 1.0]] * 10, [0.1] * 10, [[0.5, 1.0]] * 10, [[1.0, 1.0]] * 10,
                      [[1e-3, 1e-3]] * 10, [t] * 10)

    d = diagnose(rnn, rec(1e-4), layers)
    assert d["state"] == "vanishing" and d["axis"] == "time" and "across time" in d["message"]
    assert d["suggestions"][0]["overrides"] == {"model": {"cell": "lstm"}}
    assert diagnose(rnn, rec(5e-2), layers, previous=d)["state"] == "vanishing"
    assert diagnose(rnn, rec(2e-1), layers, previous=d)["state"] == "healthy"
    assert diagnose(rnn, rec(5e2), layers)["state"] == "exploding"


def test_lstm_advice_never_touches_the_activation():
    lstm = config("fixed-lstm", training={"learning_rate": 0.001})
    layers = Layers(("lstm_1", "output"), ("LSTM", "Dense"), (32, 1))
    rec = Recent([[0.5, 1.0]] * 10, [0.2] * 10, [[0.5, 1.0]] * 10, [[1.0, 1.0]] * 10,
                 [[1e-3, 1e-3]] * 10, [1e-8] * 10)
    d = diagnose(lstm, rec, layers)
    assert d["state"] == "vanishing"
    assert all("activation" not in s["overrides"].get("remedies", {}) for s in d["suggestions"])
    assert "forget gate" in d["why"] and "Gers" in d["why"]


def test_adam_is_not_said_to_learn_slowly():
    cfg = config("vanishing-sigmoid", training={"optimizer": "adam", "learning_rate": 0.001})
    d = diagnose(cfg, recent(1e-6, updates=2e-3), LAYERS)
    assert d["state"] == "vanishing"
    assert "not a small step" in d["message"] and "slowly" not in d["message"]
    sgd = diagnose(config("vanishing-sigmoid"), recent(1e-6), LAYERS)
    assert "learning rate times the gradient" in sgd["message"]


def test_zero_signal_at_the_input_side_is_vanishing_not_a_crash():
    d = diagnose(config("vanishing-sigmoid"), recent(0.0), LAYERS)
    assert d["state"] == "vanishing" and "no gradient at all" in d["message"]


def test_explanations_use_the_runs_numbers_and_never_repeat_the_seeds_errors():
    sig = diagnose(config("vanishing-sigmoid"), recent(1e-6), LAYERS)
    assert "at most 1/4" in sig["why"] and "0.22 per layer over 9" in sig["why"]
    exp = diagnose(config("exploding-init"), recent(1.0, grads=[3e5] * N, weights=30.0), LAYERS)
    assert "about 2.00" in exp["why"] and "worse, not better" in exp["why"]
    texts = [sig["why"], sig["message"], exp["why"], exp["message"]] + [
        s["why"] for d in (sig, exp) for s in d["suggestions"]]
    for text in texts:
        assert "exponential average" not in text
        assert "non-negative" not in text
        assert "increase the weights" not in text and "larger initial weights to" not in text
        assert "comparable pace" not in text and "hundred times slower" not in text
    assert all(s["why"] for s in sig["suggestions"] + exp["suggestions"])
    clip = [s for s in exp["suggestions"] if s["overrides"].get("remedies", {}).get("clipping")]
    assert clip and "does not remove the cause" in clip[0]["why"]


def test_a_model_without_recorded_signal_falls_back_to_weight_gradients():
    rec = Recent([[1e-6] + [0.1] * (N - 1)] * 10, [0.7] * 10)
    d = diagnose(config("vanishing-sigmoid"), rec, LAYERS)
    assert d["state"] == "vanishing" and d["source"] == "weights"


def test_dead_units_are_their_own_cause_not_vanishing():
    cfg = config("fixed-relu-he", training={"optimizer": "adam", "learning_rate": 0.3})
    rec = recent(0.0)
    rec.dead_fractions = [[0.7, 1.0] + [0.9] * 8 + [None]] * 10
    d = diagnose(cfg, rec, LAYERS)
    assert d["state"] == "dead" and "dense_2" in d["message"] and "100%" in d["message"]
    assert "Lu et al. 2019" in d["message"]
    first = d["suggestions"][0]["overrides"]
    assert first == {"training": {"learning_rate": 0.03}}
    assert {"remedies": {"activation": "leaky_relu"}} in [s["overrides"] for s in d["suggestions"]]
    # many dead units in a net whose signal still flows: healthy, with a note
    alive = recent(0.5)
    alive.dead_fractions = [[0.06, 0.62, 0.41, 0.78, 0.66, 0.81, 0.73, 0.78, 0.78, 0.69,
                             None]] * 10
    ok = diagnose(cfg, alive, LAYERS)
    assert ok["state"] == "healthy" and "81% of dense_6's units" in ok["message"]
