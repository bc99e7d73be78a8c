"""GradWatchCallback: a user's own fit streams into a real server (real Keras, real sockets)."""

from __future__ import annotations

import os
import signal
import threading

import keras
import numpy as np
import pytest
import tensorflow as tf

from gradwatch import GradWatchCallback
from tests.helpers import client, wait_for
from trainer.layerpaths import probed_layers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(server_factory_module):
    return server_factory_module


@pytest.fixture(scope="module")
def server_factory_module(tmp_path_factory):
    from tests.helpers import run_server
    with run_server(tmp_path_factory.mktemp("cb"), WORKERS="0",
                    SCRIPT_IDLE_SECONDS="30") as url:
        yield url


def conv_net():
    keras.utils.set_random_seed(1)
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_1"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_2",
                            kernel_regularizer=keras.regularizers.L2(1e-3)),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, name="out")], name="my_cnn")


def attention_net():
    keras.utils.set_random_seed(2)
    tokens = keras.Input((12,), dtype="int32")
    x = keras.layers.Embedding(40, 8, name="embed")(tokens)
    x = keras.layers.LSTM(8, return_sequences=True, name="lstm")(x)
    x = keras.layers.MultiHeadAttention(2, 4, name="attention")(x, x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(tokens, keras.layers.Dense(3, name="out")(x), name="attn")


def images(n=96):
    rng = np.random.default_rng(0)
    return rng.random((n, 8, 8, 1)).astype("float32"), rng.integers(0, 10, n)


def sequences(n=96):
    rng = np.random.default_rng(1)
    return rng.integers(0, 40, (n, 12)).astype("int32"), rng.integers(0, 3, n)


def tape_norms(model, x, y):
    """Per probed layer: the norm of the loss gradient over its variables (independent tape)."""
    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
    variables = model.trainable_variables
    grads = dict(zip((id(v) for v in variables), tape.gradient(loss, variables)))
    out = []
    for _, layer in probed_layers(model):
        total = 0.0
        for v in layer.trainable_weights:
            g = tf.convert_to_tensor(grads[id(v)])
            total += float(tf.reduce_sum(tf.square(tf.cast(g, tf.float64))))
        out.append(total ** 0.5)
    return out


def history(url, run_id):
    with client(url) as http:
        return http.get(f"/api/runs/{run_id}/metrics").json()


@pytest.mark.parametrize("build, data, names", [
    (conv_net, images, ["conv_1", "bn", "conv_2", "out"]),
    (attention_net, sequences, ["embed", "lstm", "attention", "out"]),
])
def test_step_0_norms_on_the_server_equal_an_independent_tape(server, build, data, names):
    model = build()
    x, y = data()
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model(x[:1])
    expected = tape_norms(model, x[:32], y[:32])
    callback = GradWatchCallback(server, name=f"test {model.name}", fail_silently=False)
    model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0, callbacks=[callback])
    run_id = callback.run["id"]
    with client(server) as http:
        run = http.get(f"/api/runs/{run_id}").json()
    assert run["status"] == "completed" and run["source"] == "script"
    assert [layer["name"] for layer in run["layers"]] == names
    assert sum(layer["params"] for layer in run["layers"]) == model.count_params() - sum(
        int(np.prod(w.shape)) for w in model.non_trainable_weights)
    stored = history(server, run_id)
    assert stored["step"] == list(range(6))  # 3 batches × 2 epochs, every step
    np.testing.assert_allclose(stored["grad_norms"][0], expected, rtol=1e-5)
    assert all(v is not None for v in stored["clipped_grad_norms"][0])
    # The model is as it was: its own train step, usable without the callback.
    assert "train_step" not in model.__dict__
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)


def test_steps_per_execution_keeps_every_step_and_every_k_records_every_kth(server):
    model = conv_net()
    x, y = images(160)
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True), steps_per_execution=4)
    cb = GradWatchCallback(server, every=3)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[cb])
    assert history(server, cb.run["id"])["step"] == list(range(0, 20, 3))


def test_a_custom_train_step_gets_a_sentence_saying_how_to_call_the_probe(server):
    class Custom(keras.Model):
        def train_step(self, data):
            return super().train_step(data)

    inputs = keras.Input((4,))
    model = Custom(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="ProbedModel.train_step"):
        model.fit(np.zeros((8, 4)), np.zeros((8, 1)), verbose=0,
                  callbacks=[GradWatchCallback(server)])


def test_an_unreachable_server_warns_once_and_training_goes_on():
    model = conv_net()
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    x, y = images(32)
    with pytest.warns(UserWarning, match="unreachable") as caught:
        history = model.fit(x, y, epochs=2, verbose=0,
                            callbacks=[GradWatchCallback("http://127.0.0.1:9")])
    ours = [w for w in caught if "GradWatch" in str(w.message)]
    assert len(ours) == 1 and len(history.history["loss"]) == 2
    with pytest.raises(Exception, match="unreachable"):
        model.fit(x, y, verbose=0, callbacks=[
            GradWatchCallback("http://127.0.0.1:9", fail_silently=False)])


def test_stop_on_the_server_stops_fit_and_an_interrupt_ends_the_run_stopped(server):
    model = conv_net()
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    x, y = images(64)
    cb = GradWatchCallback(server)
    owner = {}

    class StopFromPage(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:  # the owner presses Stop (same identity: the script's cookie)
                link = cb._sender.link
                owner["answer"] = link.post(f"/api/runs/{cb.run['id']}/stop", {})

    done = model.fit(x, y, batch_size=16, epochs=200, verbose=0, callbacks=[cb, StopFromPage()])
    assert owner["answer"][0] == 202
    assert len(done.history["loss"]) < 10
    with client(server) as http:
        run = http.get(f"/api/runs/{cb.run['id']}").json()
    assert run["status"] == "stopped" and run["error"] == "stopped by its owner"

    # Ctrl-C in the terminal or the notebook: a real SIGINT while fit runs.
    cb2 = GradWatchCallback(server)

    class InterruptSoon(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()

    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=16, epochs=10_000, verbose=0,
                  callbacks=[cb2, InterruptSoon()])
    run = wait_for(lambda: (lambda r: r if r["status"] != "running" else None)(
        client(server).get(f"/api/runs/{cb2.run['id']}").json()), timeout=20)
    assert run["status"] == "stopped" and "KeyboardInterrupt" in run["error"]
