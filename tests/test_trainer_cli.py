"""`python -m trainer`: the presets are listed, and a wrong preset or config gets one line and
exit code 2, never a traceback."""

import subprocess
import sys

import pytest

from tests.helpers import ROOT
from trainer.contract.presets import PRESETS


def cli(*args, stdin=""):
    return subprocess.run([sys.executable, "-m", "trainer", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_list_presets_and_help_name_every_preset():
    listed = cli("--list-presets")
    helped = cli("--help")
    assert listed.returncode == 0 and helped.returncode == 0
    for preset in PRESETS:
        assert preset["id"] in listed.stdout and preset["id"] in helped.stdout


@pytest.mark.parametrize("args, stdin, says", [
    (["--preset", "nonexistent"], "", "no preset 'nonexistent'"),
    (["--config", "-"], '{"model": {"depth": 0}}', "model.depth"),
    (["--config", "-"], "{not json", "is not JSON"),
    (["--config", "-"], '{"model": {"arch": "rnn"}}', "sequence dataset"),
    (["--config", "/nonexistent/run.json"], "", "cannot read"),
])
def test_a_bad_preset_or_config_is_one_line_and_exit_2(args, stdin, says):
    done = cli(*args, stdin=stdin)
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
