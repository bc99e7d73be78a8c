"""A run's estimated peak memory bounds what it really takes, and too much is a 422 (issue 12, B2).

The attack: `{"dataset": {"n_samples": 50000, "n_features": 4096}, "model": {"width": 1024}}`
passed validation and its worker peaked at 3,958 MiB building the data. The estimate is checked
against the peak measured in a worker-like process (tests/peak_memory.py) for a spread of
configs: data-heavy, parameter-heavy, recurrent over long sequences, convolutional.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import client, run_server
from trainer.contract.config import RunConfig
from trainer.contract.footprint import DEFAULT_MAX_RUN_MEMORY_MIB, peak_memory_mib
from trainer.contract.presets import PRESETS

ROOT = Path(__file__).resolve().parent.parent
ATTACK = {"dataset": {"n_samples": 50000, "n_features": 4096}, "model": {"width": 1024}}
SPREAD = [
    {"training": {"epochs": 1}},
    {"dataset": {"n_samples": 10000, "n_features": 2048}, "training": {"epochs": 1}},
    {"dataset": {"n_samples": 4000}, "model": {"depth": 4, "width": 1024},
     "training": {"batch_size": 1024, "epochs": 1}},
    {"dataset": {"name": "adding", "n_samples": 4000, "seq_len": 200},
     "model": {"arch": "rnn", "cell": "lstm", "width": 128},
     "training": {"batch_size": 128, "epochs": 1}},
    {"dataset": {"name": "adding", "n_samples": 2000, "seq_len": 500},
     "model": {"arch": "rnn", "cell": "gru", "depth": 2, "width": 64},
     "remedies": {"layer_norm": True}, "training": {"batch_size": 64, "epochs": 1}},
    {"dataset": {"name": "digits"}, "model": {"arch": "cnn", "depth": 6, "width": 96},
     "remedies": {"batch_norm": True}, "training": {"batch_size": 128, "epochs": 1}},
]


def measured_mib(config: dict) -> float:
    out = subprocess.run([sys.executable, "-m", "tests.peak_memory", json.dumps(config)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] in ("stopped", "completed"), result
    return result["delta_mib"]


@pytest.mark.slow
@pytest.mark.parametrize("config", SPREAD, ids=lambda c: json.dumps(c, separators=(",", ":")))
def test_the_estimate_bounds_the_measured_peak(config: dict) -> None:
    estimate = peak_memory_mib(RunConfig.model_validate(config))
    measured = measured_mib(config)
    assert measured <= estimate, f"measured {measured} MiB, estimated {estimate:.0f} MiB"
    # and is not so loose that it refuses runs a worker could take
    assert estimate <= 3 * measured + 100, f"measured {measured}, estimated {estimate:.0f}"


def test_every_preset_is_well_within_the_default_limit() -> None:
    worst = max(peak_memory_mib(RunConfig.model_validate(p["config"])) for p in PRESETS)
    assert worst < DEFAULT_MAX_RUN_MEMORY_MIB / 2


@pytest.fixture(scope="module")
def url(workerless_server: str) -> str:
    return workerless_server


def test_the_attack_is_422_with_the_estimate_and_the_limit(url: str) -> None:
    with client(url) as http:
        answer = http.post("/api/runs", json=ATTACK)
        assert answer.status_code == 422, answer.text
        [error] = answer.json()["detail"]
        assert error["path"] == "dataset"
        estimate = peak_memory_mib(RunConfig.model_validate(ATTACK))
        assert f"about {estimate:,.0f} MiB" in error["msg"]
        assert f"limit of {DEFAULT_MAX_RUN_MEMORY_MIB:,} MiB" in error["msg"]


def test_the_memory_limit_is_a_setting(tmp_path: Path) -> None:
    run = {"dataset": {"n_samples": 10000, "n_features": 1000}}  # ~200 MiB
    with run_server(tmp_path, GRADWATCH_WORKERS="0",
                    GRADWATCH_MAX_RUN_MEMORY_MIB="128") as base, client(base) as http:
        answer = http.post("/api/runs", json=run)
        assert answer.status_code == 422 and "limit of 128 MiB" in answer.text
        assert http.post("/api/runs", json={"training": {"epochs": 1}}).status_code == 201
