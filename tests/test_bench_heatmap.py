"""`make bench`'s heatmap_browser suite at a small size, so it cannot rot unseen: the page's own
modules (contract.js generated as the server does) load and draw in Chromium."""

from __future__ import annotations

import os

import pytest

from benchmarks import heatmap_browser

pytestmark = pytest.mark.browser


def test_the_heatmap_benchmark_runs_the_pages_modules(monkeypatch):
    if not os.path.exists(heatmap_browser.CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium not found at /usr/bin/chromium: apt-get install chromium")
        pytest.skip("Chromium not found at /usr/bin/chromium")
    # 8 layers: the script reads layer 8 (index 7), where the full size puts its spike.
    for name, value in {"LAYERS": 8, "STEPS": 600, "UPDATES": 3, "BASELINE_ROUNDS": 1}.items():
        monkeypatch.setattr(heatmap_browser, name, value)
    [figures] = heatmap_browser.run()
    assert figures["updates"] == 3 and figures["columns_drawn"] > 0
    assert figures["update_ms"] > 0 and figures["baseline_newplot_full_ms"] > 0
