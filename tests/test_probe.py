"""The probe reports the gradients the optimizer really applied (real Keras training)."""

import gc
import math
import threading

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.trainer_helpers import deep, run
from trainer import loop
from trainer.contract.config import RunConfig, steps_per_epoch
from trainer.datasets import make_dataset
from trainer.models import build_model
from trainer.recorder import StepRecorder

pytestmark = pytest.mark.slow


def _small_mlp(depth: int, epochs: int, batch: int, n_samples: int,
               **remedies: object) -> tuple[RunConfig, tf.data.Dataset, int]:
    """A small MLP's config (8 features, width 16), its batches in a fixed order, and its
    steps per epoch."""
    cfg = RunConfig.model_validate({"dataset": {"n_samples": n_samples, "n_features": 8},
                                    "model": {"depth": depth, "width": 16},
                                    "remedies": remedies,
                                    "training": {"epochs": epochs, "batch_size": batch}})
    data = make_dataset(cfg)
    batches = tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train)).batch(batch)
    return cfg, batches, steps_per_epoch(cfg)


def test_seed_example_streams_every_step_with_two_layer_norms():
    rec = run({"training": {"epochs": 2}})
    assert rec.status == "completed"
    assert [s["step"] for s in rec.steps] == list(range(50))
    assert [s["epoch"] for s in rec.steps] == [0] * 25 + [1] * 25
    assert [l["name"] for l in rec.started["layers"]] == ["dense_1", "output"]
    assert [l["params"] for l in rec.started["layers"]] == [6464, 65]
    for s in rec.steps:
        for key in ("grad_norms", "weight_norms", "update_ratios", "output_grad_norms"):
            assert len(s[key]) == 2 and all(v > 0 and math.isfinite(v) for v in s[key])
        assert "clipped_grad_norms" not in s
    assert rec.steps[0]["t"] <= rec.steps[-1]["t"]


def test_step_zero_norms_equal_an_independent_gradient_at_the_initial_weights():
    # One full batch and no shuffling effect: step 0's gradient is the full-data gradient at
    # the initial weights, which a separate tape must reproduce.
    config = {"dataset": {"n_samples": 100, "n_features": 8}, "model": {"depth": 3, "width": 16},
              "training": {"epochs": 1, "batch_size": 4096, "optimizer": "sgd"}}
    rec = run(config)
    cfg = RunConfig.model_validate(config)
    data = make_dataset(cfg)
    model = build_model(cfg)
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=data.x_train, y=data.y_train, y_pred=model(data.x_train))
    grads = tape.gradient(loss, model.trainable_variables)
    per_layer = {}
    for v, g in zip(model.trainable_variables, grads):
        layer = v.path.split("/")[0]
        per_layer[layer] = per_layer.get(layer, 0.0) + float(tf.reduce_sum(g * g))
    expected = [math.sqrt(per_layer[l["name"]]) for l in rec.started["layers"]]
    np.testing.assert_allclose(rec.steps[0]["grad_norms"], expected, rtol=1e-4)
    assert rec.steps[0]["loss"] == pytest.approx(float(loss), rel=1e-5)


def test_ten_sigmoid_layers_vanish_and_relu_he_does_not():
    sig = run(deep("sigmoid", "glorot_uniform"))
    ratios = [s["grad_norms"][0] / s["grad_norms"][-1] for s in sig.steps]
    assert max(ratios) < 1e-3
    relu = run(deep("relu", "he_normal"))
    ratios = [s["grad_norms"][0] / s["grad_norms"][-1] for s in relu.steps]
    assert all(0.1 < r < 10 for r in ratios), ratios


def test_global_norm_clipping_bounds_the_applied_gradient():
    rec = run(deep("relu", "random_normal", remedies={
        "init_std": 1.0, "clipping": "global_norm", "clip_value": 1.0}))
    assert rec.status == "completed"
    for s in rec.steps:
        raw = math.sqrt(sum(v * v for v in s["grad_norms"]))
        clipped = math.sqrt(sum(v * v for v in s["clipped_grad_norms"]))
        assert clipped <= 1.0 + 1e-4
        assert raw > 1.0  # the gradients really were larger: clipping did something


