"""A run's row: its columns, which statuses count as active, and how values are stored.

The columns are the owner and the fields of the contract's Run that are stored; the others are
derived when a Run is viewed (server/views.py). Every JSON value, a run column, a Step or an
epoch, is written with the contract's `dumps` and read back with its `loads`.
"""

from __future__ import annotations

from typing import Any

from trainer.contract.protocol import FINAL_STATUSES, STATUSES, dumps, loads
from trainer.contract.schemas import Run

# Statuses of a run that has not ended: queued, running.
ACTIVE = tuple(s for s in STATUSES if s not in FINAL_STATUSES)
# Run fields made when a run is viewed, not stored.
DERIVED_FIELDS = ("owned", "queue_position", "source", "script", "owner_label", "time_limit")
RUN_COLUMNS = ("owner", *(f for f in Run.model_fields if f not in DERIVED_FIELDS))
JSON_COLUMNS = ("config", "layers", "progress", "diagnosis")


def encode_column(column: str, value: Any) -> Any:
    """A run column's value as stored (the JSON columns as text)."""
    return dumps(value) if column in JSON_COLUMNS and value is not None else value


def decode_run(row: tuple[Any, ...]) -> dict[str, Any]:
    """A stored runs row (RUN_COLUMNS, in order) as a dict with the JSON columns parsed."""
    run = dict(zip(RUN_COLUMNS, row, strict=True))
    for column in JSON_COLUMNS:
        if run[column] is not None:
            run[column] = loads(run[column])
    return run


def decode_records(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Stored Step or epoch records (one `data` column each), parsed."""
    return [loads(r[0]) for r in rows]
