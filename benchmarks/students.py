"""The configs a class's students start: a preset, each with its own seed and learning rate.

Shared by the suites that play a class (preset_runs, class_throughput, classroom), so that
they start the same kind of runs.
"""

from __future__ import annotations

from typing import Any

from trainer.contract.presets import PRESETS_BY_ID


def student_config(preset: dict[str, Any], seed: int, lr_scale: float,
                   epochs: int | None = None, name: str | None = None) -> dict[str, Any]:
    """A preset's config (a preset as `/api/presets` lists it) with its own seed, its learning
    rate times `lr_scale`, and `epochs` epochs when given (the preset's own when None)."""
    config = preset["config"]
    training = {**config["training"],
                "learning_rate": config["training"]["learning_rate"] * lr_scale}
    if epochs:
        training["epochs"] = epochs
    named = {"name": name} if name is not None else {}
    return {**config, **named, "seed": seed, "training": training}


def class_mix(preset_ids: tuple[str, ...], students: int, seed0: int = 100,
              epochs: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(preset id, config) of every student's run, presets interleaved as a class posts them:
    student i runs each preset with seed `seed0 + i` and 1 + 0.1·i times its learning rate."""
    return [(preset, student_config(PRESETS_BY_ID[preset], seed0 + i, 1 + 0.1 * i, epochs))
            for i in range(students) for preset in preset_ids]
