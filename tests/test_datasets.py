"""The dataset table (trainer/contract/datasets.py) against what is made from it."""

from __future__ import annotations

import pytest

from trainer.contract.config import RunConfig, input_shape, n_classes, n_train
from trainer.contract.datasets import DATASET_SPECS, DATASETS
from trainer.datasets import MAKERS, make_dataset


def config_for(name: str) -> RunConfig:
    spec = DATASET_SPECS[name]
    arch = "rnn" if spec.sequence else "mlp"
    return RunConfig.model_validate({"dataset": {"name": name, "n_samples": 40, "seq_len": 5,
                                                 "n_features": 3}, "model": {"arch": arch}})


def test_every_dataset_of_the_table_has_a_maker() -> None:
    assert set(MAKERS) == set(DATASETS)


@pytest.mark.parametrize("name", DATASETS)
def test_each_dataset_is_made_as_its_row_says(name: str) -> None:
    config = config_for(name)
    data = make_dataset(config)
    spec = DATASET_SPECS[name]
    assert data.task == spec.task
    assert data.x_train.shape == (n_train(config), *input_shape(config))
    if spec.task == "multiclass":
        assert data.y_train.max() < n_classes(config) == spec.classes
    elif spec.task == "binary":
        assert set(data.y_train.ravel()) <= {0.0, 1.0} and n_classes(config) == 1


def test_the_form_offers_each_dataset_field_where_the_table_says() -> None:
    fields = RunConfig.model_json_schema()["$defs"]["DatasetConfig"]["properties"]
    for field in ("n_features", "noise", "seq_len"):
        (alternative,) = fields[field]["x-applies-when"]
        assert set(alternative["dataset.name"]) == {
            n for n, s in DATASET_SPECS.items() if field in s.shows}


def test_every_task_has_a_loss() -> None:
    from trainer.models import LOSSES

    assert {s.task for s in DATASET_SPECS.values()} <= set(LOSSES)
