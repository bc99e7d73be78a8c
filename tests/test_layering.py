"""Layering: the server never loads TensorFlow or Keras and takes from trainer/ only its TF-free
contract package; the trainer's worker never loads the web stack; no module imports in a cycle.

The static checks read every import statement with the AST, lazy imports inside functions and
`if TYPE_CHECKING:` blocks included, so an import that runs only on some path cannot slip by.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT

CONTRACT = "trainer.contract"
# What the contract may import besides itself: the standard library and these.
CONTRACT_MAY_IMPORT = {"pydantic", "pydantic_core", "msgspec", "annotated_types",
                       "typing_extensions"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(path: Path) -> Iterator[tuple[str, int]]:
    """Every module `path` imports, anywhere in it, as (dotted name, line).

    `from a import b` yields both `a` and `a.b` (b may be a module), relative imports are made
    absolute, and `importlib.import_module("x")` with a literal name counts as an import of x.
    """
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                stem = package[:len(package) - node.level + 1]
                base = ".".join(stem + ([base] if base else []))
            yield base, node.lineno
            for alias in node.names:
                if alias.name != "*":
                    yield f"{base}.{alias.name}", node.lineno
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            yield node.args[0].value, node.lineno


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package.replace(".", "/")).rglob("*.py"))


def test_the_checker_sees_lazy_relative_and_from_imports(tmp_path: Path) -> None:
    probe = ROOT / "server" / "_layering_probe.py"
    probe.write_text("def f():\n    from trainer import job\n    from . import hub\n"
                     "    import importlib\n    importlib.import_module('keras')\n")
    try:
        names = {name for name, _ in imported_names(probe)}
    finally:
        probe.unlink()
    assert {"trainer", "trainer.job", "server.hub", "keras"} <= names


def in_contract(name: str) -> bool:
    return name == CONTRACT or name.startswith(CONTRACT + ".")


def test_server_imports_only_the_contract_from_trainer() -> None:
    # `trainer` alone is the empty package __init__ (`from trainer import x` also yields trainer.x)
    bad = [f"{path.relative_to(ROOT)}:{line} imports {name}"
           for path in sources("server") for name, line in imported_names(path)
           if name.split(".")[0] == "trainer" and name != "trainer" and not in_contract(name)]
    assert not bad, bad


def test_the_contract_imports_only_the_standard_library_pydantic_and_msgspec() -> None:
    assert sources(CONTRACT), "the contract package is missing"
    bad = [f"{path.relative_to(ROOT)}:{line} imports {name}"
           for path in sources(CONTRACT) for name, line in imported_names(path)
           if not (in_contract(name) or name == "trainer"
                   or name.split(".")[0] in sys.stdlib_module_names | CONTRACT_MAY_IMPORT)]
    assert not bad, bad


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
    loaded = loaded_after_import(module)
    assert "trainer" in loaded
    assert not loaded & {"fastapi", "starlette", "uvicorn", "server"}


def import_graph(*packages: str) -> dict[str, set[str]]:
    """Module → the modules of `packages` it imports (anywhere in it, lazy imports included)."""
    modules = {module_name(path): path for package in packages for path in sources(package)}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        graph[module] = set()
        for name, _ in imported_names(path):
            while name and name not in modules:  # `from a.b import f`: the module a.b
                name = name.rpartition(".")[0]
            if name and name != module:
                graph[module].add(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of a graph: its strongly connected parts of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("package", ["server", "trainer"])
def test_no_module_imports_in_a_cycle(package: str) -> None:
    assert cycles(import_graph(package)) == []
