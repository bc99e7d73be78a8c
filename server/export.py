"""A run's History as a download, JSON or CSV, streamed a page of steps at a time.

The downloads hold every recorded step, so they are as large as the run: they are written from
pages of the history (read from the store, or sliced from a live run's copy) by a generator
that Starlette drives in its thread pool, so neither the whole text nor its building ever sits
on the event loop. The bytes are those of the whole History encoded at once.

CSV: one row per recorded step; columns step, epoch, loss, t, then `grad_norm[<layer>]` etc.
for each per-layer metric present, a column per layer.
"""

from __future__ import annotations

import asyncio
import csv
import io
import math
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import anyio

from trainer.contract.protocol import LAYER_FIELDS, SCALAR_FIELDS, SEQUENCE_FIELDS, dumps

History = dict[str, list[Any]]
# Pages of a History, in step order; `fields` asks for those fields only (others may be left
# out of each page). Called once per pass over the history.
Pages = Callable[[tuple[str, ...]], Iterable[History]]
Widths = Callable[[], dict[str, int]]
PAGE_STEPS = 1000
HISTORY_FIELDS = SCALAR_FIELDS + LAYER_FIELDS + SEQUENCE_FIELDS
# Downloads written at once. Writing one is Python work that holds the GIL; with one writer
# thread the event loop waits at most a switch interval (5 ms) for it each time it needs the
# GIL, with four it waited hundreds of ms (issue 12, B3). Several downloads take turns a piece
# at a time.
WRITERS = 1
_writers: weakref.WeakKeyDictionary[Any, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


async def off_loop(pieces: Iterator[str],
                   after: Callable[[], None] | None = None) -> AsyncIterator[str]:
    """The pieces of a download, each made in a worker thread, WRITERS downloads at a time;
    `after` is called once it is written or abandoned (e.g. to give its memory back)."""
    loop = asyncio.get_running_loop()  # a limiter belongs to one event loop
    limiter = _writers.get(loop) or _writers.setdefault(loop, anyio.CapacityLimiter(WRITERS))
    done = object()
    try:
        while (piece := await anyio.to_thread.run_sync(next, pieces, done, limiter=limiter)) \
                is not done:
            yield piece
    finally:
        if after is not None:
            after()


def memory_pages(history: History, page: int = PAGE_STEPS) -> Pages:
    """Pages of a History held in memory (a live run's copy)."""

    def pages(fields: tuple[str, ...]) -> Iterator[History]:
        for start in range(0, len(history["step"]), page):
            yield {f: history[f][start:start + page] for f in fields}

    return pages


def history_json(pages: Pages) -> Iterator[str]:
    """The History's JSON text (CONTRACT §5) in pieces, field by field, a page at a time."""
    for n, field in enumerate(HISTORY_FIELDS):
        yield ("{" if n == 0 else ",") + dumps(field) + ":["
        first = True
        for page in pages((field,)):
            if page[field]:
                yield ("" if first else ",") + dumps(page[field])[1:-1]
                first = False
        yield "]"
    yield "}"


def _cell(value: Any) -> Any:
    # Empty for missing and non-finite values, as the JSON export has null for them.
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return value


def widths_of(pages: Pages) -> dict[str, int]:
    """Per list field present in the pages, its widest row (a pass over the pages)."""
    out: dict[str, int] = {}
    for page in pages(LAYER_FIELDS):
        for f in LAYER_FIELDS:
            for row in page[f]:
                if row is not None:
                    out[f] = max(out.get(f, 0), len(row))
    return out


def history_csv(pages: Pages, layers: list[dict[str, Any]],
                widths: Widths | None = None) -> Iterator[str]:
    """The CSV text in pieces, a page of rows each (the header first).

    Args:
        pages: the History's pages.
        layers: the run's layers; a column is named after its layer, or its index if unknown.
        widths: per list field present, its widest row, if known cheaper than by reading
            every page (the store reads it from its chunks' headers).
    """
    known = widths() if widths is not None else widths_of(pages)
    present = [f for f in LAYER_FIELDS if f in known]
    width = max((known[f] for f in present), default=0)
    n_layers = max(len(layers), width)
    names = [layers[i]["name"] if i < len(layers) else str(i) for i in range(n_layers)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*SCALAR_FIELDS,
                     *(f"{f.removesuffix('s')}[{name}]" for f in present for name in names)])
    yield out.getvalue()  # the header alone first: the download starts at once
    out.seek(0)
    out.truncate()
    for page in pages(SCALAR_FIELDS + tuple(present)):
        for i in range(len(page["step"])):
            row = [_cell(page[f][i]) for f in SCALAR_FIELDS]
            for f in present:
                values = page[f][i] or []
                row += [_cell(values[j]) if j < len(values) else "" for j in range(n_layers)]
            writer.writerow(row)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()

