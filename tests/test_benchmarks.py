"""Every `make bench` suite runs at its small size in `make test`, so a benchmark cannot break
unseen (issue 18).

The figures at this size mean nothing; that the suite runs to the end and reports does. Most
suites start a real server with warm workers, so each takes 10-60 s on 2 cores (classroom, a
server under attack with a flood of runs, up to a few minutes on a busy machine).
"""

from __future__ import annotations

import os

import pytest

from benchmarks.__main__ import SUITES, run_suite


@pytest.mark.slow
@pytest.mark.timeout(900)  # most suites start a server with warm workers: slow on a busy machine
@pytest.mark.parametrize("name", list(SUITES))
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
