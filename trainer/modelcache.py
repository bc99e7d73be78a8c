"""A worker's cache of built, compiled and traced models, so that a run of a graph it has
trained before starts without building or tracing.

In a class, many students start the same few presets with another seed, learning rate or
initializer: the graph is the same (`trainer.models.graph_key`), so the model traced for one
run trains the next after `trainer.models.prepare` re-initializes it. A run takes its model out
of the cache while it trains and gives it back when it ends well; least recently used models
leave first, past a count or an estimate of their memory.

Settings (environment, read by the worker processes): `GRADWATCH_MODEL_CACHE` models kept
(default 8; 0 turns the cache off) and `GRADWATCH_MODEL_CACHE_MIB` their memory (default 256).
Off unless a worker configures it: `run_job` called on its own builds every model afresh.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

DEFAULT_COUNT = 8
DEFAULT_MIB = 256.0
# A traced model costs far more than its weights: the train step's graphs (forward, backward,
# optimizer and probe ops, a few MB for a 10-layer net here) and Keras's layer objects.
BASE_MIB = 4.0
MIB_PER_LAYER = 0.5


@dataclass
class _Entry:
    model: Any
    mib: float


@dataclass
class ModelCache:
    """Models by graph key, most recently used last; bounded by `count` and `mib`."""

    count: int = 0
    mib: float = 0.0
    entries: OrderedDict[str, _Entry] = field(default_factory=OrderedDict)
    hits: int = 0
    misses: int = 0
    evictions: int = 0

    @property
    def enabled(self) -> bool:
        """Whether models are kept at all."""
        return self.count > 0 and self.mib > 0

    def take(self, key: str) -> Any | None:
        """The cached model for `key`, taken out until `give_back`; None on a miss."""
        if not self.enabled:
            return None
        entry = self.entries.pop(key, None)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        return entry.model

    def give_back(self, key: str, model: Any) -> None:
        """Keep `model` (after a run that ended well) as the most recently used one."""
        if not self.enabled:
            return
        self.entries[key] = _Entry(model, estimate_mib(model))
        self.entries.move_to_end(key)
        while self.entries and (len(self.entries) > self.count or self.used_mib > self.mib):
            self.entries.popitem(last=False)
            self.evictions += 1

    @property
    def used_mib(self) -> float:
        """The estimated memory of the models kept."""
        return sum(entry.mib for entry in self.entries.values())

    def clear(self) -> None:
        """Forget every model."""
        self.entries.clear()

    def stats(self) -> dict[str, Any]:
        """Hits, misses, evictions, models kept and their estimated memory."""
        return {"hits": self.hits, "misses": self.misses, "evictions": self.evictions,
                "models": len(self.entries), "mib": round(self.used_mib, 1)}


def estimate_mib(model: Any) -> float:
    """A model's memory in the cache: its weights and optimizer slots, and its graphs' cost
    (measured by the worker_memory benchmark: see docs/performance.md)."""
    values = sum(int(v.numpy().size) for v in model.variables)
    slots = sum(int(v.numpy().size) for v in model.optimizer.variables)
    return BASE_MIB + MIB_PER_LAYER * len(model.layers) + 4 * (values + slots) / 2**20


CACHE = ModelCache()


def configure(count: int, mib: float) -> None:
    """Set this process's cache bounds (0 for either turns it off, dropping what it holds)."""
    CACHE.count, CACHE.mib = count, mib
    if not CACHE.enabled:
        CACHE.clear()


def configure_from_env() -> None:
    """A worker's cache from GRADWATCH_MODEL_CACHE and GRADWATCH_MODEL_CACHE_MIB."""
    count = os.environ.get("GRADWATCH_MODEL_CACHE") or DEFAULT_COUNT
    mib = os.environ.get("GRADWATCH_MODEL_CACHE_MIB") or DEFAULT_MIB
    configure(int(count), float(mib))
