"""The limits on how many runs a visitor, and everyone, may have waiting or training."""

from __future__ import annotations

from server.errors import TooMany
from server.identity import Visitor
from server.store import RunStore


def check_active(store: RunStore, visitor: Visitor, limit: int) -> None:
    """TooMany if the visitor (the admin excepted) has `limit` runs queued or running."""
    if not visitor.admin and store.count_active(visitor.id) >= limit:
        raise TooMany(f"you already have {limit} runs queued or running, the most one "
                      "visitor may have; stop one or wait for one to finish", retry_after=15)


def check_queue(store: RunStore, limit: int) -> None:
    """TooMany if `limit` runs are waiting for a worker."""
    if store.count_queued() >= limit:
        raise TooMany(f"the queue is full ({limit} runs waiting); try again in a minute",
                      retry_after=60)
