"""RunConfig: defaults, limits, error sentences, derived figures (no TensorFlow needed)."""

import pytest
from pydantic import ValidationError

from trainer.contract.config import (
    RunConfig,
    deep_merge,
    input_shape,
    steps_per_epoch,
    total_steps,
    trainable_params,
)
from trainer.contract.configerrors import explain_errors


def errors_of(body):
    with pytest.raises(ValidationError) as info:
        RunConfig.model_validate(body)
    return explain_errors(info.value)


def test_defaults_reproduce_the_seed_example():
    c = RunConfig()
    assert (c.dataset.name, c.dataset.n_samples, c.dataset.n_features) == ("random", 1000, 100)
    assert (c.model.arch, c.model.depth, c.model.width) == ("mlp", 1, 64)
    assert (c.remedies.activation, c.training.optimizer, c.training.batch_size) == (
        "relu", "adam", 32)
    # Dense(64, input_dim=100) + Dense(1): 100*64+64 + 64+1
    assert trainable_params(c) == 6529
    assert steps_per_epoch(c) == 25 and total_steps(c) == 500


def test_unknown_field_names_the_path_and_the_allowed_fields():
    [err] = errors_of({"remedy": {"batch_norm": True}})
    assert err["path"] == "remedy"
    assert "unknown field 'remedy'" in err["msg"] and "remedies" in err["msg"]
    [err] = errors_of({"remedies": {"batchnorm": True}})
    assert err["path"] == "remedies.batchnorm" and "batch_norm" in err["msg"]


@pytest.mark.parametrize("body, path", [
    ({"model": {"depth": 65}}, "model.depth"),
    ({"model": {"depth": 0}}, "model.depth"),
    ({"model": {"width": 1025}}, "model.width"),
    ({"dataset": {"n_samples": 15}}, "dataset.n_samples"),
    ({"dataset": {"seq_len": 501}}, "dataset.seq_len"),
    ({"training": {"epochs": 501}}, "training.epochs"),
    ({"training": {"batch_size": 4097}}, "training.batch_size"),
    ({"training": {"learning_rate": 0}}, "training.learning_rate"),
    ({"training": {"epochs": "5"}}, "training.epochs"),
    ({"remedies": {"batch_norm": "yes"}}, "remedies.batch_norm"),
    ({"remedies": {"activation": "softsign"}}, "remedies.activation"),
    ({"model": []}, "model"),
])
def test_out_of_range_and_wrong_types_are_refused_with_the_path(body, path):
    errs = errors_of(body)
    assert [e["path"] for e in errs] == [path]
    assert errs[0]["msg"].startswith(path + ": ")


def test_combinations_that_cannot_work_are_refused():
    [err] = errors_of({"dataset": {"name": "adding"}})
    assert err["path"] == "model.arch" and "needs model.arch 'rnn'" in err["msg"]
    [err] = errors_of({"model": {"arch": "rnn"}})
    assert err["path"] == "dataset.name" and "sequence dataset" in err["msg"]
    [err] = errors_of({"model": {"depth": 64, "width": 1024}})
    assert err["path"] == "model"
    assert "trainable parameters" in err["msg"] and "5,000,000" in err["msg"]


def test_deep_merge_keeps_siblings():
    base = RunConfig().model_dump()
    merged = deep_merge(base, {"remedies": {"batch_norm": True}})
    assert merged["remedies"]["batch_norm"] is True
    assert merged["remedies"]["activation"] == "relu"
    assert base["remedies"]["batch_norm"] is False


def test_mlp_only_remedies_are_refused_for_rnns():
    base = {"dataset": {"name": "adding"}, "model": {"arch": "rnn"}}
    [err] = errors_of({**base, "remedies": {"batch_norm": True}})
    assert err["path"] == "remedies.batch_norm" and "layer_norm" in err["msg"]
    [err] = errors_of({**base, "remedies": {"residual": True}})
    assert err["path"] == "remedies.residual" and "mlp and cnn architectures only" in err["msg"]


def test_a_cnn_needs_the_image_dataset_and_counts_its_convolutions():
    [err] = errors_of({"model": {"arch": "cnn"}})
    assert err["path"] == "dataset.name" and "needs an image dataset" in err["msg"]
    c = RunConfig.model_validate({"dataset": {"name": "digits"},
                                  "model": {"arch": "cnn", "depth": 2, "width": 4}})
    # conv 3·3·1·4 + 4, conv 3·3·4·4 + 4, output 4·10 + 10
    assert input_shape(c) == (8, 8, 1) and trainable_params(c) == 40 + 148 + 50


def test_recurrent_settings_belong_to_rnns_and_a_gain_is_positive():
    import pytest as _pytest
    from pydantic import ValidationError

    from trainer.contract.config import RunConfig
    rnn = {"dataset": {"name": "adding"}, "model": {"arch": "rnn"}}
    assert RunConfig.model_validate({**rnn, "remedies": {"recurrent_gain": 3.0}}) \
        .remedies.recurrent_gain == 3.0
    for remedies in ({"recurrent_gain": 2.0}, {"recurrent_initializer": "he_normal"}):
        with _pytest.raises(ValidationError, match="applies to the rnn architecture only"):
            RunConfig.model_validate({"remedies": remedies})
    with _pytest.raises(ValidationError):
        RunConfig.model_validate({**rnn, "remedies": {"recurrent_gain": -1.0}})
    assert RunConfig.model_validate({"model": {"residual_scale": "none"}}) \
        .model.residual_scale == "none"
