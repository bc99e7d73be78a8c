"""A chunk of a run's recorded steps, packed: each field a column of numbers, not a JSON row.

A chunk holds up to CHUNK_STEPS consecutive recorded steps of one run as one blob (msgpack):
`step` and `epoch` as int64 columns; `loss`, `t` and each per-step list (the per-layer metrics,
`time_grad_norms`) as a float column with, for the lists, each step's length (one number when
every step has the same, -1 for a step without the field). A float column is float32 when every
number in it is one (the probe computes in float32: that is every worker's column), float64
otherwise (a script may send any double), so what is read back is what was written. A
non-finite number or a missing one is stored as NaN and read back as None, as the JSON rows
before it gave (strict JSON has null for them).

A run's steps at 11 layers take about 23 bytes per layer-step this way, against about 430 as
JSON rows (docs/performance.md).
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np

from trainer.contract.protocol import LAYER_FIELDS, SEQUENCE_FIELDS

CHUNK_STEPS = 128
LIST_FIELDS = LAYER_FIELDS + SEQUENCE_FIELDS
FLOAT_FIELDS = ("loss", "t")
Item = dict[str, Any]

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder()


def _floats(values: np.ndarray) -> dict[str, Any]:
    """A float64 column as stored: float32 when that loses nothing."""
    narrow = values.astype(np.float32)
    if np.array_equal(narrow.astype(np.float64), values, equal_nan=True):
        return {"f4": narrow.tobytes()}
    return {"f8": values.tobytes()}


def _unfloats(column: dict[str, Any]) -> np.ndarray:
    if "f4" in column:
        return np.frombuffer(column["f4"], dtype=np.float32).astype(np.float64)
    return np.frombuffer(column["f8"], dtype=np.float64)


def _as_float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _pack_lists(rows: list[Any]) -> dict[str, Any] | None:
    lengths = [-1 if r is None else len(r) for r in rows]
    if all(n == -1 for n in lengths):
        return None
    width = lengths[0]
    if width > 0 and all(n == width for n in lengths):
        # The usual case, every step with the same layers: one conversion in C (None → NaN).
        return {"n": width, **_floats(np.array(rows, dtype=np.float64).ravel())}
    flat = np.fromiter((_as_float(v) for r in rows if r for v in r), dtype=np.float64)
    same = width >= 0 and all(n == width for n in lengths)
    return {"n": width if same else np.asarray(lengths, dtype=np.int32).tobytes(),
            **_floats(flat)}


def encode(items: list[Item]) -> bytes:
    """Steps (in step order) as a chunk's blob; only the History fields are kept."""
    chunk: dict[str, Any] = {
        "step": np.asarray([it["step"] for it in items], dtype=np.int64).tobytes(),
        "epoch": np.asarray([it["epoch"] for it in items], dtype=np.int64).tobytes()}
    for field in FLOAT_FIELDS:
        chunk[field] = _floats(np.array([it.get(field) for it in items], dtype=np.float64))
    for field in LIST_FIELDS:
        packed = _pack_lists([it.get(field) for it in items])
        if packed is not None:
            chunk[field] = packed
    return _encoder.encode(chunk)


def _to_python(values: np.ndarray) -> list[Any]:
    """Numbers as Python floats (nested like `values`), None where not finite."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return values.tolist()
    boxed = values.astype(object)
    boxed[bad] = None
    return boxed.tolist()


def _unpack_lists(column: dict[str, Any] | None, count: int) -> list[Any]:
    if column is None:
        return [None] * count
    values = _unfloats(column)
    if isinstance(column["n"], int):
        return _to_python(values.reshape(count, column["n"]))
    lengths = np.frombuffer(column["n"], dtype=np.int32)
    flat = _to_python(values)
    out: list[Any] = []
    at = 0
    for n in lengths.tolist():
        out.append(None if n < 0 else flat[at:at + n])
        at += max(n, 0)
    return out


def decode(blob: bytes, fields: tuple[str, ...]) -> dict[str, list[Any]]:
    """A chunk's steps as History columns (CONTRACT §5), of `fields` only."""
    chunk = _decoder.decode(blob)
    steps = np.frombuffer(chunk["step"], dtype=np.int64)
    out: dict[str, list[Any]] = {}
    for field in fields:
        if field in ("step", "epoch"):
            out[field] = np.frombuffer(chunk[field], dtype=np.int64).tolist()
        elif field in FLOAT_FIELDS:
            out[field] = _to_python(_unfloats(chunk[field]))
        else:
            out[field] = _unpack_lists(chunk.get(field), len(steps))
    return out


