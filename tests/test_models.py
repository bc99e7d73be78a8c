"""The Keras model builder: shapes, remedies and the TF-free parameter count agree."""

import keras
import pytest

from trainer.contract.config import RunConfig, trainable_params
from trainer.datasets import make_dataset
from trainer.models import build_model, describe_layers, prepare

pytestmark = pytest.mark.slow

CASES = [
    {},
    {"model": {"depth": 4, "width": 16}, "remedies": {"batch_norm": True, "layer_norm": True}},
    {"model": {"depth": 5, "width": 8}, "remedies": {"residual": True, "regularizer": "l1_l2",
                                                       "l1": 0.01, "l2": 0.01}},
    {"dataset": {"name": "digits"}, "model": {"depth": 2, "width": 32}},
    {"dataset": {"name": "moons"}, "remedies": {"activation": "leaky_relu"}},
    {"dataset": {"name": "digits"}, "model": {"arch": "cnn", "depth": 3, "width": 8}},
    {"dataset": {"name": "digits"}, "model": {"arch": "cnn", "depth": 2, "width": 4},
     "remedies": {"batch_norm": True, "layer_norm": True, "residual": True,
                  "regularizer": "l1_l2", "l1": 0.01, "l2": 0.01}},
    *({"dataset": {"name": "adding", "seq_len": 12},
       "model": {"arch": "rnn", "cell": cell, "depth": 2, "width": 8},
       "remedies": {"layer_norm": True, "initializer": "orthogonal"}}
      for cell in ("simple_rnn", "lstm", "gru")),
]


@pytest.mark.parametrize("body", CASES)
def test_parameter_count_without_tensorflow_matches_keras(body):
    config = RunConfig.model_validate(body)
    model = build_model(config)
    keras_count = sum(int(w.numpy().size) for w in model.trainable_weights)
    assert trainable_params(config) == keras_count
    assert sum(layer["params"] for layer in describe_layers(model)) == keras_count


def test_layers_are_listed_input_side_first_with_their_kinds():
    config = RunConfig.model_validate({"model": {"depth": 2, "width": 8},
                                       "remedies": {"batch_norm": True}})
    layers = describe_layers(build_model(config))
    assert [(l["name"], l["kind"]) for l in layers] == [
        ("dense_1", "Dense"), ("batch_norm_1", "BatchNormalization"),
        ("dense_2", "Dense"), ("batch_norm_2", "BatchNormalization"), ("output", "Dense")]


def test_each_layer_gets_its_own_initial_weights():
    config = RunConfig.model_validate({"model": {"depth": 3, "width": 8},
                                       "dataset": {"n_features": 8}})
    model = build_model(config)
    kernels = [model.get_layer(f"dense_{i}").kernel.numpy() for i in (2, 3)]
    assert (kernels[0] != kernels[1]).any()


def test_remedies_reach_keras():
    config = RunConfig.model_validate({
        "model": {"depth": 2, "width": 8},
        "remedies": {"initializer": "random_normal", "init_std": 0.3, "regularizer": "l2",
                     "l2": 0.05, "clipping": "value", "clip_value": 0.7},
        "training": {"optimizer": "momentum", "learning_rate": 0.02}})
    model = build_model(config)
    dense = model.get_layer("dense_1")
    assert isinstance(dense.kernel_initializer.current(), keras.initializers.RandomNormal)
    assert dense.kernel_initializer.current().stddev == pytest.approx(0.3)
    # The factors and the threshold the traced graph reads (variables, for a cached model).
    assert dense.kernel_regularizer.kinds == ("l2",)
    assert float(dense.kernel_regularizer.hyper.l2.numpy()) == pytest.approx(0.05)
    opt = model.optimizer
    assert isinstance(opt, keras.optimizers.SGD) and opt.momentum == pytest.approx(0.9)
    assert opt.clipvalue == pytest.approx(0.7)
    assert float(opt.learning_rate.numpy()) == pytest.approx(0.02)
    # A cached model takes the next run's.
    nxt = config.model_copy(update={
        "remedies": config.remedies.model_copy(update={"initializer": "he_uniform", "l2": 0.5}),
        "training": config.training.model_copy(update={"learning_rate": 0.3})})
    prepare(model, nxt)
    assert isinstance(dense.kernel_initializer.current(), keras.initializers.HeUniform)
    assert float(dense.kernel_regularizer.hyper.l2.numpy()) == pytest.approx(0.5)
    assert float(opt.learning_rate.numpy()) == pytest.approx(0.3)


@pytest.mark.parametrize("name, shape, task", [
    ("random", (800, 100), "binary"), ("spirals", (800, 2), "binary"),
    ("xor", (800, 2), "binary"), ("circles", (800, 2), "binary"),
    ("moons", (800, 2), "binary"), ("digits", (800, 64), "multiclass")])
def test_datasets_have_the_advertised_shapes(name, shape, task):
    data = make_dataset(RunConfig.model_validate({"dataset": {"name": name}}))
    assert data.x_train.shape == shape and data.x_val.shape[0] == 200
    assert data.task == task


def test_adding_problem_target_is_the_sum_of_the_two_marked_values():
    config = RunConfig.model_validate({"dataset": {"name": "adding", "seq_len": 20},
                                       "model": {"arch": "rnn"}})
    data = make_dataset(config)
    x, y = data.x_train, data.y_train
    assert x.shape == (800, 20, 2)
    assert (x[:, :, 1].sum(axis=1) == 2).all()
    sums = (x[:, :, 0] * x[:, :, 1]).sum(axis=1)
    assert abs(sums - y[:, 0]).max() < 1e-5


def test_a_cnn_is_depth_3x3_convolutions_then_pooling_and_the_output_over_8x8_images():
    config = RunConfig.model_validate({
        "dataset": {"name": "digits"}, "model": {"arch": "cnn", "depth": 3, "width": 6},
        "remedies": {"batch_norm": True, "residual": True, "initializer": "he_normal",
                     "activation": "tanh", "clipping": "norm"}})
    model = build_model(config)
    assert model.input_shape == (None, 8, 8, 1)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.kernel_size for c in convs] == [(3, 3)] * 3 and {c.filters for c in convs} == {6}
    assert all(isinstance(c.kernel_initializer.current(), keras.initializers.HeNormal)
               for c in convs)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Add") == 2  # the first convolution changes the channels: no skip
    assert kinds.count("BatchNormalization") == 3 and "GlobalAveragePooling2D" in kinds
    assert model.get_layer("activation_1").activation.__name__ == "tanh"
    assert model.optimizer.clipnorm == 1.0
    data = make_dataset(config)
    assert data.x_train.shape == (800, 8, 8, 1)
