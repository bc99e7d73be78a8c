"""The page's JS unit tests (frontend/tests/*.test.js) under `node --test`, as part of `make test`.

The page's modules import without a page, so node runs them directly; their ./contract.js,
which the server generates, is generated here the same way (frontend/tests/contract-hook.js).
Without node the tests skip, but under CI=true that is a failure, as for Chromium and Redis.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.helpers import ROOT
from trainer.contract import pagecontract

FRONTEND = ROOT / "frontend"
TESTS = FRONTEND / "tests"
NODE_AT_LEAST = (18, 19)  # module.register and mock timers
# Modules that draw or wire the page: the browser tests (tests/test_page*.py) cover them.
DRAWN_IN_THE_BROWSER = {"charts", "form", "heatmap", "join", "main", "plots", "refs",
                        "replaybar", "runs", "summary", "teacher", "theme", "view", "why"}


def node_binary() -> str:
    """node, new enough; skips without it, but fails under CI=true."""
    node = shutil.which("node")
    version = None
    if node:
        text = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
        version = tuple(int(part) for part in re.findall(r"\d+", text)[:2])
    if version and version >= NODE_AT_LEAST:
        return node
    message = (f"node {'.'.join(map(str, NODE_AT_LEAST))} or newer is needed for the page's JS "
               f"unit tests (found {'none' if not node else '.'.join(map(str, version or ()))}; "
               "Debian: apt-get install nodejs; .ci/run installs it)")
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def test_every_module_that_does_not_draw_has_its_unit_tests():
    modules = {p.stem for p in FRONTEND.glob("*.js")}
    tested = {p.name.removesuffix(".test.js") for p in TESTS.glob("*.test.js")}
    assert modules - DRAWN_IN_THE_BROWSER - {"contract"} <= tested
    assert {"state", "columns", "series", "decimate", "colours", "schema"} <= tested


def test_every_module_is_type_checked_by_make_lint():
    # why.js, summary.js and refs.js are being changed for another issue; they join then.
    pending = {"why", "summary", "refs"}
    unchecked = {p.stem for p in FRONTEND.glob("*.js")
                 if not p.read_text().startswith("// @ts-check\n")}
    assert unchecked <= pending


def test_the_pages_modules_pass_their_unit_tests(tmp_path):
    node = node_binary()
    contract = tmp_path / "contract.js"
    contract.write_text(pagecontract.render())
    env = {**os.environ, "GRADWATCH_CONTRACT_JS": str(contract)}
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", "--import", "./frontend/tests/contract-hook.js",
         *sorted(str(p.relative_to(ROOT)) for p in TESTS.glob("*.test.js"))],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    passed = re.search(r"^# pass (\d+)$", output, re.M)
    assert passed and int(passed[1]) >= 50, output
    assert re.search(r"^# fail 0$", output, re.M), output
