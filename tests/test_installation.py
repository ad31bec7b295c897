"""What installing pytest-gatekeeper does to an environment's plain pytest sessions: nothing.

No dependency may bring a pytest plugin of its own (every session would load it), and the
editable install this project's own README uses must not break projects whose pytest turns
warnings into errors.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from gatekeeper.extras import installed_closure
from tests.conftest import make_project
from tests.gate_runs import run_module
from tests.sources import ROOT, callee, calls, first_literal, library_modules

DISTRIBUTION = "pytest-gatekeeper"


def test_no_dependency_brings_a_pytest_plugin() -> None:
    # httpx did: anyio's plugin then loaded in every plain pytest session (a trivial one took
    # about twice as long). HTTP clients come with the github and neon extras instead.
    core = [d for d in installed_closure(DISTRIBUTION) if d.name != DISTRIBUTION]
    assert {"pytest", "ruff"} <= {d.name for d in core}  # the walk did find the dependencies
    plugins = {
        f"{d.name}: {entry.value}"
        for d in core
        for entry in d.entry_points
        if entry.group == "pytest11"
    }
    assert not plugins


def test_plain_pytest_runs_a_project_that_turns_warnings_into_errors(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    # With the editable install of this environment (pip install -e .): an import hook module
    # imported at interpreter start made pytest warn in every session that it could not rewrite
    # it, and filterwarnings = error turned that into a crash before any test ran.
    root = make_project(tmp_path / "p")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'filterwarnings = ["error"]\n')
    done = run_module(root, child_env, "pytest", "-q", "-p", "no:cacheprovider")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


# How the library reaches a dependency without importing it: a tool run as `python -m NAME`.
RUNS_MODULE = frozenset({"require_module", "python_module", "import_module"})


def test_every_declared_dependency_is_used() -> None:
    # GitPython was declared and never imported: every installation paid for it for nothing.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        _normal(re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0]) for r in project["dependencies"]
    }
    modules: dict[str, set[str]] = {}
    for module, distributions in metadata.packages_distributions().items():
        for distribution in distributions:
            modules.setdefault(_normal(distribution), set()).add(module)
    used = _used_modules()
    unused = sorted(name for name in declared if not modules.get(name, set()) & used)
    assert unused == [], f"declared in pyproject.toml, never imported or run: {unused}"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _used_modules() -> set[str]:
    """The top-level modules the library imports, or runs by module name."""
    used: set[str] = set()
    for _, tree in library_modules():
        used.update(_imported(tree))
        for call in calls(tree):
            name = first_literal(call)
            if callee(call) in RUNS_MODULE and name:
                used.add(name.partition(".")[0])
    return used


def _imported(tree: ast.Module) -> Iterator[str]:
    """The top-level modules ``tree`` imports (relative imports left out)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module.partition(".")[0]
