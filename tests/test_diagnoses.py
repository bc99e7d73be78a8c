"""The diagnosis as it changed during a run (`GET /api/runs/{id}/diagnoses`), which replay shows
at the step it has reached (issue 13): real training, a real server, SQLite across a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import client, run_server, wait_for
from trainer.contract.presets import PRESETS_BY_ID

pytestmark = pytest.mark.slow


def _vanishing() -> dict:
    """The 10-layer sigmoid preset on less data: unknown at first, vanishing once it has
    enough steps, re-said at each epoch's end."""
    config = PRESETS_BY_ID["vanishing-sigmoid"]["config"]
    return {**config, "dataset": {**config["dataset"], "n_samples": 600},
            "training": {**config["training"], "epochs": 3}}


def test_the_diagnoses_of_a_run_are_kept_with_their_step_and_outlive_a_restart(
        tmp_path: Path) -> None:
    with run_server(tmp_path) as url, client(url) as http:
        run = http.post("/api/runs", json=_vanishing()).json()
        rid = run["id"]
        done = wait_for(lambda: (r := http.get(f"/api/runs/{rid}").json())["status"]
                        not in ("queued", "running") and r, timeout=180)
        assert done["status"] == "completed", done["error"]
        last_step = done["progress"]["step"] - 1
        answer = http.get(f"/api/runs/{rid}/diagnoses").json()
        timeline = answer["diagnoses"]
        assert answer["run_id"] == rid
        steps = [d["step"] for d in timeline]
        assert steps == sorted(set(steps)) and steps[0] >= 0 and steps[-1] <= last_step
        assert len(timeline) >= 3  # at least one at each epoch's end
        assert timeline[-1]["diagnosis"] == done["diagnosis"]
        states = [d["diagnosis"]["state"] for d in timeline]
        assert states[-1] == "vanishing" and "vanishing" in states
        assert http.get("/api/runs/nope/diagnoses").status_code == 404
        cookies = http.cookies  # the owner's, to delete it after the restart

    with run_server(tmp_path) as url, client(url, cookies=cookies) as http:  # from the file
        assert http.get(f"/api/runs/{rid}/diagnoses").json()["diagnoses"] == timeline
        assert http.delete(f"/api/runs/{rid}").status_code == 204
        assert http.get(f"/api/runs/{rid}/diagnoses").status_code == 404