def widths(blob: bytes) -> dict[str, int]:
    """The widest row of each per-layer field a chunk has (without decoding its numbers)."""
    chunk = _decoder.decode(blob)
    out = {}
    for field in LAYER_FIELDS:
        column = chunk.get(field)
        if column is not None:
            n = column["n"]
            out[field] = n if isinstance(n, int) else int(
                np.frombuffer(n, dtype=np.int32).max(initial=0))
    return out


def items(blob: bytes) -> list[Item]:
    """A chunk's steps as Step records (the fields a step lacks are None)."""
    columns = decode(blob, ("step", "epoch", *FLOAT_FIELDS, *LIST_FIELDS))
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def split(items_in_order: list[Item]) -> list[list[Item]]:
    """Steps cut into chunks of up to CHUNK_STEPS."""
    return [items_in_order[i:i + CHUNK_STEPS]
            for i in range(0, len(items_in_order), CHUNK_STEPS)]


def apply(stored: list[Item], ops: list[tuple[str, Any]]) -> list[Item]:
    """Stored steps with buffered writes applied in order: ("put", Step) adds or replaces a
    step, ("drop", step number) removes one; the result in step order."""
    by_step = {it["step"]: it for it in stored}
    for kind, value in ops:
        if kind == "put":
            by_step[value["step"]] = value
        else:
            by_step.pop(value, None)
    return [by_step[s] for s in sorted(by_step)]


def _unpack_array(column: dict[str, Any] | None, count: int) -> np.ndarray:
    if column is None:
        return np.full((count, 0), np.nan)
    values = _unfloats(column)
    if isinstance(column["n"], int):
        return values.reshape(count, column["n"])
    lengths = np.maximum(np.frombuffer(column["n"], dtype=np.int32), 0)
    out = np.full((count, int(lengths.max(initial=0))), np.nan)
    rows = np.repeat(np.arange(count), lengths)
    cols = np.arange(len(values)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    out[rows, cols] = values
    return out


def arrays(blob: bytes, fields: tuple[str, ...]) -> dict[str, np.ndarray]:
    """A chunk's steps as numpy columns: `step` (int64), `loss`/`t` (float), a list field as
    a (steps × widest row) float matrix; NaN wherever a number is missing or not finite."""
    chunk = _decoder.decode(blob)
    count = len(chunk["step"]) // 8
    out: dict[str, np.ndarray] = {}
    for field in fields:
        if field in ("step", "epoch"):
            out[field] = np.frombuffer(chunk[field], dtype=np.int64)
        elif field in FLOAT_FIELDS:
            values = _unfloats(chunk[field])
            out[field] = np.where(np.isfinite(values), values, np.nan)
        else:
            values = _unpack_array(chunk.get(field), count)
            out[field] = np.where(np.isfinite(values), values, np.nan)
    return out


class Tails:
    """The steps of each run's last chunk as this writer last wrote them, so that filling it
    up does not decode it again at every flush (a few live runs' worth, newest kept)."""

    def __init__(self, runs: int = 64) -> None:
        self.runs = runs
        self._tails: dict[str, tuple[int, list[Item]]] = {}

    def items(self, run_id: str, first_step: int, count: int, blob: bytes) -> list[Item]:
        """A stored chunk's steps: the kept copy when it is this chunk, else decoded."""
        kept = self._tails.get(run_id)
        if kept is not None and kept[0] == first_step and len(kept[1]) == count:
            return kept[1]
        return items(blob)

    def keep(self, run_id: str, part: list[Item]) -> None:
        """Remember a run's last chunk as just written."""
        self._tails.pop(run_id, None)
        self._tails[run_id] = (part[0]["step"], part)
        while len(self._tails) > self.runs:
            del self._tails[next(iter(self._tails))]

    def forget(self, run_id: str) -> None:
        """A run was deleted."""
        self._tails.pop(run_id, None)
