"""The server never loads TensorFlow or Keras; the trainer's worker never loads the web stack."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT


def loaded_after_import(module: str) -> set[str]:
    """Top-level packages in sys.modules after importing `module` in a fresh interpreter."""
    code = (f"import sys, {module}; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", ["server.app", "server.__main__",
                                    "server.executors.local", "server.executors.redis"])
def test_server_loads_no_tensorflow_or_keras(module: str) -> None:
    loaded = loaded_after_import(module)
    assert "server" in loaded and "trainer" in loaded  # the import did happen
    assert not loaded & {"tensorflow", "keras", "tf_keras", "jax", "torch"}


@pytest.mark.parametrize("module", ["trainer.worker", "trainer.localworker"])
def test_trainer_workers_load_no_web_stack(module: str) -> None:
    if not (ROOT / (module.replace(".", "/") + ".py")).exists():
        pytest.skip(f"{module} is not written yet")
    loaded = loaded_after_import(module)
    assert "trainer" in loaded
    assert not loaded & {"fastapi", "starlette", "uvicorn", "server"}
