"""`GradWatchCallback`: a user's own `model.fit`, streamed live into a GradWatch server.

For the duration of `fit` the model's train step is GradWatch's own (`ProbedModel.train_step`,
the very step the server's runs train with): Keras's TF train step plus the per-layer
reductions, inside the same traced function. Each step writes its probe vector into a small
ring buffer of variables; the callback reads the buffer now and then (not every step: a read
costs a device sync), turns the rows into Step records with the server runs' `StepRecorder`,
and a background thread posts them (`gradwatch.sender`).
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
import warnings
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from gradwatch.scriptinfo import closest_config, code_for, describe_script
from gradwatch.sender import Link, Sender, ServerError
from trainer.contract import protocol
from trainer.contract.config import RunConfig
from trainer.layerpaths import describe, probed_layers
from trainer.probe import PROBE_KEY, ProbedModel, probe_spec
from trainer.recorder import StepRecorder

READ_SECONDS = 0.05   # read the ring buffer at least this often...
BUFFER_STEPS = 256    # ...and before it can fill up
_KERAS_TRAIN_STEP = keras.src.backend.tensorflow.trainer.TensorFlowTrainer.train_step

CUSTOM_STEP = (
    "{cls} overrides train_step, so GradWatchCallback cannot swap in its instrumented step. "
    "Either drop the override, or call GradWatch's step from yours: "
    "`logs = trainer.probe.ProbedModel.train_step(self, data)` needs the probe's wiring in "
    "`self._gradwatch = trainer.probe.probe_spec(self)` (after compile) and returns your logs "
    "plus the per-layer vector under logs['_probe'] (docs/sdk.md, 'A custom train_step').")


class GradWatchCallback(keras.callbacks.Callback):
    """Streams the per-layer gradient figures of `model.fit` into a GradWatch server.

    Args:
        url: the server, e.g. "http://127.0.0.1:8000".
        name: the run's name in the list (default: the model's name).
        access_code: the class access code, if the server asks for one.
        token: an admin token, or a visitor token copied from the page (the run is then
            yours in that browser too: you can stop it there).
        every: record every k-th step (1: all).
        fail_silently: if the server cannot be reached, warn once and let training go on
            (False: raise instead).
    """

    def __init__(self, url: str, name: str | None = None, access_code: str | None = None,
                 token: str | None = None, every: int = 1, fail_silently: bool = True) -> None:
        super().__init__()
        if int(every) < 1:
            raise ValueError(f"every must be a whole number >= 1, not {every!r}")
        self.url, self.name, self.every = url, name, int(every)
        self.access_code, self.token, self.fail_silently = access_code, token, fail_silently
        self.run: dict[str, Any] | None = None  # the server's Run, while and after fit
        self._sender: Sender | None = None
        self._state: _FitState | None = None

    # -- fit's life cycle ------------------------------------------------------------------

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        model = self.model
        if type(model).train_step is not _KERAS_TRAIN_STEP and not isinstance(
                model, ProbedModel):
            raise TypeError(CUSTOM_STEP.format(cls=type(model).__name__))
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        spec = probe_spec(model)
        groups = probed_layers(model)
        link = Link(self.url, self.access_code, self.token)
        epochs, steps = self.params.get("epochs") or 1, self.params.get("steps")
        try:
            link.join()
            status, run = link.post("/api/ingest/runs", {
                "name": (self.name or model.name)[:100], "layers": describe(model),
                "total_steps": epochs * steps if steps else None,
                "config": closest_config(model, groups, epochs), "script": describe_script(model)})
            if status != 201:
                raise ServerError(f"the server refused the run ({status}): {run}")
        except ServerError as exc:
            if not self.fail_silently:
                raise
            warnings.warn(f"GradWatch: {exc}; training goes on without it", stacklevel=2)
            return
        self.run = run
        self._sender = Sender(link, run["id"])
        self._state = _FitState(self, model, spec, run, steps)
        self._state.install()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._state:
            self._state.epoch_begin(epoch)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._state:
            self._state.batch_end(batch)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._state:
            self._state.epoch_end(epoch, logs or {})

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._state:
            self._state.end("completed")


class _FitState:
    """One fit's probe wiring, ring buffer, recorder and end (installed on the model)."""

    def __init__(self, callback: GradWatchCallback, model: keras.Model, spec: Any,
                 run: dict[str, Any], steps: int | None) -> None:
        self.callback, self.model, self.spec = callback, model, spec
        self.sender: Sender = callback._sender  # type: ignore[assignment]
        self.config = RunConfig.model_construct(**{
            k: RunConfig.model_fields[k].annotation.model_validate(v)
            for k, v in run["config"].items() if k in ("dataset", "model", "remedies",
                                                       "training")})
        self.optimizer_class = type(model.optimizer).__name__
        self.recorder = StepRecorder(self.config, spec.layout, self._emit, lambda: None,
                                     math.inf, math.inf)
        self.recorder.epoch_steps = steps or 10**12
        spe = int(getattr(model, "steps_per_execution", 1) or 1)
        self.capacity = max(BUFFER_STEPS, 2 * spe)
        self.spe = spe
        self.rows = tf.Variable(tf.zeros([self.capacity, spec.layout.width]), trainable=False)
        self.times = tf.Variable(tf.zeros([self.capacity], tf.float64), trainable=False)
        self.count = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.read = 0          # steps taken off the buffer
        self.done = 0          # steps fit has run (from the batch indices)
        self.last_batch = -1
        self.last_read = time.monotonic()
        self.status: str | None = None
        self.thread = threading.get_ident()
        self.fit_frame = _fit_frame()

    # -- the probed step ---------------------------------------------------------------------

    def install(self) -> None:
        model, spec = self.model, self.spec
        rows, times, count, capacity = self.rows, self.times, self.count, self.capacity

        def train_step(data: Any) -> dict[str, Any]:
            logs = ProbedModel.train_step(model, data)
            probe = logs.pop(PROBE_KEY)
            with tf.control_dependencies([probe]):
                finished = tf.timestamp()
            at = tf.cast(count % capacity, tf.int32)
            rows.scatter_nd_update([[at]], probe[None, :])
            times.scatter_nd_update([[at]], finished[None])
            count.assign_add(1)
            return logs

        model._gradwatch = spec
        model.train_step = train_step
        model.make_train_function(force=True)
        inner = model.train_function

        def train_function(iterator: Any) -> Any:
            try:
                return inner(iterator)
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    self.end("stopped", "interrupted (KeyboardInterrupt)")
                else:
                    self.end("failed", f"{type(exc).__name__}: {exc}"[:4000])
                raise

        model.train_function = train_function
        _Interrupts.install()
        self.began = time.monotonic()
        if self.fit_frame is not None:
            threading.Thread(target=self._watch, name="gradwatch-watch", daemon=True).start()

    def uninstall(self) -> None:
        model = self.model
        for attr in ("train_step", "_gradwatch"):
            if attr in model.__dict__:
                object.__delattr__(model, attr)
        model.train_function = None

    # -- steps -------------------------------------------------------------------------------

    def epoch_begin(self, epoch: int) -> None:
        self.recorder.on_epoch_begin(epoch)
        self.last_batch = -1

    def batch_end(self, batch: int) -> None:
        self.done += batch - self.last_batch
        self.last_batch = batch
        if (self.done - self.read + self.spe > self.capacity
                or time.monotonic() - self.last_read >= READ_SECONDS):
            self.drain()
        if self.sender.stop_reason is not None or self.recorder.outcome is not None:
            self.model.stop_training = True

    def drain(self) -> None:
        """Hand the steps in the ring buffer to the recorder."""
        self.last_read = time.monotonic()
        count = int(self.count.numpy())
        if count <= self.read:
            return
        at = np.arange(self.read, count)
        rows, times = self.rows.numpy()[at % self.capacity], self.times.numpy()[at % self.capacity]
        every = self.callback.every
        if every == 1:
            self.recorder.record(rows, times)
        else:
            for k in np.flatnonzero(at % every == 0):
                self.recorder.step = int(at[k])
                self.recorder.record(rows[k:k + 1], times[k:k + 1])
            self.recorder.step = count
        self.read = count

    def epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.drain()
        self.recorder.on_epoch_end(epoch, {k: float(v) for k, v in logs.items()
                                           if np.ndim(v) == 0})

    def _emit(self, event: dict[str, Any]) -> None:
        if event["type"] == "diagnosis":
            for suggestion in event["diagnosis"].get("suggestions", []):
                suggestion["code"] = code_for(suggestion["overrides"], self.optimizer_class)
        self.sender.send(event)

    # -- the end -----------------------------------------------------------------------------

    def end(self, status: str, error: str | None = None) -> None:
        """Send what is left and the final status, once; put the model back as it was."""
        if self.status is not None:
            return
        self.status = status
        try:
            if threading.get_ident() == self.thread:
                self.drain()
        finally:
            self.uninstall()
        self.recorder.flush()
        outcome = self.recorder.outcome
        if status == "completed" and self.sender.stop_reason is not None:
            status, error = "stopped", self.sender.stop_reason
        elif status == "completed" and outcome is not None:
            status, error = outcome.status, outcome.reason
        self.recorder.update_diagnosis()
        self.sender.send(protocol.finished(status, error))
        if not self.sender.close(15.0) and self.sender.error:
            warnings.warn(f"GradWatch: the end of the run did not reach the server "
                          f"({self.sender.error})", stacklevel=3)
        if self.sender.dropped:
            warnings.warn(f"GradWatch: {self.sender.dropped} steps were dropped because the "
                          "server could not keep up", stacklevel=3)

    def _watch(self) -> None:
        """Notice a fit that ended without telling its callbacks (an exception outside the
        train step, e.g. Ctrl-C during validation) and end the run for it."""
        while self.status is None:
            time.sleep(0.5)
            frame = sys._current_frames().get(self.thread)
            while frame is not None and frame is not self.fit_frame:
                frame = frame.f_back
            if frame is None and self.status is None:
                if _Interrupts.last >= self.began:
                    self.end("stopped", "interrupted (KeyboardInterrupt)")
                else:
                    self.end("failed", "fit ended with an exception outside the train step")


class _Interrupts:
    """Remembers when Ctrl-C (SIGINT) last came, then lets the previous handler act (Python's
    raises KeyboardInterrupt, in a shell or a notebook's kernel alike)."""

    last = 0.0
    installed = False

    @classmethod
    def install(cls) -> None:
        if cls.installed or threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum: int, frame: Any) -> Any:
            cls.last = time.monotonic()
            if callable(previous):
                return previous(signum, frame)
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, handler)
        cls.installed = True


def _fit_frame() -> Any:
    """The frame of the Keras `fit` that is calling the callbacks now."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "fit" and "keras" in frame.f_code.co_filename:
            return frame
        frame = frame.f_back
    return None
