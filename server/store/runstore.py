"""RunStore: every run, its recorded steps and epochs, in one SQLite file (WAL mode).

Run metadata is written at once (a few rows, and a reader must see a new run right away);
steps, epochs and progress arrive many times a second per run, so they are buffered and a writer
thread commits them together every `flush_interval` seconds, or sooner when many are waiting.
Each thread reads through its own connection, so reads never wait for the writer.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

import server.store.chunks as chunks
import server.store.sql as sql
from server.store.rows import RUN_COLUMNS, decode_records, decode_run
from trainer.contract.protocol import dumps, empty_history

log = logging.getLogger(__name__)

T = TypeVar("T")


class StoreError(RuntimeError):
    """The database could not be read or written (disk full, locked, unreadable)."""


def _describe(exc: sqlite3.Error) -> StoreError:
    return StoreError(f"the run database could not be written or read: {exc}")


class RunStore:
    """Runs and their histories in SQLite, with batched writes for the per-step records."""

    def __init__(self, path: Path, flush_interval: float = 0.1, flush_items: int = 2000,
                 busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self.flush_interval = flush_interval
        self.flush_items = flush_items
        self.busy_timeout_ms = busy_timeout_ms
        self.last_error: str | None = None
        self._lock = threading.Lock()  # guards the write connection and the buffers
        self._pending: list[tuple[str, tuple[Any, ...]]] = []
        self._fields: dict[str, dict[str, Any]] = {}  # run_id -> latest coalesced fields
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._local = threading.local()
        self._writer: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        self._reclaim = False  # space was freed: give it back at the next flush
        self._tails = chunks.Tails()  # live runs' last chunks, used under the lock only

    # -- life cycle ------------------------------------------------------------------------

    def open(self) -> None:
        """Create the file and tables if needed and start the writer thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = self._connect()
            if moved := sql.prepare(self._writer):
                log.info("run store: moved the steps of %d runs into packed chunks", moved)
        except sqlite3.Error as exc:
            raise _describe(exc) from exc
        self._thread = threading.Thread(target=self._flush_loop, name="runstore-writer",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Write what is buffered and close the write connection."""
        self._closed.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.flush()
        for _ in range(10_000):  # the rest of the space to give back (bounded: never hang)
            if not self._reclaim or self._writer is None:
                break
            self.flush()
        with self._lock:
            if self._writer:
                self._writer.close()
                self._writer = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000,
                               isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
        # WAL + NORMAL: a commit does not wait for fsync; a power cut may lose the last
        # fraction of a second of steps, never corrupt the file.
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    # -- immediate writes ------------------------------------------------------------------

    def _writing(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the write connection, holding the lock; SQLite errors → StoreError."""
        with self._lock:
            if self._writer is None:
                raise StoreError("the run database is closed")
            try:
                return work(self._writer)
            except sqlite3.Error as exc:
                self.last_error = str(exc)
                raise _describe(exc) from exc

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        count = self._writing(lambda conn: conn.execute(sql, params).rowcount)
        self.last_error = None  # a write went through: the database takes writes again
        return count

    def insert_run(self, run: dict[str, Any]) -> None:
        """Add a new run; `run` has the RUN_COLUMNS (JSON ones as Python values)."""
        self._write(sql.INSERT_RUN, sql.run_values(run))

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Set some columns of a run now, e.g. status, started_at, layers."""
        self._write(*sql.update_run(run_id, fields))

    def delete_run(self, run_id: str) -> bool:
        """Remove a run with its steps and epochs; False if there was none."""
        self.flush()  # so no buffered step of this run lands after the delete
        deleted = self._writing(lambda conn: sql.delete_run(conn, run_id)) > 0
        self._tails.forget(run_id)
        if deleted:
            self._reclaim = True
            self._wake.set()  # the writer thread gives the space back, off the caller's thread
        return deleted

    def forget_tail(self, run_id: str) -> None:
        """A run has ended and its steps are flushed: drop the writer's copy of its last chunk
        (up to CHUNK_STEPS Step records, kept otherwise until 64 other runs have written)."""
        with self._lock:
            self._tails.forget(run_id)

    def fail_interrupted(self, error: str) -> int:
        """Mark runs a previous process left queued or running as failed; returns how many."""
        return self._write(sql.FAIL_ACTIVE, (error, time.time()))

    # -- buffered writes -------------------------------------------------------------------

    def append_steps(self, run_id: str, items: list[dict[str, Any]]) -> None:
        """Buffer Step records of a run for the next flush."""
        self._buffer("steps", [(run_id, it) for it in items])

    def drop_steps(self, run_id: str, steps: list[int]) -> None:
        """Buffer the removal of thinned steps (applied after the steps buffered before it)."""
        self._buffer("drop", [(run_id, s) for s in steps])

    def append_epoch(self, run_id: str, event: dict[str, Any]) -> None:
        """Buffer an epoch event of a run."""
        self._buffer("epochs", [(run_id, event["epoch"], dumps(event))])

    def append_diagnosis(self, run_id: str, step: int, diagnosis: dict[str, Any]) -> None:
        """Buffer a diagnosis of a run, made when `step` was its last recorded step."""
        self._buffer("diagnoses", [(run_id, step, dumps(diagnosis))])

    def set_stream_position(self, run_id: str, entry_id: str) -> None:
        """Buffer the last stream entry handled for a run; it is written after (or with) the
        records buffered before it, so it never claims events that are not stored."""
        self._buffer("position", [(run_id, entry_id)])

    def set_later(self, run_id: str, **fields: Any) -> None:
        """Buffer frequent run columns (progress, diagnosis); only the latest value is written."""
        assert set(fields) <= set(RUN_COLUMNS), fields  # checked here, written at the flush
        with self._lock:
            self._fields.setdefault(run_id, {}).update(fields)

    def _buffer(self, kind: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        with self._lock:
            self._pending.extend((kind, row) for row in rows)
            if len(self._pending) >= self.flush_items:
                self._wake.set()

    def _flush_loop(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
            except StoreError as exc:
                log.error("%s; the buffered records are dropped", exc)

    def flush(self) -> None:
        """Write everything buffered in one transaction now."""

        def write(conn: sqlite3.Connection) -> None:
            pending, self._pending = self._pending, []
            fields, self._fields = self._fields, {}
            if pending or fields:
                try:
                    with sql.transaction(conn):
                        dropped = sql.write_batch(conn, pending, fields, self._tails)
                except BaseException:
                    self._tails = chunks.Tails()  # it may hold what was rolled back
                    raise
                self._reclaim = self._reclaim or dropped
                self.last_error = None
            if self._reclaim:
                pages_left, log_held = sql.give_back_space(conn, self.busy_timeout_ms)
                self._reclaim = pages_left or log_held  # a reader holds the log: next flush
                if pages_left:
                    self._wake.set()  # more to give back: again right away

        if self._writer is not None:
            self._writing(write)

    # -- reads -----------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._reader().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _describe(exc) from exc

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
