"""Each published result has a preset pair that reproduces it, trained here with real Keras
(issue 19). Figures measured 2026-12-07 (docs/remedies.md has the table, `make docs`); the
tolerances are a factor of 3 on ratios, 0.05 on per-layer gains, unless a test says otherwise.
"""

import math

import pytest

from tests.trainer_helpers import run
from trainer.contract.presets import PRESETS_BY_ID

pytestmark = pytest.mark.slow


def preset(pid):
    return run(PRESETS_BY_ID[pid]["config"])


def test_saxe_orthogonal_linear_layers_keep_the_gain_at_one():
    # measured: orthogonal gain 1.010, Gaussian 0.993 per layer, both healthy
    for pid in ("saxe-orthogonal", "saxe-gaussian"):
        last = preset(pid).diagnoses[-1]
        assert last["state"] == "healthy" and abs(last["gain"] - 1.0) < 0.05, (pid, last)


def test_selu_needs_lecun_normal():
    # measured: LeCun gain 1.03 (healthy); He starts exploding toward the input (×10³ at
    # initialization) and has recovered to ×6.6 after 3 epochs
    lecun = preset("selu-lecun").diagnoses[-1]
    assert lecun["state"] == "healthy" and abs(lecun["gain"] - 1.0) < 0.1
    he = preset("selu-he").diagnoses[-1]
    assert he["initial"]["state"] == "exploding" and he["initial"]["ratio"] > 1e2
    assert "At initialization (step 0) it was exploding" in he["message"]
    assert lecun["initial"]["state"] == "healthy"
    assert he["initial"]["ratio"] > 10 * lecun["initial"]["ratio"]


def test_pascanu_exploding_across_time_clipping_bounds_the_step_not_the_cause():
    # measured: ρ = 3 time ratio 2.9e14, clipped 3.4e13 (every clipped norm ≤ 1), ρ = 1 1.1e-5
    rho3 = preset("pascanu-rho3").diagnoses[-1]
    assert rho3["state"] == "exploding" and rho3["axis"] == "time"
    assert rho3["time_ratio"] > 1e6 and "across time" in rho3["message"]
    labels = [s["label"] for s in rho3["suggestions"]]
    assert labels[0].startswith("Orthogonal recurrent weights at gain 1")
    clipped = preset("pascanu-rho3-clipped")
    assert clipped.diagnoses[-1]["state"] == "exploding"
    assert clipped.diagnoses[-1]["axis"] == "time"
    for step in clipped.steps:
        assert math.sqrt(sum(v * v for v in step["clipped_grad_norms"])) <= 1.0 + 1e-4
    assert "leaves the growth across time" in clipped.diagnoses[-1]["why"]
    rho1 = preset("pascanu-rho1")
    assert rho1.diagnoses[-1]["state"] != "exploding"
    started = [e for e in rho1.events if e["type"] == "started"][0]
    assert abs(started["layers"][0]["spectral_radius"] - 1.0) < 1e-3


def test_he_2016_identity_skips_carry_the_signal_the_plain_net_loses():
    # measured: plain 2.5e-6 (0.64 per layer), identity skips: see docs/remedies.md
    plain = preset("he2016-plain").diagnoses[-1]
    assert plain["state"] == "vanishing" and plain["ratio"] < 1e-4
    identity = preset("he2016-identity")
    assert identity.status == "completed"
    assert identity.diagnoses[-1]["state"] != "vanishing"
    assert identity.diagnoses[-1]["ratio"] > 1e3 * plain["ratio"]


def test_a_large_step_kills_the_relu_units_for_every_seed_and_a_tenth_of_it_trains():
    # measured: Adam 0.3 leaves 72–100 % of each layer's units dead (seeds 0–2), val acc ≤ 0.53;
    # Adam 0.03: 41–81 % dead, yet the signal flows and val acc 0.725
    for seed in (0, 1):
        rec = run({**PRESETS_BY_ID["dying-relu"]["config"], "seed": seed})
        last = rec.diagnoses[-1]
        assert last["state"] == "dead", (seed, last["message"])
        assert last["suggestions"][0]["overrides"] == {"training": {"learning_rate": 0.03}}
    fixed = preset("dying-relu-fixed")
    assert fixed.diagnoses[-1]["state"] != "dead"
    epochs = [e for e in fixed.events if e["type"] == "epoch"]
    assert epochs[-1]["val_accuracy"] > 0.65
