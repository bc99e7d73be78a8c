"""`make bench`'s worker_memory and preset_runs suites at a small size (they cannot rot)."""

import pytest

from benchmarks import worker_memory

# Each trains a dozen runs (about 50 s on 2 cores): `make test-extended` and CI run them.
pytestmark = [pytest.mark.slow, pytest.mark.extended]


def test_the_suite_reports_hits_and_misses_with_the_cache_on():
    off, on = worker_memory.run(runs=5)
    assert off["cache"] == "off" and off["runs"] == 5
    # Runs 0-2 and 4 trace their graphs (3, 4, 5 and 6 layers); run 3 finds its own.
    assert (on["hits"], on["misses"]) == (1, 4)
    assert on["cache_estimate_mib"] > 0


def test_the_preset_runs_suite_finds_the_second_round_warm():
    from benchmarks import preset_runs

    off, on, ratios = preset_runs.run(per_preset=2, epochs=1)
    assert off["hits"] == 0 and on["hits"] == 3  # the second student of each preset
    assert on["runs"] == off["runs"] == 6
    assert ratios["runs_per_cpu_minute_on_over_off"] > 0
