"""``[tool.gatekeeper.worktree] setup`` runs with the interpreter that runs gatekeeper first on
PATH (its scripts directory, ``VIRTUAL_ENV`` when it is a venv), until a step makes the
worktree's own virtual environment: the steps after it use that one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.setup_environment import setup_environment
from tests.conftest import make_project

Gk = Callable[..., subprocess.CompletedProcess[str]]

PYTHON_STEP = 'python -c \'import psycopg, sys; open("python.txt", "w").write(sys.prefix)\''
PIP_STEP = "pip --version > pip.txt"
VENV_STEP = "python -m venv --without-pip own"
AFTER_VENV = 'python -c \'import sys; open("after.txt", "w").write(sys.prefix)\''


def config(steps: list[str]) -> str:
    return (
        "\n[tool.gatekeeper.worktree]\n"
        f"setup = {json.dumps(steps)}\n"
        'location = "../{repo}-wt/{name}"\n'
    )


def not_activated() -> dict[str, str]:
    """A shell where no venv was ever activated: system dirs on PATH, no VIRTUAL_ENV."""
    return {"PATH": os.pathsep.join(("/usr/local/bin", "/usr/bin", "/bin")), "VIRTUAL_ENV": ""}


def test_setup_steps_run_the_interpreter_that_runs_gatekeeper(tmp_path: Path, gk: Gk) -> None:
    root = make_project(tmp_path / "proj", gatekeeper=config([PYTHON_STEP, PIP_STEP]))
    made = gk(root, "worktree", "new", "w", env=not_activated())
    assert made.returncode == 0, made.stderr
    tree = tmp_path / "proj-wt" / "w"
    assert (tree / "python.txt").read_text() == sys.prefix
    # pip reports the site-packages it installs into: this interpreter's.
    assert f" from {sys.prefix}{os.sep}" in (tree / "pip.txt").read_text()


def test_a_venv_made_by_a_step_comes_first_for_the_steps_after_it(tmp_path: Path, gk: Gk) -> None:
    root = make_project(tmp_path / "proj", gatekeeper=config([VENV_STEP, AFTER_VENV]))
    made = gk(root, "worktree", "new", "w", env=not_activated())
    assert made.returncode == 0, made.stderr
    tree = (tmp_path / "proj-wt" / "w").resolve()
    assert Path((tree / "after.txt").read_text()) == tree / "own"


def test_the_environment_puts_this_interpreter_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIRTUAL_ENV", "/some/other/venv")
    monkeypatch.setenv("PYTHONHOME", "/some/other/home")
    monkeypatch.setenv("GIT_DIR", "/elsewhere")  # as inside a git hook
    env = setup_environment({"X": "1"})
    first = env["PATH"].split(os.pathsep)[0]
    assert Path(first) == Path(sys.executable).parent
    assert env["X"] == "1" and "GIT_DIR" not in env and "PYTHONHOME" not in env
    assert env.get("VIRTUAL_ENV") == (sys.prefix if sys.prefix != sys.base_prefix else None)
    own = Path("/wt/.venv")
    mine = setup_environment({}, venv=own)
    assert mine["PATH"].split(os.pathsep)[0] == str(own / "bin")
    assert mine["VIRTUAL_ENV"] == str(own)
