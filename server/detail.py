"""What a viewer reads at the resolution it displays: bounded snapshots and ranges (issue 18).

- A snapshot asked with `buckets=N` (websocket query) for a run of more than N recorded steps
  carries the last RECENT steps exact in `history` and a Summary (server/lod.py) of the steps
  before them in `summary`; a shorter run's snapshot is the whole history, as without it.
  An ended run's bounded snapshot is encoded once and kept (SnapshotCache) for every viewer.
- `GET /api/runs/{id}/history?first=&last=&buckets=&metrics=`: the steps of a range, exact
  when there are at most `buckets` of them, else its Summary (zoom, scrub, replay).

Bad input (a bucket count out of range, an unknown metric, a range past the run's end) is a
422 with a sentence, or, on the websocket, close code 4422 with that sentence as the reason.
"""

from __future__ import annotations

import asyncio
from typing import Any

from server.errors import InvalidInput
from server.lod import DEFAULT_RECENT, MAX_BUCKETS, SUMMARY_FIELDS, columns_of, summarize
from server.service import RunService
from trainer.contract.protocol import dumps

DEFAULT_METRICS = ("loss", "grad_norms")


def _problem(path: str, msg: str) -> InvalidInput:
    return InvalidInput([{"loc": ["query", path], "path": path, "msg": msg,
                          "type": "value_error"}])


def parse_buckets(text: str | None, default: int | None) -> int | None:
    """The `buckets` parameter: 1..MAX_BUCKETS columns."""
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= MAX_BUCKETS:
        raise _problem("buckets", f"buckets must be a whole number from 1 to {MAX_BUCKETS} "
                                  "(the columns the chart shows)")
    return int(text)


def parse_metrics(text: str | None) -> tuple[str, ...]:
    """The `metrics` parameter: comma-separated names of SUMMARY_FIELDS (the loss always)."""
    if not text:
        return DEFAULT_METRICS
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",")))
    unknown = [n for n in names if n not in SUMMARY_FIELDS]
    if unknown:
        raise _problem("metrics", f"unknown metric {unknown[0]!r}; choose from "
                                  f"{', '.join(SUMMARY_FIELDS)}")
    return tuple(dict.fromkeys(("loss", *names)))


def bound_history(history: dict[str, list[Any]], buckets: int,
                  metrics: tuple[str, ...]) -> dict[str, Any]:
    """A snapshot's `history` and `summary` members from a whole History (a live run's)."""
    n = len(history["step"])
    if n <= buckets:
        return {"history": history}
    cut = n - min(DEFAULT_RECENT, buckets)
    head = {k: v[:cut] for k, v in history.items()}
    return {"history": {k: v[cut:] for k, v in history.items()},
            "summary": summarize(columns_of(head, metrics), buckets)}


def bound_stored(service: RunService, run_id: str, buckets: int,
                 metrics: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    """An ended run's bounded snapshot members, read from the store (blocking)."""
    row = service.row(run_id)  # first: a final status means every step was flushed
    store = service.store
    steps = store.arrays(run_id, ())["step"]
    epochs = store.epochs(run_id)
    if len(steps) <= buckets:
        members = {"history": store.history(run_id)}
    else:
        cut = len(steps) - min(DEFAULT_RECENT, buckets)
        members = {"history": store.history_range(run_id, int(steps[cut]), int(steps[-1])),
                   "summary": summarize(store.arrays(run_id, metrics, 0, int(steps[cut - 1])),
                                        buckets)}
    return row, dumps({**members, "epochs": epochs})[1:-1]


async def bounded_snapshot(service: RunService, run_id: str, visitor: Any, buckets: int,
                           metrics: tuple[str, ...]) -> str:
    """The encoded snapshot frame of a run that is not live, bounded by `buckets`; one read
    for all the viewers asking at once, kept once the run has ended."""
    key = f"{run_id}?buckets={buckets}&metrics={','.join(metrics)}"
    row, members = await service.snapshots.members(
        key, lambda: bound_stored(service, run_id, buckets, metrics))
    if row is None:
        row = service.row(run_id)
    return f'{{"type":"snapshot","run":{dumps(service.run_json(row, visitor))},{members}}}'


async def bounded_live(frame: dict[str, Any], buckets: int, metrics: tuple[str, ...]) -> str:
    """A live run's snapshot frame (its History copied) bounded and encoded off the loop."""

    def encode() -> str:
        return dumps({**frame, **bound_history(frame["history"], buckets, metrics)})

    return await asyncio.to_thread(encode)


async def history_range(service: RunService, run_id: str, first: int, last: int | None,
                        buckets: int, metrics: tuple[str, ...]) -> dict[str, Any]:
    """`GET .../history`: the range's steps exact if at most `buckets`, else its Summary."""
    service.row(run_id)  # 404 first
    live = service.live.get(run_id)
    if live is not None:
        copy = {k: list(v) for k, v in live.history.items()}

        def read() -> tuple[list[int], Any]:
            return copy["step"], copy
    else:
        def read() -> tuple[list[int], Any]:
            return service.store.arrays(run_id, ())["step"].tolist(), None

    steps, copy = await asyncio.to_thread(read)
    if not steps or first > steps[-1]:
        end = f"its last recorded step is {steps[-1]}" if steps else "it has no recorded steps"
        raise _problem("first", f"first ({first}) is past the end of the run: {end}")
    last = steps[-1] if last is None else last
    if last < first:
        raise _problem("last", f"last ({last}) must not be before first ({first})")
    inside = [s for s in steps if first <= s <= last]

    def answer() -> dict[str, Any]:
        base = {"first": first, "last": last, "count": len(inside)}
        if copy is not None:
            lo = steps.index(inside[0]) if inside else 0
            part = {k: v[lo:lo + len(inside)] for k, v in copy.items()}
            if len(inside) <= buckets:
                return {**base, "history": part}
            return {**base, "summary": summarize(columns_of(part, metrics), buckets)}
        if len(inside) <= buckets:
            return {**base, "history": service.store.history_range(run_id, first, last)}
        return {**base, "summary": summarize(service.store.arrays(run_id, metrics, first, last),
                                             buckets)}

    try:
        return await asyncio.to_thread(answer)
    finally:
        service.trimmer.soon()  # what it read and summarized is freed
