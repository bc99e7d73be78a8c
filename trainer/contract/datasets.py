"""The datasets, one row each: what the config, the form, the data maker and the model builder
need to know about them. TF-free, like the rest of the contract.

`trainer/datasets.py` makes the arrays (its makers keyed by these names), `trainer/models.py`
picks the loss and accuracy by `task`, and RunConfig takes its names, its combination rules,
the shape of an example and which form fields apply from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Task = Literal["binary", "multiclass", "regression"]


@dataclass(frozen=True)
class DatasetSpec:
    """What is known about a dataset before any array is made."""

    task: Task
    features: int | None  # inputs per example (per time step for a sequence); None: n_features
    classes: int = 1  # output units: 1 for a binary or regression task
    max_samples: int | None = None  # what ships (digits): n_samples is capped to it
    sequence: bool = False  # examples are sequences of `seq_len` steps: needs the rnn arch
    image: tuple[int, int, int] | None = None  # the example as an image, for the cnn arch
    shows: tuple[str, ...] = ()  # the dataset fields the form offers for it, besides n_samples


DIGITS_SAMPLES = 1797  # what sklearn.datasets.load_digits ships

DATASET_SPECS: dict[str, DatasetSpec] = {
    "random": DatasetSpec("binary", None, shows=("n_features",)),
    "spirals": DatasetSpec("binary", 2, shows=("noise",)),
    "circles": DatasetSpec("binary", 2, shows=("noise",)),
    "moons": DatasetSpec("binary", 2, shows=("noise",)),
    "xor": DatasetSpec("binary", 2, shows=("noise",)),
    "digits": DatasetSpec("multiclass", 64, classes=10, max_samples=DIGITS_SAMPLES,
                          image=(8, 8, 1)),
    "adding": DatasetSpec("regression", 2, sequence=True, shows=("seq_len",)),
}

DATASETS = tuple(DATASET_SPECS)
SEQUENCE_DATASETS = tuple(n for n, s in DATASET_SPECS.items() if s.sequence)
IMAGE_DATASETS = tuple(n for n, s in DATASET_SPECS.items() if s.image)  # what a cnn can take


def showing(field: str) -> tuple[str, ...]:
    """The datasets for which the form offers a dataset field (e.g. noise)."""
    return tuple(n for n, s in DATASET_SPECS.items() if field in s.shows)
