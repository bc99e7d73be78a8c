"""Every preset shows its phenomenon with numbers, and its first suggestion helps (real Keras)."""

import copy
import math

import pytest

from tests.trainer_helpers import run
from trainer.contract.config import RunConfig, deep_merge
from trainer.contract.presets import PRESETS, PRESETS_BY_ID

pytestmark = pytest.mark.slow


def brief(preset_id, epochs=1, **overrides):
    config = copy.deepcopy(PRESETS_BY_ID[preset_id]["config"])
    config["training"]["epochs"] = epochs
    return run(deep_merge(config, overrides))


def ratio(step):
    return step["grad_norms"][0] / step["grad_norms"][-1]


def test_every_preset_is_a_valid_config_with_a_sentence():
    assert len(PRESETS) >= 9
    for p in PRESETS:
        RunConfig.model_validate(p["config"])
        assert p["title"] and len(p["look_for"]) > 40


def test_deep_sigmoid_vanishes_and_relu_he_fixes_it():
    sig = brief("vanishing-sigmoid")
    assert max(ratio(s) for s in sig.steps) < 1e-3
    assert sig.diagnoses[-1]["state"] == "vanishing"
    first = sig.diagnoses[-1]["suggestions"][0]
    assert first["overrides"] == {"remedies": {"activation": "relu", "initializer": "he_normal"}}
    fixed = run(deep_merge(deep_merge(PRESETS_BY_ID["vanishing-sigmoid"]["config"],
                                      {"training": {"epochs": 1}}), first["overrides"]))
    assert all(0.1 <= ratio(s) <= 10 for s in fixed.steps)
    assert fixed.diagnoses[-1]["state"] == "healthy"
    he = brief("fixed-relu-he")
    assert all(0.1 <= ratio(s) <= 10 for s in he.steps) and he.diagnoses[-1]["state"] == "healthy"


def test_batch_norm_lifts_the_sigmoid_net_out_of_vanishing():
    bn = brief("fixed-batchnorm")
    assert min(ratio(s) for s in bn.steps) > 1e-2
    assert bn.diagnoses[-1]["state"] == "healthy"


def test_residual_connections_fix_the_30_layer_net():
    plain = brief("vanishing-relu-30")
    assert plain.diagnoses[-1]["state"] == "vanishing" and ratio(plain.steps[-1]) < 1e-3
    res = brief("fixed-residual")
    assert res.diagnoses[-1]["state"] == "healthy"
    assert all(0.1 <= ratio(s) <= 10 for s in res.steps)


def test_a_deep_plain_conv_net_vanishes_and_residual_connections_fix_it():
    plain = brief("vanishing-cnn", epochs=2)
    assert plain.diagnoses[-1]["state"] == "vanishing"
    assert max(ratio(s) for s in plain.steps[-20:]) < 1e-3
    labels = [s["label"] for s in plain.diagnoses[-1]["suggestions"]]
    assert "Residual connections" in labels and "Batch normalization" in labels
    res = brief("fixed-cnn-residual", epochs=2)
    assert res.diagnoses[-1]["state"] == "healthy"
    assert all(0.05 <= ratio(s) <= 20 for s in res.steps[-20:])


def test_normal_init_explodes_and_its_first_suggestion_fixes_it():
    exp = brief("exploding-init")
    assert max(exp.steps[0]["grad_norms"]) > 1e4
    assert exp.diagnoses[-1]["state"] in ("exploding", "diverged")
    assert exp.status == "diverged"
    first = exp.diagnoses[-1]["suggestions"][0]
    assert first["overrides"]["remedies"]["initializer"] == "he_normal"
    fixed = run(deep_merge(deep_merge(PRESETS_BY_ID["exploding-init"]["config"],
                                      {"training": {"epochs": 1}}), first["overrides"]))
    assert fixed.status == "completed" and fixed.diagnoses[-1]["state"] == "healthy"


def test_clipping_bounds_every_step_and_keeps_the_run_alive():
    rec = brief("tamed-clipping")
    assert rec.status == "completed"
    assert rec.diagnoses[-1]["state"] == "exploding"  # the cause is still there
    for s in rec.steps:
        assert math.sqrt(sum(v * v for v in s["clipped_grad_norms"])) <= 1.0 + 1e-4


def test_l2_shrinks_the_final_weight_norms():
    plain = brief("fixed-relu-he", epochs=3)
    l2 = brief("l2-shrinks", epochs=3)
    assert all(a < b for a, b in zip(l2.steps[-1]["weight_norms"],
                                     plain.steps[-1]["weight_norms"]))


def test_simple_rnn_vanishes_across_time_and_the_lstm_much_less():
    rnn = brief("vanishing-rnn", epochs=4)
    lstm = brief("fixed-lstm", epochs=4)

    def late_time_ratio(rec):
        views = [s["time_grad_norms"] for s in rec.steps if "time_grad_norms" in s][-4:]
        return sorted(v[0] / v[-1] for v in views)[len(views) // 2]

    assert len(rnn.steps[0]["time_grad_norms"]) == 100
    assert late_time_ratio(rnn) < 1e-6
    assert late_time_ratio(lstm) > 1e3 * late_time_ratio(rnn)
    assert rnn.diagnoses[-1]["state"] == "vanishing"
    assert rnn.diagnoses[-1]["suggestions"][0]["overrides"] == {"model": {"cell": "lstm"}}
    assert lstm.diagnoses[-1]["state"] == "healthy"
