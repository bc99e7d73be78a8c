"""The limits on how many runs a visitor, and everyone, may have waiting or training.

A full queue does not shut out a newcomer: a visitor with nothing waiting takes the place of
the newest waiting run of whoever has the most runs waiting (as long as that is more than one),
so a script that queues the whole queue under many cookies cannot deny a classmate.
docs/hosting.md ("Fair shares") explains the policy.
"""

from __future__ import annotations

from collections import Counter

from server.errors import TooMany
from server.identity import Visitor
from server.store import RunStore

EVICTED = ("taken out of the full queue to make room for a classmate's first run: you had "
           "{n} runs waiting, the most of anyone; start it again when one of them is done")


def check_active(store: RunStore, visitor: Visitor, limit: int) -> None:
    """TooMany if the visitor (the admin excepted) has `limit` runs queued or running."""
    if not visitor.admin and store.count_active(visitor.id) >= limit:
        raise TooMany(f"you already have {limit} runs queued or running, the most one "
                      "visitor may have; stop one or wait for one to finish", retry_after=15)


def make_room(waiting: list[tuple[str, str]], visitor: Visitor,
              limit: int) -> tuple[str, str] | None:
    """Admit the visitor's run to a queue of `limit` places, or raise TooMany.

    Args:
        waiting: (run_id, owner) of the runs waiting for a worker, oldest first.
        visitor: who asks to queue a run.
        limit: the queue's places (`max_queue`).

    Returns:
        None when there is a free place; when the queue is full and the visitor has nothing
        waiting, (run_id, reason) of the run to stop to make room: the newest waiting run of
        the visitors with the most runs waiting (more than one).
    """
    if len(waiting) < limit:
        return None
    per_owner = Counter(owner for _, owner in waiting)
    if per_owner[visitor.id] == 0:
        n = max(per_owner.values())
        if n > 1:
            newest = next(r for r, owner in reversed(waiting) if per_owner[owner] == n)
            return newest, EVICTED.format(n=n)
    raise TooMany(f"the queue is full ({len(waiting)} runs waiting); try again in a minute",
                  retry_after=60)
