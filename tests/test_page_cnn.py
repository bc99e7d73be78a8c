"""A conv net from the form (issue 14, `model.arch: "cnn"`): its preset fills the form, the run
trains over the digits as 8×8 images, and the heatmap's rows are its convolutions by name.

Real Chromium, the real server (`live_server`, one worker), real Keras training of a small
version of the preset.
"""

from __future__ import annotations

import pytest

from tests.pagekit import field, hash_state, wait_form, wait_heatmap_rows, wait_status

pytest_plugins = ("tests.pagefixtures",)
pytestmark = pytest.mark.browser

DEPTH = 3  # the preset's 20 convolutions, shrunk so the test trains in seconds


def test_a_conv_net_preset_runs_from_the_form_with_its_convolutions_as_rows(page, context):
    preset = "fixed-cnn-residual"  # the plain one's training is tested in tests/test_presets.py
    page.goto("/")
    wait_form(page)
    page.select_option('[data-testid="preset"]', preset)
    arch = field(page, "model.arch").evaluate("s => s.selectedOptions[0].dataset.value")
    assert arch == "cnn"
    field(page, "model.depth").fill(str(DEPTH))
    field(page, "training.epochs").fill("1")
    page.click('[data-testid="start-run"]')
    page.wait_for_function("location.hash.includes('run=')")
    run_id = hash_state(page)["run"]
    wait_status(page, "completed")

    run = context.request.get(f"/api/runs/{run_id}").json()
    assert run["config"]["model"]["arch"] == "cnn"
    names = [layer["name"] for layer in run["layers"]]
    convs = [layer for layer in run["layers"] if layer["kind"] == "Conv2D"]
    assert len(convs) == DEPTH and names[-1] == "output"
    wait_heatmap_rows(page, "heatmap", len(names))
    rows = page.evaluate("document.querySelector('[data-testid=heatmap]').data[0].y")
    assert rows == names  # the page labels each row with the layer's own name
    assert page.console.errors == []
