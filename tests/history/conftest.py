"""A sample floor: one repository, three worktrees, and a scripted history of gate runs.

Today's runs are real gates (``pytest --gatekeeper`` and ``gatekeeper run`` in the worktrees):
a failure that passes on a retry of the same tree (a flaky test), its cached rerun, and a lint
failure. The days before are written through the store's own API with their times, so the
figures span several days.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.history.model import CheckRun, Run
from gatekeeper.history.store import Store, path_in
from tests.conftest import git, make_project

GATE = '\n[tool.gatekeeper]\nchecks = ["tests", "lint"]\n'
# Fails the first time it runs, passes after: the marker lives outside the worktree, so the
# tree (the content judged) is the same both times.
FLIP_TEST = """\
import os
from pathlib import Path


def test_flip() -> None:
    marker = Path(os.environ["FLOOR_FLIP"])
    first = not marker.exists()
    marker.touch()
    assert not first, "fails the first time only"
"""
DAY = 86400.0


@dataclass(frozen=True)
class Floor:
    """The sample: its worktrees by name, the environment its gates ran in, and when."""

    main: Path
    feature_a: Path
    feature_b: Path
    env: dict[str, str]
    built: float

    @property
    def store(self) -> Path:
        return path_in(self.main / ".git")


def floor_env(state: Path) -> dict[str, str]:
    """A child's environment: this venv first on PATH, no variables of a surrounding run."""
    drop = ("PYTEST_", "GATEKEEPER_", "GIT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["GATEKEEPER_STATE_DIR"] = str(state)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def gate(cwd: Path, env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    """A real gate run in ``cwd``: ``pytest --gatekeeper`` unless ``command`` says otherwise."""
    argv = list(command) or [sys.executable, "-m", "pytest", "--gatekeeper"]
    return subprocess.run(
        [*argv, "-p", "no:cacheprovider", "-q"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def status(floor: Floor, *args: str) -> subprocess.CompletedProcess[str]:
    """``gatekeeper status ARGS`` in the floor's main checkout."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "gatekeeper"), "status", *args],
        cwd=floor.main,
        env=floor.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def past_run(worktree: Path, branch: str, days_ago: float, verdict: str, **fields: Any) -> Run:
    """A run written as if it had finished ``days_ago`` days before now."""
    failed = verdict != "passed"
    checks = (
        CheckRun("tests", "failed" if failed else "passed", 3.0, int(failed), False),
        CheckRun("lint", "passed", 1.0, 0, False),
    )
    run = Run(
        finished=time.time() - days_ago * DAY,
        entry="pytest",
        worktree=str(worktree.resolve()),
        branch=branch,
        head=None,
        tree=f"tree-{branch}-{days_ago}",
        base="main",
        verdict=verdict,
        duration=4.0,
        cached=False,
        whole_suite=True,
        checks=checks,
    )
    return replace(run, **fields)


def build(root: Path) -> Floor:
    """The sample floor under ``root`` (see the module docstring)."""
    main = make_project(root / "main", {"notes.txt": "the plan\n"}, GATE)
    feature_a, feature_b = root / "feature-a", root / "feature-b"
    git(main, "worktree", "add", "-q", "-b", "feature-a", str(feature_a))
    git(main, "worktree", "add", "-q", "-b", "feature-b", str(feature_b))
    (feature_a / "tests" / "test_flip.py").write_text(FLIP_TEST)
    (feature_a / "notes.txt").write_text("plan A\n")
    git(feature_a, "add", "-A")
    git(feature_a, "commit", "-qm", "plan A, with a flaky test")
    (feature_b / "pkg" / "extra.py").write_text("import os\n")
    (feature_b / "notes.txt").write_text("plan B\n")
    git(feature_b, "add", "-A")
    git(feature_b, "commit", "-qm", "plan B, with an unused import")
    env = {**floor_env(root / "state"), "FLOOR_FLIP": str(root / "flip")}
    head = git(main, "rev-parse", "HEAD")
    with Store.open(path_in(main / ".git")) as store:
        store.add(past_run(main, "main", 10, "passed", head=head))  # outside a 7-day window
        store.add(past_run(main, "main", 3, "passed", head=head))
        store.add(
            past_run(feature_a, "feature-a", 2, "failed", failed_tests=("tests/test_old.py::t",))
        )
        store.add(past_run(feature_a, "feature-a", 1, "passed"))
    runs = [
        gate(feature_a, env),  # test_flip fails
        gate(feature_a, env),  # the same tree again: it passes
        gate(feature_a, env),  # and again: reused from the cache
        gate(feature_b, env, str(Path(sys.executable).parent / "gatekeeper"), "run"),
    ]
    assert [r.returncode for r in runs] == [1, 0, 0, 1], [r.stdout[-2000:] for r in runs]
    return Floor(main, feature_a, feature_b, env, time.time())


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Floor]:
    """The sample floor, built once per module."""
    yield build(tmp_path_factory.mktemp("floor"))
