"""A worker's cached, traced models: a warm run is bit-for-bit the run a cold worker does."""

import json

import pytest

from tests.trainer_helpers import run
from trainer import modelcache
from trainer.contract.config import RunConfig
from trainer.contract.presets import PRESETS
from trainer.models import graph_key

pytestmark = pytest.mark.slow


@pytest.fixture
def cache():
    """This process's cache switched on for the test, its counts from zero (off again after:
    other tests build)."""
    modelcache.CACHE.hits = modelcache.CACHE.misses = modelcache.CACHE.evictions = 0
    modelcache.configure(4, 1024)
    yield modelcache.CACHE
    modelcache.configure(0, 0)
    modelcache.CACHE.hits = modelcache.CACHE.misses = modelcache.CACHE.evictions = 0


def _small(config):
    """The preset's graph on less data: two short epochs, the last batch of each partial."""
    return {**config, "dataset": {**config["dataset"], "n_samples": 230},
            "training": {**config["training"], "epochs": 2}}


def _neighbour(config):
    """Another student's run of the same graph: every field a run may change, changed (the
    clip value is part of the graph)."""
    r, t = config["remedies"], config["training"]
    initializer = "glorot_normal" if r["initializer"] != "glorot_normal" else "he_uniform"
    return {**config, "seed": config["seed"] + 11,
            "remedies": {**r, "initializer": initializer, "init_std": r["init_std"] * 2,
                         "l1": r["l1"] + 1e-3,
                         "l2": r["l2"] * 5 + 1e-3},
            "training": {**t, "learning_rate": t["learning_rate"] / 3}}


def _history(recorded):
    """Every step's figures and every epoch's, as exact text (float repr round-trips; NaN
    equals NaN), without the wall-clock times."""
    steps = [{k: v for k, v in s.items() if k != "t"} for s in recorded.steps]
    epochs = [e for e in recorded.events if e["type"] == "epoch"]
    return json.dumps({"steps": steps, "epochs": epochs, "status": recorded.status})


# `make test` covers each kind of graph once (plain, batch norm, clipping, L1/L2, orthogonal
# init, conv, recurrent, recurrent with clipping); `make test-extended` every other preset.
CORE = {"seed", "fixed-batchnorm", "tamed-clipping", "l2-shrinks", "saxe-orthogonal",
        "vanishing-cnn", "vanishing-rnn", "pascanu-rho3-clipped"}


@pytest.mark.parametrize("preset", [
    pytest.param(p, marks=() if p["id"] in CORE else pytest.mark.extended, id=p["id"])
    for p in PRESETS])
def test_a_warm_run_is_bit_for_bit_the_cold_run(preset, cache):
    config = _small(preset["config"])
    neighbour = _neighbour(config)
    assert graph_key(RunConfig.model_validate(config)) == graph_key(
        RunConfig.model_validate(neighbour))
    modelcache.configure(0, 0)
    cold = _history(run(config))            # a worker that never saw this graph
    modelcache.configure(4, 1024)
    other = _history(run(neighbour))        # traces it, and leaves it in the cache
    assert cache.stats()["misses"] == 1 and cache.stats()["models"] == 1
    warm = run(config)                      # trains the neighbour's model, re-initialized
    assert cache.stats()["hits"] == 1
    assert warm.status == json.loads(cold)["status"]
    assert _history(warm) == cold
    assert other != cold  # the neighbour's changes really change the run


def test_graph_key_keeps_what_changes_the_graph_and_drops_what_a_run_sets():
    base = RunConfig.model_validate({})
    same = base.model_copy(update={"seed": 5, "name": "x"})
    assert graph_key(same) == graph_key(base)
    for section, field, value in [("model", "depth", 3), ("model", "width", 8),
                                  ("remedies", "activation", "tanh"),
                                  ("remedies", "batch_norm", True),
                                  ("remedies", "clipping", "norm"),
                                  ("remedies", "clip_value", 2.0),
                                  ("remedies", "regularizer", "l2"),
                                  ("training", "optimizer", "sgd"),
                                  ("training", "batch_size", 64),
                                  ("dataset", "n_features", 10)]:
        changed = base.model_copy(update={section: getattr(base, section).model_copy(
            update={field: value})})
        assert graph_key(changed) != graph_key(base), field


class _Var:
    def __init__(self, size):
        self.size = size

    def numpy(self):
        import numpy as np
        return np.zeros(self.size)


class _Model:
    def __init__(self, params):
        self.variables = [_Var(params)]
        self.layers = [object()] * 4
        self.optimizer = type("Optimizer", (), {"variables": [_Var(params)]})()


def test_the_cache_keeps_the_most_recently_used_within_its_count_and_memory():
    cache = modelcache.ModelCache(count=2, mib=1000)
    for key in "abc":
        cache.give_back(key, _Model(10))
    assert list(cache.entries) == ["b", "c"] and cache.evictions == 1
    assert cache.take("b") is not None and cache.take("b") is None  # taken while it trains
    assert (cache.hits, cache.misses) == (1, 1)
    big = modelcache.ModelCache(count=10, mib=40)
    for key in "abc":  # 22 MiB each: 4 B per weight and per optimizer slot, plus graphs
        big.give_back(key, _Model(2**20 * 2))
    assert list(big.entries) == ["c"] and big.used_mib <= 40
    off = modelcache.ModelCache()
    off.give_back("a", _Model(1))
    assert off.take("a") is None and not off.entries


@pytest.mark.parametrize("preset", ["vanishing-rnn", "fixed-lstm", "fixed-batchnorm",
                                    "fixed-cnn-residual"])
def test_prepare_sets_every_variable_as_a_fresh_build_does(preset):
    import keras
    import numpy as np

    from trainer.contract.presets import PRESETS_BY_ID
    from trainer.models import build_model, prepare

    config = RunConfig.model_validate(_small(PRESETS_BY_ID[preset]["config"]))
    neighbour = RunConfig.model_validate(_neighbour(config.model_dump()))
    fresh = build_model(config)
    expected = [v.numpy() for v in fresh.variables + fresh.optimizer.variables]
    keras.backend.clear_session()
    reused = build_model(neighbour)
    before = [v.numpy() for v in reused.variables]
    prepare(reused, config)
    got = [v.numpy() for v in reused.variables + reused.optimizer.variables]
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(before, got))
    keras.backend.clear_session()
