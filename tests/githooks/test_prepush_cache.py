"""The pre-push hook answers from the cache: real `git push` to a local bare remote.

Gate runs are counted by the sample project's own conftest, which appends one line per pytest
session (naming where it ran) to the file in ``SAMPLE_RUN_LOG``: a push served from the cache
adds no line, because no pytest starts and so no gate runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gatekeeper.cache import environment
from tests.conftest import git
from tests.githooks.test_prepush import FAST_GATE, FAULT, Setup, commit, remote_has, sample

COUNTING_CONFTEST = '''\
"""Counts pytest sessions for the tests of the pre-push hook."""

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    log = os.environ.get("SAMPLE_RUN_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as stream:
            stream.write(f"{config.rootpath}\\n")
'''
CACHED = "accepted from the cache (no worktree, no tests run)"
GATED = "in a temporary worktree"


# The hook's gate gets the counter's variable: it is on the project's list (docs/trust.md).
GATE = FAST_GATE + 'pass-env = ["SAMPLE_RUN_LOG"]\n'


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return sample(tmp_path, {"conftest.py": COUNTING_CONFTEST}, GATE)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "runs.log"


def user_env(log: Path) -> dict[str, str]:
    """A developer's shell: no variables of the runner's own pytest, gatekeeper or git."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GATEKEEPER_", "GIT_"))
    }
    env["SAMPLE_RUN_LOG"] = str(log)
    return env


def push(cwd: Path, log: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "push", "origin", *args],
        cwd=cwd,
        env=user_env(log),
        capture_output=True,
        text=True,
        check=False,
    )


def install(setup: Setup, log: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "hook", "install"],
        cwd=setup.worktree,
        env=user_env(log),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def runs(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def worktrees_stamp(setup: Setup) -> int:
    """When git last added or removed a linked worktree (the mtime of ``.git/worktrees``)."""
    return (setup.main / ".git" / "worktrees").stat().st_mtime_ns


def push_gated(setup: Setup, log: Path) -> str:
    """Push ``feature``, which must be gated (a cache miss); where the one gate run ran."""
    gated = push(setup.worktree, log, "feature")
    assert gated.returncode == 0, gated.stderr
    assert GATED in gated.stderr and CACHED not in gated.stderr
    (where,) = runs(log)
    # The gate ran once, in a temporary worktree in the repository's git directory.
    assert Path(where).is_relative_to(setup.main / ".git" / "gatekeeper" / "worktrees")
    return where


def test_pushing_an_already_gated_tree_again_is_served_from_the_cache(
    setup: Setup, log: Path
) -> None:
    install(setup, log)
    first = commit(setup.worktree, "pkg/extra.py", "VALUE = 1\n", "a new module")
    where = push_gated(setup, log)
    # The same tree in another commit, under another branch name: the content decides.
    git(setup.worktree, "switch", "-q", "-c", "again")
    git(setup.worktree, "commit", "-q", "--allow-empty", "-m", "same tree, new commit")
    again = git(setup.worktree, "rev-parse", "HEAD")
    assert again != first
    stamp = worktrees_stamp(setup)

    cached = push(setup.worktree, log, "again")

    assert cached.returncode == 0, cached.stderr
    assert f"refs/heads/again ({again[:12]}) passed the gate before" in cached.stderr
    assert CACHED in cached.stderr and GATED not in cached.stderr
    assert runs(log) == [where]  # no pytest, so no gate run
    assert worktrees_stamp(setup) == stamp  # no temporary worktree was added or removed
    assert remote_has(setup.remote, "refs/heads/again") == again


def test_a_pass_of_pytest_gatekeeper_in_the_worktree_serves_the_push(
    setup: Setup, log: Path
) -> None:
    install(setup, log)
    # Judged with the change still uncommitted, as a developer does before committing, in a
    # shell holding only what the hook's gate gets (docs/trust.md).
    (setup.worktree / "pkg/extra.py").write_text("VALUE = 1\n")
    gate = subprocess.run(
        [sys.executable, "-m", "pytest", "--gatekeeper"],
        cwd=setup.worktree,
        env=environment.scrubbed(user_env(log), ["SAMPLE_RUN_LOG"]),
        capture_output=True,
        text=True,
        check=False,
    )
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert runs(log) == [str(setup.worktree)]
    git(setup.worktree, "add", "-A")
    git(setup.worktree, "commit", "-q", "-m", "a new module")

    pushed = push(setup.worktree, log, "feature")

    assert pushed.returncode == 0, pushed.stderr
    assert CACHED in pushed.stderr and GATED not in pushed.stderr
    assert runs(log) == [str(setup.worktree)]


def test_a_failing_tree_is_gated_on_every_push(setup: Setup, log: Path) -> None:
    install(setup, log)
    clean = (setup.worktree / "pkg/__init__.py").read_text()
    commit(setup.worktree, "pkg/__init__.py", FAULT + clean, "add a lint fault")

    for attempt in (1, 2):
        rejected = push(setup.worktree, log, "feature")
        assert rejected.returncode != 0
        assert "pkg/__init__.py:1:8: F401" in rejected.stderr
        assert CACHED not in rejected.stderr
        assert len(runs(log)) == attempt  # only passes are cached: a failure runs again
    assert remote_has(setup.remote, "refs/heads/feature") is None