def test_sgd_update_equals_learning_rate_times_clipped_gradient():
    # ‖Δw‖ = lr · ‖clipped g‖ for plain SGD: the probe's clipped norm is what was applied.
    lr = 0.01
    rec = run(deep("relu", "random_normal", depth=3, remedies={
        "init_std": 1.0, "clipping": "norm", "clip_value": 0.5}))
    prev_weights = None
    for s in rec.steps[:5]:
        if prev_weights is not None:
            delta = [r * w for r, w in zip(s["update_ratios"], prev_weights)]
            np.testing.assert_allclose(delta, [lr * c for c in s["clipped_grad_norms"]],
                                       rtol=2e-3)
        prev_weights = s["weight_norms"]


def test_stop_ends_the_run_within_one_step():
    calls = []

    def should_stop():
        calls.append(1)
        return "stopped by its owner" if len(calls) >= 3 else None

    rec = run({"training": {"epochs": 5}}, should_stop)
    assert rec.status == "stopped" and rec.finished["error"] == "stopped by its owner"
    assert len(rec.steps) == 3


def test_wall_time_limit_stops_the_run():
    rec = run({"training": {"epochs": 500}}, max_seconds=1.0)
    assert rec.status == "stopped" and "wall-time limit of 1 s" in rec.finished["error"]
    assert 0 < len(rec.steps) < 500 * 25


def test_nan_ends_the_run_diverged_keeping_the_history_up_to_there():
    rec = run(deep("relu", "random_normal", remedies={"init_std": 1.0},
                   training={"learning_rate": 1.0}))
    assert rec.status == "diverged"
    assert "NaN or infinite at step" in rec.finished["error"]
    last = rec.steps[-1]
    assert not all(math.isfinite(v) for v in [last["loss"], *last["grad_norms"]])
    assert all(math.isfinite(v) for s in rec.steps[:-1] for v in s["grad_norms"])
    assert rec.diagnoses[-1]["state"] == "diverged"


def test_a_broken_config_fails_with_the_error_instead_of_raising():
    rec = run({"model": {"depth": "deep"}})
    assert rec.status == "failed" and "model.depth" in rec.finished["error"]


def test_batches_are_reshuffled_every_epoch_and_reproducible_by_seed():
    # With a negligible learning rate the weights stay put, so equal losses at step i and
    # i + steps_per_epoch would mean the same batch order in both epochs.
    config = {"training": {"epochs": 2, "optimizer": "sgd", "learning_rate": 1e-9}}
    first, again = run(config), run(config)
    epoch0 = [s["loss"] for s in first.steps[:25]]
    epoch1 = [s["loss"] for s in first.steps[25:]]
    assert sum(abs(a - b) > 1e-6 for a, b in zip(epoch0, epoch1)) > 20
    assert [s["loss"] for s in again.steps] == [s["loss"] for s in first.steps]


def test_the_chunked_loop_trains_exactly_as_keras_fit_with_one_traced_step_per_call():
    # The loop runs the first step eagerly and the rest several at a time inside one traced
    # function; every step must be recorded and train exactly as Keras's own fit does.
    cfg, batches, per_epoch = _small_mlp(3, epochs=3, batch=32, n_samples=400)

    ours = build_model(cfg)
    rows: list[np.ndarray] = []
    epochs: list[dict] = []
    recorder = StepRecorder(cfg, ours.probe_layout, epochs.append, lambda: None, 1e18, 1e18)
    recorder.record = lambda chunk, times: rows.append(chunk)
    sizes = []
    chunk = ours.make_chunk_function()

    def counting(iterator, n):
        sizes.append(int(n))
        return chunk(iterator, n)

    ours.make_chunk_function = lambda: counting
    loop.fit(ours, batches, 3, per_epoch, recorder)

    keras_own = build_model(cfg)
    probes = []
    logger = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: probes.append(np.array(logs["_probe"])))
    history = keras_own.fit(batches, epochs=3, verbose=0, callbacks=[logger], shuffle=False)

    assert max(sizes) > 1, sizes  # steps really ran several to a call
    assert chunk.experimental_get_tracing_count() == 1  # traced once: not per epoch or size
    np.testing.assert_allclose(np.concatenate(rows), np.stack(probes), rtol=1e-4, atol=1e-7)
    for a, b in zip(ours.trainable_weights, keras_own.trainable_weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6)
    epochs = [e for e in epochs if e["type"] == "epoch"]
    for name in ("loss", "accuracy"):  # the epoch's running means, as Keras reports them
        np.testing.assert_allclose([e[name] for e in epochs], history.history[name], rtol=1e-5)


