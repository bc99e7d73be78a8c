"""Guards on the private APIs of Keras and RQ the trainer relies on.

Each test fails with a sentence naming the private API, who uses it and what breaks, so an
upgrade of Keras or RQ that moves one is caught here rather than as a wrong number on the page.
(TensorFlow's gradient registry, reached by trainer/job.py, is guarded by the test that no
traced graph outlives its run, in test_probe.py.)
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest


def test_keras_optimizer_clip_gradients_clips_as_apply_gradients_does() -> None:
    import keras

    optimizer = keras.optimizers.SGD(learning_rate=0.1, global_clipnorm=1.0)
    clip = getattr(optimizer, "_clip_gradients", None)
    assert callable(clip), (
        "keras.optimizers.Optimizer._clip_gradients is gone: trainer/probe.py calls it to "
        "report clipped_grad_norms with Keras's own clipping; find its new name in "
        "keras/src/optimizers/base_optimizer.py")
    clipped = clip([keras.ops.convert_to_tensor(np.array([3.0, 4.0], "float32"))])
    assert np.allclose(keras.ops.convert_to_numpy(clipped[0]), [0.6, 0.8]), (
        "Optimizer._clip_gradients no longer clips to global_clipnorm: trainer/probe.py's "
        "clipped_grad_norms would be wrong")


@pytest.mark.slow
def test_keras_model_loss_tracker_is_the_mean_fit_reports_as_loss() -> None:
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    tracker = getattr(model, "_loss_tracker", None)
    assert isinstance(tracker, keras.metrics.Mean), (
        "keras.Model._loss_tracker is gone or no longer a Mean: ProbedModel.train_step "
        "(trainer/probe.py) updates it as Keras's own train_step does, so the logged loss "
        "would be missing; see keras/src/trainers/trainer.py")
    assert tracker in model.metrics, (
        "keras.Model._loss_tracker is no longer among model.metrics: the loss "
        "ProbedModel.train_step records would not reach the logs")


def test_rq_worker_internals_the_heartbeat_reregisters_with() -> None:
    from rq import SimpleWorker, worker_registration

    used = {name: getattr(SimpleWorker, name, None)
            for name in ("heartbeat", "serialize", "get_state", "redis_workers_keys")}
    missing = [name for name, value in used.items() if value is None]
    assert not missing, (
        f"rq.SimpleWorker no longer has {missing}: trainer/worker.py (WorkerBeat.beat) uses "
        "them to register a worker again after Redis lost it; see rq/worker/base.py")
    register = getattr(worker_registration, "register", None)
    assert register is not None and list(inspect.signature(register).parameters)[:2] == [
        "worker", "pipeline"], (
        "rq.worker_registration.register(worker, pipeline) is gone or changed: "
        "trainer/worker.py (WorkerBeat.beat) calls it to register a worker again")
