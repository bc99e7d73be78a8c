"""RunReads: what the run store answers (runs, counts, histories, epochs, diagnoses).

Every read goes through the calling thread's own connection (`RunStore._reader`), so reads
never wait for the writer thread.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import numpy as np

import server.store.chunks as chunks
import server.store.sql as sql
from server.store.errors import describe
from server.store.rows import decode_records, decode_run
from trainer.contract.protocol import empty_history


class RunReads:
    """The read side of RunStore; `_reader()` gives this thread's connection."""

    def _reader(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._reader().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise describe(exc) from exc

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """One run as a dict of RUN_COLUMNS, or None."""
        rows = self._query(sql.GET_RUN, (run_id,))
        return decode_run(rows[0]) if rows else None

    def list_runs(self, limit: int = 500) -> list[dict[str, Any]]:
        """Runs, newest first."""
        return [decode_run(r) for r in self._query(sql.LIST_RUNS, (limit,))]

    def active_runs(self) -> list[dict[str, Any]]:
        """Runs queued or running, oldest first."""
        return [decode_run(r) for r in self._query(sql.ACTIVE_RUNS)]

    def stream_position(self, run_id: str) -> str | None:
        """The last stream entry stored for a run (see set_stream_position), or None."""
        rows = self._query(sql.STREAM_POSITION, (run_id,))
        return rows[0][0] if rows else None

    def count_active(self, owner: str | None = None) -> int:
        """Runs queued or running, of one owner or of everyone."""
        if owner is None:
            return self._query(sql.COUNT_ACTIVE)[0][0]
        return self._query(sql.COUNT_ACTIVE_OF, (owner,))[0][0]

    def count_queued(self) -> int:
        """Runs waiting for a worker."""
        return self._query(sql.COUNT_QUEUED)[0][0]

    def expired_runs(self, keep: int, finished_before: float | None) -> list[str]:
        """Runs that ended before the latest `keep` to end (0: no such limit), or before a time."""
        rows = []
        if keep > 0:
            rows += self._query(sql.ENDED_BEYOND, (keep,))
        if finished_before is not None:
            rows += self._query(sql.ENDED_BEFORE, (finished_before,))
        return list(dict.fromkeys(r[0] for r in rows))

    def history(self, run_id: str) -> dict[str, list[Any]]:
        """A run's recorded steps as a History (CONTRACT §5)."""
        history = empty_history()
        for (blob,) in self._query(sql.CHUNKS, (run_id,)):
            for field, values in chunks.decode(blob, tuple(history)).items():
                history[field] += values
        return history

    def history_pages(self, run_id: str, fields: tuple[str, ...],
                      page: int = 2000) -> Iterator[dict[str, list[Any]]]:
        """A run's recorded steps as Histories of up to `page` steps each, in step order, with
        `fields` only: a whole run read without holding it in memory (the downloads)."""
        after = -1
        while rows := self._query(sql.CHUNKS_PAGE, (run_id, after,
                                                    max(1, page // chunks.CHUNK_STEPS))):
            page_history: dict[str, list[Any]] = {f: [] for f in fields}
            for _, blob in rows:
                for field, values in chunks.decode(blob, fields).items():
                    page_history[field] += values
            yield page_history
            after = rows[-1][0]

    def history_widths(self, run_id: str) -> dict[str, int]:
        """Per per-layer field a run's steps have, its widest row (a download's header)."""
        out: dict[str, int] = {}
        for (blob,) in self._query(sql.CHUNKS, (run_id,)):
            for field, width in chunks.widths(blob).items():
                out[field] = max(out.get(field, 0), width)
        return out

    def history_range(self, run_id: str, first: int, last: int) -> dict[str, list[Any]]:
        """A run's recorded steps from `first` to `last` (both included) as a History."""
        history = empty_history()
        for (blob,) in self._query(sql.CHUNKS_IN_RANGE, (run_id, last, first)):
            part = chunks.decode(blob, tuple(history))
            keep = [i for i, s in enumerate(part["step"]) if first <= s <= last]
            for field, values in part.items():
                history[field] += [values[i] for i in keep]
        return history

    def arrays(self, run_id: str, fields: tuple[str, ...], first: int = 0,
               last: int = 2**62) -> dict[str, np.ndarray]:
        """A run's recorded steps from `first` to `last` as numpy columns (chunks.arrays)."""
        parts = [chunks.arrays(blob, ("step", *fields))
                 for (blob,) in self._query(sql.CHUNKS_IN_RANGE, (run_id, last, first))]
        out = {"step": np.concatenate([p["step"] for p in parts] or [np.zeros(0, np.int64)])}
        keep = (out["step"] >= first) & (out["step"] <= last)
        out["step"] = out["step"][keep]
        for field in fields:
            width = max((p[field].shape[1] for p in parts if p[field].ndim == 2), default=0)
            pieces = [p[field] if p[field].ndim == 1 or p[field].shape[1] == width else
                      np.pad(p[field], ((0, 0), (0, width - p[field].shape[1])),
                             constant_values=np.nan) for p in parts]
            empty = np.zeros(0) if field in chunks.FLOAT_FIELDS else np.zeros((0, width))
            out[field] = np.concatenate(pieces or [empty])[keep]
        return out

    def diagnoses(self, run_id: str) -> list[dict[str, Any]]:
        """A run's diagnoses as they changed: `{step, diagnosis}` in step order."""
        return [{"step": step, "diagnosis": json.loads(data)}
                for step, data in self._query(sql.DIAGNOSES, (run_id,))]

    def epochs(self, run_id: str) -> list[dict[str, Any]]:
        """A run's epoch events, in order."""
        return decode_records(self._query(sql.EPOCHS, (run_id,)))
