"""The diagnosis on real Keras training: each reference case of trainer/cases.py, shortened,
gets the state a deep-learning researcher would give it, and advice that applies.

Each test's id carries the figure measured on the full-length run (docs/diagnosis.md has the
table, `make docs` regenerates it; the old weight-gradient rule got the first eight wrong).
"""

import pytest

from tests.trainer_helpers import run
from trainer.cases import CASES
from trainer.contract.config import deep_merge

pytestmark = pytest.mark.slow

# case → (shortened training, what the full-length run measured)
SHORT = {
    "sigmoid-l2": ({"epochs": 2}, "signal 5e-7 while the weight-gradient ratio is 0.14"),
    "sigmoid-l1": ({"epochs": 2}, "signal 2e-6 while the weight-gradient ratio is 0.037"),
    "tanh-standard-init": ({"epochs": 2}, "signal 6.6e-3, gain 0.57, val accuracy 0.115"),
    "relu-batchnorm-30": ({"epochs": 2}, "signal x3e3 toward the input at step 0, val acc 0.495"),
    "normal-init-sgd": ({"epochs": 1}, "diverged at step 2, gain 4 per layer"),
    "normal-init-adam": ({"epochs": 2}, "grad norm 1e5 = 1e4 x weights, weight ratio 0.76"),
    "wide-normal-0.15": ({"epochs": 1}, "gain 2.4 per layer at std 0.15, diverged at step 3"),
    "simple-rnn": ({"epochs": 2}, "time ratio 7e-5, val MSE 0.163"),
    "lstm-untrained": ({"epochs": 2}, "time ratio 1e-5 before the gates learn"),
    "batchnorm-sigmoid-10": ({"epochs": 2}, "10 layers (not 20), gain 1.5"),
    "sigmoid-adam": ({"epochs": 2}, "signal 3e-6, yet dense_1 moves 0.1 as much as dense_10"),
    "relu-he-uniform-narrow": ({"epochs": 2}, "he_uniform is He: signal 1.2"),
    "exploding-preset": ({"epochs": 1}, "N(0, 0.5^2): gain 2 per layer, diverged at step 4"),
    "tamed-clipping": ({"epochs": 2}, "clipped at 1, raw signal x130 toward the input"),
    "vanishing-cnn": ({"epochs": 3}, "1e-4 at step 0, every conv's units dead by step 100"),
    "relu-glorot-30": ({"epochs": 2}, "signal 3e-6 = 0.65 per layer (He: 2^(-29/2))"),
    "relu-he": ({"epochs": 2}, "signal 2.7, gain 1.1"),
    "residual-30": ({"epochs": 2}, "signal 8 over 29 layers"),
    "tanh-glorot": ({"epochs": 2}, "signal 4.4, val accuracy 0.91"),
    "seed": ({"epochs": 2}, "signal 0.15 over one step"),
    "l2-he": ({"epochs": 2}, "L2 does not flip the verdict: signal 1.1"),
    # after 3 of its 10 epochs the growth toward the input is still below 10²
    "residual-cnn": ({"epochs": 3}, "from conv_2 (the first skip): 83 after 10 epochs"),
}
# trained to its end in tests/test_presets.py (the LSTM learns the adding problem)
ELSEWHERE = {"lstm"}


def test_every_case_is_checked():
    assert set(SHORT) | ELSEWHERE == set(CASES)


@pytest.mark.parametrize("name", list(SHORT), ids=[f"{k}: {v[1]}" for k, v in SHORT.items()])
def test_the_case_gets_the_right_label_and_advice_that_applies(name):
    case = CASES[name]
    training, _, *expected = SHORT[name]
    rec = run(deep_merge(case["config"], {"training": training}))
    last = rec.diagnoses[-1]
    assert last["state"] == (expected or [case["state"]])[0], (name, last["message"])
    if last["state"] in ("vanishing", "exploding", "diverged"):
        assert last["suggestions"], f"{name}: no advice"
    cell = case["config"]["model"].get("cell")
    if case["config"]["model"].get("arch") == "rnn" and cell != "simple_rnn":
        for s in last["suggestions"]:
            assert "activation" not in s["overrides"].get("remedies", {}), s
    assert "comparable pace" not in last["message"]
    assert "hundred times slower" not in last["message"]


def test_the_penalty_gradient_does_not_hide_vanishing():
    rec = run(deep_merge(CASES["sigmoid-l2"]["config"], {"training": {"epochs": 2}}))
    last = rec.diagnoses[-1]
    assert last["weight_ratio"] > 0.05 and last["ratio"] < 1e-4
    assert "penalty" in last["message"]


def test_init_explosion_is_found_from_its_scale_and_fixed_by_the_gain():
    rec = run(deep_merge(CASES["normal-init-adam"]["config"], {"training": {"epochs": 1}}))
    last = rec.diagnoses[-1]
    assert last["axis"] == "scale" and 0.2 < last["weight_ratio"] < 5
    assert last["suggestions"][0]["overrides"] == {"remedies": {"initializer": "he_normal"}}
    wide = run(CASES["wide-normal-0.15"]["config"])
    assert wide.status == "diverged"
    assert wide.diagnoses[-1]["suggestions"][0]["overrides"] == {
        "remedies": {"initializer": "he_normal"}}


def test_under_adam_the_message_shows_the_update_ratio_not_a_slow_input_side():
    rec = run(deep_merge(CASES["sigmoid-adam"]["config"], {"training": {"epochs": 2}}))
    last = rec.diagnoses[-1]
    first, last_layer = last["update_ratios"]
    assert last["ratio"] < 1e-4 and first > 1e-2 * last_layer
    assert "not a small step" in last["message"]
