"""`pip install .` into a fresh venv gives a working `gradwatch` command and package.

Cheap on purpose: the new venv sees the shared venv's installed dependencies through a .pth
file and installs GradWatch alone (`--no-deps`, no build isolation), so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port, wait_for

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _sh(*args: str | Path, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300,
                          check=True, **kwargs)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A copy of the repository (a build writes build/ and *.egg-info next to the sources)."""
    copy = tmp_path_factory.mktemp("src") / "gradwatch"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".venv", "data", ".git", "__pycache__", "build", "*.egg-info", "test-artifacts",
        ".hypothesis", ".pytest_cache", ".ruff_cache"))
    return copy


@pytest.fixture(scope="module")
def installed(tmp_path_factory, source):
    """A fresh venv with `pip install .` done; yields its bin directory."""
    home = tmp_path_factory.mktemp("pkg")
    venv.EnvBuilder(with_pip=False).create(home / "venv")
    bin_dir = home / "venv" / "bin"
    site = _sh(bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    Path(site.stdout.strip(), "shared.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _sh(bin_dir / "python", "-m", "pip", "install", "--no-deps", "--no-build-isolation",
        "--quiet", str(source), cwd=home, env={**os.environ, "PIP_NO_INPUT": "1"})
    return bin_dir


def test_the_gradwatch_command_serves_the_dashboard_from_the_installed_copy(installed, tmp_path):
    where = _sh(installed / "python", "-c", "import gradwatch, server, trainer; "
                "print(gradwatch.__file__, server.__file__)", cwd=tmp_path)
    assert "site-packages" in where.stdout and str(ROOT) not in where.stdout
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADWATCH_")}
    proc = subprocess.Popen([installed / "gradwatch", "serve", "--port", str(port),
                             "--data-dir", tmp_path / "data"], cwd=tmp_path,
                            env={**env, "GRADWATCH_WORKERS": "0"}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        def up():
            try:
                return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=60)
        page = httpx.get(f"{url}/")
        assert page.status_code == 200 and 'data-testid="heatmap"' in page.text
        assert httpx.get(f"{url}/static/main.js").status_code == 200
        assert any(p["id"] == "vanishing-cnn" for p in httpx.get(f"{url}/api/presets").json())
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_gradwatch_run_trains_a_config_in_the_terminal(installed, tmp_path):
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"dataset": {"name": "digits", "n_samples": 64},
                                  "model": {"arch": "cnn", "depth": 2, "width": 4},
                                  "training": {"epochs": 1, "batch_size": 32}}))
    done = _sh(installed / "gradwatch", "run", "--config", config, cwd=tmp_path)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[-1] == {"type": "finished", "status": "completed", "error": None}
    assert sum("grad_norms" in line for line in lines) == 2


def test_the_callbacks_side_does_not_require_the_web_server(installed):
    meta = _sh(installed / "python", "-c", "from importlib.metadata import requires; "
               "print('\\n'.join(requires('gradwatch')))")
    base = [r for r in meta.stdout.splitlines() if "extra ==" not in r]
    assert not any(name in " ".join(base) for name in ("fastapi", "uvicorn", "redis"))
    assert any(r.startswith("keras") for r in base)
    server = [r for r in meta.stdout.splitlines() if 'extra == "server"' in r]
    assert any(r.startswith("fastapi") for r in server)


def test_the_wheel_holds_every_package_and_the_page(tmp_path, source):
    _sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
        "-w", tmp_path, source, cwd=tmp_path)
    import zipfile

    [wheel] = tmp_path.glob("gradwatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {str(p.parent.relative_to(ROOT)) for top in ("gradwatch", "trainer", "server")
                for p in (ROOT / top).rglob("__init__.py")}
    assert {f"{p}/__init__.py" for p in packages} <= names
    assert "gradwatch/frontend/index.html" in names and "gradwatch/frontend/main.js" in names
