"""ReplayFilter: the one layer that drops what a source delivers twice (worker streams at least
once, resumed streams, scripts posting a batch again)."""

from __future__ import annotations

from server.executors.replay import ReplayFilter, StoredTail
from server.runevents import HANDLERS


def steps(*numbers: int) -> dict:
    return {"type": "metrics", "items": [{"step": n} for n in numbers]}


def test_steps_and_epochs_pass_once_and_a_stored_tail_is_not_replayed() -> None:
    replay = ReplayFilter(StoredTail(step=4, epoch=0), running=True)
    assert replay.admit({"type": "dispatched"}) is None  # running already
    assert replay.admit(steps(3, 4)) is None
    assert replay.admit(steps(4, 5, 6)) == steps(5, 6)
    assert replay.admit(steps(5, 6)) is None
    assert replay.admit({"type": "epoch", "epoch": 0}) is None
    assert replay.admit({"type": "epoch", "epoch": 1}) == {"type": "epoch", "epoch": 1}
    assert replay.admit({"type": "epoch", "epoch": 1}) is None
    assert replay.admit({"type": "finished"}) == {"type": "finished"}


def test_a_new_run_is_dispatched_once() -> None:
    replay = ReplayFilter()
    assert replay.admit({"type": "dispatched", "worker": "w"}) is not None
    assert replay.admit({"type": "dispatched", "worker": "w"}) is None
    assert replay.admit(steps(0)) == steps(0)


def test_every_event_type_has_its_handler() -> None:
    assert set(HANDLERS) == {"dispatched", "started", "metrics", "epoch", "diagnosis",
                             "position", "finished"}