def test_steps_flow_eagerly_while_the_chunk_function_traces_and_the_switch_changes_no_figure():
    # Issue 16: a run whose chunk function is not traced yet keeps stepping eagerly while it
    # traces in the background. Here the trace is held back for EAGER steps; every figure and
    # the final weights must be bit for bit those of a run whose function was traced before.
    cfg, batches, per_epoch = _small_mlp(4, epochs=2, batch=16, n_samples=400, batch_norm=True)
    eager = 12

    def train(held: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
        model = build_model(cfg)
        if not held:  # traced before training: every step after step 0 runs in chunks
            model.make_chunk_function()(iter(batches), tf.constant(0, tf.int32))
            model.mark_chunk_traced()
        rows: list[np.ndarray] = []
        hold = threading.Event()
        recorder = StepRecorder(cfg, model.probe_layout, lambda event: None, lambda: None,
                                1e18, 1e18)

        def record(chunk, times):
            rows.append(chunk)
            if len(rows) > eager:
                hold.set()

        recorder.record = record
        loop.fit(model, batches, 2, per_epoch, recorder, on_trace=lambda: hold)
        assert model.chunk_traced()
        return rows, [w.numpy() for w in model.trainable_weights]

    held_rows, held_weights = train(True)
    rows, weights = train(False)
    assert [len(r) for r in held_rows[:eager + 1]] == [1] * (eager + 1)  # eager, one by one
    assert max(len(r) for r in held_rows) > 1  # then chunks
    # The same steps, however the loop sized its chunks (that depends on the machine's load).
    assert sum(map(len, rows)) == sum(map(len, held_rows)) == 2 * per_epoch
    assert np.array_equal(np.concatenate(held_rows), np.concatenate(rows), equal_nan=True)
    assert all(np.array_equal(a, b) for a, b in zip(held_weights, weights))


def test_a_chunk_stops_at_the_end_of_the_data_and_after_a_non_finite_step():
    cfg = RunConfig.model_validate({"dataset": {"n_samples": 100, "n_features": 8},
                                    "training": {"batch_size": 32}})
    data = make_dataset(cfg)
    model = build_model(cfg)
    batches = tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train)).batch(32)
    iterator = iter(batches)
    model.train_step(next(iterator))  # as the loop does: the first step eagerly
    chunk = model.make_chunk_function()
    rows, times = chunk(iterator, tf.constant(10))
    per_epoch = steps_per_epoch(cfg)
    assert rows.shape == (per_epoch - 1, model.probe_layout.width)
    assert times.shape == (per_epoch - 1,) and np.all(np.diff(times.numpy()) >= 0)
    assert chunk(iterator, tf.constant(10))[0].shape[0] == 0

    x = data.x_train.copy()
    x[40:] = np.nan  # batch 1 holds samples 32-63
    poisoned = tf.data.Dataset.from_tensor_slices((x, data.y_train)).batch(32)
    rows, _ = chunk(iter(poisoned), tf.constant(10))
    checked = rows.numpy()[:, :model.probe_layout.grad_slice().stop]
    assert rows.shape[0] == 2 and np.isfinite(checked[0]).all()
    assert not np.isfinite(checked[1]).all()


def test_every_step_of_an_epoch_is_sent_before_its_validation_runs():
    # Validation can take longer than a whole epoch of small steps; the epoch's last steps
    # must not wait for it on their way to the viewer.
    cfg = RunConfig.model_validate({"dataset": {"n_samples": 200, "n_features": 8},
                                    "training": {"epochs": 3, "batch_size": 32}})
    data = make_dataset(cfg)
    sent: list[int] = []

    def emit(event):
        if event["type"] == "metrics":
            sent.extend(item["step"] for item in event["items"])

    sent_when_validating: list[int] = []
    model = build_model(cfg)
    evaluate = model.evaluate

    def validating(*args, **kwargs):
        sent_when_validating.append(max(sent))
        return evaluate(*args, **kwargs)

    model.evaluate = validating
    batches = tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train)).batch(32)
    validation = tf.data.Dataset.from_tensor_slices((data.x_val, data.y_val)).batch(32)
    recorder = StepRecorder(cfg, model.probe_layout, emit, lambda: None, 1e18, 1e18)
    per_epoch = steps_per_epoch(cfg)
    loop.fit(model, batches, 3, per_epoch, recorder, validation)
    assert sent_when_validating == [per_epoch - 1, 2 * per_epoch - 1, 3 * per_epoch - 1]


