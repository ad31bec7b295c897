"""What installing pytest-gatekeeper does to an environment's plain pytest sessions: nothing.

No dependency may bring a pytest plugin of its own (every session would load it), and the
editable install this project's own README uses must not break projects whose pytest turns
warnings into errors.
"""

from __future__ import annotations

from pathlib import Path

from gatekeeper.extras import installed_closure
from tests.conftest import make_project
from tests.gate_runs import run_module

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
