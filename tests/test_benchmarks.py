"""Every `make bench` suite runs at its small size, so a benchmark cannot break unseen (issue 18):
the quicker ones in `make test`, the others in `make test-extended` (CI runs both).

The figures at this size mean nothing; that the suite runs to the end and reports does.
"""

from __future__ import annotations

import os

import pytest

from benchmarks.__main__ import SUITES, run_suite

# The suites whose smoke run takes 20-50 s on 2 cores (class_throughput: two servers and a cold
# TensorFlow import, 3.5 min under load 8; arithmetic_optimizer: 44 s under load 7, most of it
# TensorFlow's import; classroom: 1.7-4.7 min, a server under attack with a flood of runs):
# `make test-extended` and CI run them.
EXTENDED = {"probe_overhead", "run_throughput", "first_frame", "fanout", "live_latency",
            "worker_memory", "class_throughput", "arithmetic_optimizer", "classroom"}


@pytest.mark.slow
@pytest.mark.timeout(900)  # most suites start a server with warm workers: slow on a busy machine
@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.extended) if name in EXTENDED else name
    for name in SUITES])
def test_the_suite_runs_at_its_smoke_size(name: str) -> None:
    if name == "heatmap_browser" and not os.path.exists("/usr/bin/chromium"):
        message = "Chromium not found at /usr/bin/chromium: apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # CI installs it: a skip there would hide a broken suite
        pytest.skip(message)
    figures = run_suite(name, smoke=True)
    assert figures, f"{name} reported nothing"
    for figure in figures:
        assert figure.get("bench") or figure.get("suite"), figure
        assert "skipped" not in figure and "error" not in figure, figure
