"""Datasets made on the spot (or shipped by scikit-learn): nothing is downloaded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from trainer.contract.config import RunConfig, input_shape, n_samples, n_train
from trainer.contract.datasets import DATASET_SPECS, Task


@dataclass(frozen=True)
class Dataset:
    """Training and validation arrays plus the kind of task they pose."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    task: Task  # "binary", "multiclass" or "regression" (from the dataset's spec)


def _random(rng: np.random.Generator, n: int, features: int) -> tuple[np.ndarray, np.ndarray]:
    # The seed's example: np.random.random((1000, 100)) and randint(2, size=(1000, 1)).
    return rng.random((n, features)), rng.integers(0, 2, size=(n, 1))


def _spirals(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, 2, size=n)
    r = rng.random(n)
    theta = 3.0 * np.pi * r + np.pi * labels
    x = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    x += rng.normal(0.0, noise * 0.2, size=x.shape)
    return x, labels.reshape(-1, 1)


def _xor(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    labels = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    return x + rng.normal(0.0, noise * 0.2, size=x.shape), labels.reshape(-1, 1)


def _sklearn_2d(name: str, n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets as skd

    if name == "circles":
        x, y = skd.make_circles(n_samples=n, noise=noise, factor=0.5, random_state=seed)
    else:
        x, y = skd.make_moons(n_samples=n, noise=noise, random_state=seed)
    return x, y.reshape(-1, 1)


def _digits(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = rng.permutation(len(digits.target))[:n]
    return digits.data[order] / 16.0, digits.target[order].reshape(-1, 1)


def _adding(rng: np.random.Generator, n: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber 1997; Pascanu et al. 2013).

    Channel 0 holds uniform random values, channel 1 marks two positions, one in each half of
    the sequence; the target is the sum of the two marked values. Solving it needs information
    from early time steps, so the gradient must survive the trip back across time.
    """
    values = rng.random((n, seq_len))
    marks = np.zeros((n, seq_len))
    half = max(seq_len // 2, 1)
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, seq_len, size=n)
    rows = np.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    x = np.stack([values, marks], axis=2)
    y = (values[rows, first] + values[rows, second]).reshape(-1, 1)
    return x, y


Maker = Callable[[np.random.Generator, RunConfig, int], tuple[np.ndarray, np.ndarray]]

# How each dataset of the contract's table (trainer/contract/datasets.py) is made: (rng, config,
# number of examples) → (x, y). A test checks every name there has its maker here.
MAKERS: dict[str, Maker] = {
    "random": lambda rng, c, n: _random(rng, n, c.dataset.n_features),
    "spirals": lambda rng, c, n: _spirals(rng, n, c.dataset.noise),
    "circles": lambda rng, c, n: _sklearn_2d("circles", n, c.dataset.noise, c.seed),
    "moons": lambda rng, c, n: _sklearn_2d("moons", n, c.dataset.noise, c.seed),
    "xor": lambda rng, c, n: _xor(rng, n, c.dataset.noise),
    "digits": lambda rng, c, n: _digits(rng, n),
    "adding": lambda rng, c, n: _adding(rng, n, c.dataset.seq_len),
}


def make_dataset(config: RunConfig) -> Dataset:
    """Generate the run's data, deterministic in `config.seed`.

    Args:
        config: the run; `dataset` says which data and how much, `seed` seeds it.
    """
    rng = np.random.default_rng(config.seed)
    n = n_samples(config)
    x, y = MAKERS[config.dataset.name](rng, config, n)
    order = rng.permutation(n)
    x, y = x[order].astype("float32"), y[order].astype("float32")
    if config.model.arch == "cnn":  # the digits as 8×8 single-channel images
        x = x.reshape((n, *input_shape(config)))
    cut = n_train(config)
    task = DATASET_SPECS[config.dataset.name].task
    return Dataset(x[:cut], y[:cut], x[cut:], y[cut:], task)
