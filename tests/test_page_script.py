"""A user's own script in the page (real Chromium, real server, real Keras in a subprocess):
the run streams in with its layer names, is marked as a script's, and Stop ends its fit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import client, wait_for
from tests.pagekit import RUN_TIMEOUT_MS, trace, wait_status

pytest_plugins = ("tests.pagefixtures",)
pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["block_1/conv", "block_1/bn", "block_2/conv", "block_2/bn", "block_3/conv",
          "block_3/bn", "classifier"]


def test_a_scripts_conv_net_shows_with_its_layer_names_and_stop_ends_its_fit(
        context, page, live_server):
    page.goto("/")
    page.locator("#script-help summary").click()
    page.wait_for_function("document.getElementById('script-snippet').textContent"
                           ".includes('token=')")
    snippet = page.locator("[data-testid=script-snippet]").text_content()
    token = snippet.split('token="')[1].split('"')[0]
    script = subprocess.Popen(
        [sys.executable, "examples/watch_my_cnn.py", "--url", live_server, "--token", token,
         "--epochs", "500"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        with client(live_server) as http:
            run = wait_for(lambda: next((r for r in http.get("/api/runs").json()
                                         if r["name"] == "my digits cnn"
                                         and r["status"] == "running"), None), timeout=120)
        page.goto(f"/#run={run['id']}")
        page.wait_for_function(
            "() => { const d = document.querySelector('[data-testid=heatmap]');"
            " return d && d.data && d.data[0] && d.data[0].z[0].length > 5; }",
            timeout=RUN_TIMEOUT_MS)
        assert trace(page)["y"] == LAYERS
        assert "from a script" in page.locator("[data-testid=run-status]").text_content()
        item = page.locator(f"[data-run-id='{run['id']}']")
        assert "from a script (Functional)" in item.text_content()
        page.locator("#stop-run").click()
        wait_status(page, "stopped")
        out, err = script.communicate(timeout=60)
    finally:
        if script.poll() is None:
            script.kill()
    assert script.returncode == 0, err[-2000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["run"] == run["id"] and result["epochs"] < 500
    with client(live_server) as http:
        final = http.get(f"/api/runs/{run['id']}").json()
    assert final["status"] == "stopped" and final["error"] == "stopped by its owner"
    assert [layer["name"] for layer in final["layers"]] == LAYERS
    assert page.console.errors == []
