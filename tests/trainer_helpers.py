"""Run a job in-process and collect what it emits (real TensorFlow, tiny models)."""

from trainer.job import run_job


class Recorded:
    """Events of one job, with the Step records pulled out in order."""

    def __init__(self, events):
        self.events = events
        self.steps = [s for e in events if e["type"] == "metrics" for s in e["items"]]
        [self.finished] = [e for e in events if e["type"] == "finished"]
        self.diagnoses = [e["diagnosis"] for e in events if e["type"] == "diagnosis"]
        self.started = next((e for e in events if e["type"] == "started"), None)

    @property
    def status(self):
        return self.finished["status"]


def run(config, should_stop=lambda: None, max_seconds=600.0):
    events = []
    run_job(config, events.append, should_stop, max_seconds)
    return Recorded(events)


def deep(activation, initializer, depth=10, **extra):
    remedies = {"activation": activation, "initializer": initializer, **extra.pop("remedies", {})}
    return {"dataset": {"name": "spirals", "n_samples": 256}, "seed": 1,
            "model": {"depth": depth, "width": 32}, "remedies": remedies,
            "training": {"optimizer": "sgd", "learning_rate": 0.01, "epochs": 1,
                         "batch_size": 32, **extra.pop("training", {})}, **extra}
