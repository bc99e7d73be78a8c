"""Diagnosis from per-layer norms: states, thresholds, suggestions and true explanations."""

import math

from trainer.contract.config import RunConfig
from trainer.contract.presets import PRESETS_BY_ID
from trainer.diagnose import diagnose


def config(preset):
    return RunConfig.model_validate(PRESETS_BY_ID[preset]["config"])


def rows(first, last, n=10, layers=11):
    return [[first] + [1e-2] * (layers - 2) + [last] for _ in range(n)]


def test_states_follow_the_documented_thresholds():
    sig = config("vanishing-sigmoid")
    assert diagnose(sig, rows(1e-7, 0.1), [0.7] * 10)["state"] == "vanishing"
    assert diagnose(sig, rows(0.05, 0.1), [0.7] * 10)["state"] == "healthy"
    assert diagnose(sig, rows(5e3, 0.1), [0.7] * 10)["state"] == "exploding"
    assert diagnose(sig, rows(1.0, 0.1)[:2], [0.7] * 2)["state"] == "unknown"
    nan = rows(0.05, 0.1)
    nan[-1][3] = math.nan
    assert diagnose(sig, nan, [0.7] * 10)["state"] == "diverged"
    # a single non-finite step is enough, however few steps there are
    assert diagnose(sig, [[math.inf] * 11], [math.inf])["state"] == "diverged"


def test_zero_gradient_at_the_input_side_is_vanishing_not_a_crash():
    d = diagnose(config("vanishing-sigmoid"), rows(0.0, 0.1), [0.7] * 10)
    assert d["state"] == "vanishing" and "no gradient at all" in d["message"]


def test_time_axis_vanishing_for_sequence_models():
    rnn = config("vanishing-rnn")
    d = diagnose(rnn, rows(0.5, 1.0, layers=2), [0.1] * 10, time_ratios=[1e-10] * 10)
    assert d["state"] == "vanishing" and "across time" in d["message"]
    assert d["suggestions"][0]["overrides"] == {"model": {"cell": "lstm"}}
    ok = diagnose(rnn, rows(0.5, 1.0, layers=2), [0.1] * 10, time_ratios=[1e-4] * 10)
    assert ok["state"] == "healthy"


def test_explanations_use_the_runs_numbers_and_never_repeat_the_seeds_errors():
    sig = diagnose(config("vanishing-sigmoid"), rows(1e-6, 1.0), [0.7] * 10)
    assert "at most 0.25" in sig["why"] and "0.25 per layer over 10 layers" in sig["why"]
    exp = diagnose(config("exploding-init"), rows(3e5, 3e5), [0.7] * 10)
    assert "≈ 4.0" in exp["why"] and "worse, not better" in exp["why"]
    assert exp["suggestions"][0]["overrides"] == {"remedies": {"initializer": "he_normal"}}
    texts = [sig["why"], sig["message"], exp["why"], exp["message"]] + [
        s["why"] for d in (sig, exp) for s in d["suggestions"]]
    for text in texts:
        assert "exponential average" not in text
        assert "non-negative" not in text
        assert "increase the weights" not in text and "larger initial weights to" not in text
    assert all(s["why"] for s in sig["suggestions"] + exp["suggestions"])