def _traced_graphs() -> int:
    gc.collect()
    return sum("FuncGraph" in type(o).__name__ for o in gc.get_objects())


def test_a_finished_run_leaves_no_traced_graph_behind():
    # A worker trains run after run in one process: each run's traced graphs must go with its
    # model (TensorFlow's gradient registry used to keep them, ~8 MB a run).
    run({"training": {"epochs": 1}})
    before = _traced_graphs()
    for _ in range(2):
        assert run({"training": {"epochs": 1}}).status == "completed"
    assert _traced_graphs() == before


def test_a_traced_models_run_starts_in_chunks_without_an_eager_step(monkeypatch):
    # A warm model (its chunk function traced by an earlier run) takes step 0 in a chunk: an
    # eager step of a deep MLP costs tenths of a second. test_modelcache checks that a warm run
    # stays bit for bit the cold one; a recurrent model keeps its eager first step for that.
    cfg, batches, per_epoch = _small_mlp(4, epochs=2, batch=16, n_samples=200)
    model = build_model(cfg)
    eager_steps = []
    real_eager_step = loop._eager_step
    monkeypatch.setattr(loop, "_eager_step", lambda *a: eager_steps.append(1) or
                        real_eager_step(*a))

    def fit() -> list[dict]:
        events = []
        recorder = StepRecorder(cfg, model.probe_layout, events.append, lambda: None,
                                1e18, 1e18)
        loop.fit(model, batches, 2, per_epoch, recorder)
        recorder.flush()
        loop.settle()
        return events

    fit()  # cold: step 0 eagerly, then (once traced) chunks
    assert len(eager_steps) >= 1 and model.chunk_traced()
    eager_steps.clear()
    events = fit()
    assert eager_steps == []
    steps = [item["step"] for e in events if e["type"] == "metrics" for item in e["items"]]
    assert steps == list(range(2 * per_epoch))
    epochs = [e for e in events if e["type"] == "epoch"]
    assert len(epochs) == 2 and all(math.isfinite(e["loss"]) for e in epochs)


def test_an_epochs_rest_goes_in_one_call_when_it_is_at_most_half_a_chunk_more(monkeypatch):
    asked = []

    def chunk(batches, n):
        n = int(n)
        asked.append(n)
        return tf.zeros((n, 3)), tf.zeros((n,), tf.float64)

    class Recorder:
        outcome = None

        def record(self, rows, times):
            pass

    # Chunks of 12: the fake steps take no time, so the next size is the cap.
    monkeypatch.setattr(loop, "MAX_CHUNK_STEPS", 12)
    done, _ = loop._chunks(chunk, None, 0, 25, Recorder(), 12)
    assert (done, asked) == (25, [12, 13])  # not 12, 12, 1
    asked.clear()
    done, _ = loop._chunks(chunk, None, 0, 40, Recorder(), 12)
    assert (done, asked) == (40, [12, 12, 16])


def test_the_epoch_functions_are_traced_only_once_the_metrics_exist():
    # Keras builds the compiled metrics at the first step; a reset traced before would leave
    # the accuracy out of every later epoch's reset.
    cfg = RunConfig.model_validate({"dataset": {"n_samples": 64, "n_features": 8},
                                    "training": {"batch_size": 32}})
    data = make_dataset(cfg)
    model = build_model(cfg)
    traced = tf.types.experimental.PolymorphicFunction
    reset, result = loop._epoch_functions(model)
    assert not isinstance(reset, traced) and not isinstance(result, traced)
    model.train_step((data.x_train[:32], data.y_train[:32]))
    reset, result = loop._epoch_functions(model)
    assert isinstance(reset, traced) and set(result()) == {"loss", "accuracy"}
    reset()
    assert all(float(v) == 0 for v in result().values())
