"""The pre-push hook gates each pushed commit merged onto the remote's base: real `git push`
from a linked worktree to a local bare remote.

The rename case: the remote's main renames ``add`` to ``plus``; a branch that left main before
the rename calls ``add``. Alone it passes; merged onto the remote's main it breaks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git, make_project
from tests.githooks.test_prepush import Setup, commit, remote_has

RENAMED_PACKAGE = '''\
"""A tiny package the gate must pass."""


def plus(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b
'''
RENAMED_TEST = "from pkg import plus\n\n\ndef test_add() -> None:\n    assert plus(1, 2) == 3\n"
CALLER = "from pkg import add\n\n\ndef twice(x: int) -> int:\n    return add(x, x)\n"
CALLER_TEST = (
    "from pkg.calc import twice\n\n\ndef test_twice() -> None:\n    assert twice(2) == 4\n"
)
HARMLESS = "VALUE = 1\n"
PRIVATE_REFS = "refs/gatekeeper/"
# The tests alone: the rename case breaks them, and every push here runs one or two gates.
GATE = '\n[tool.gatekeeper]\nchecks = ["tests"]\n'


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    """main pushed to a bare remote whose HEAD is known; a worktree on ``feature`` from it."""
    main = make_project(tmp_path / "main", gatekeeper=GATE)
    # The hook commits merge results with commit-tree, which needs an identity, as a user has.
    git(main, "config", "user.name", "Test")
    git(main, "config", "user.email", "test@example.invalid")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(main, "remote", "add", "origin", str(remote))
    git(main, "push", "-q", "origin", "main")
    worktree = tmp_path / "feature"
    git(main, "worktree", "add", "-q", "-b", "feature", str(worktree))
    return Setup(main, worktree, remote)


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A developer's shell: no variables of the runner's pytest, gatekeeper or git; a private
    state directory, so what the hook leaves behind there can be inspected."""
    prefixes = ("PYTEST_", "GATEKEEPER_", "GIT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env["GATEKEEPER_STATE_DIR"] = str(tmp_path / "state")
    return env


def run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def install(setup: Setup, env: dict[str, str]) -> None:
    done = run(setup.worktree, env, sys.executable, "-m", "gatekeeper", "hook", "install")
    assert done.returncode == 0, done.stderr


def advance_main(setup: Setup, files: dict[str, str]) -> str:
    """Commit ``files`` on main and push it: the remote's base moves on (hook not yet run)."""
    for name, text in files.items():
        (setup.main / name).write_text(text)
    git(setup.main, "add", "-A")
    git(setup.main, "commit", "-q", "-m", "main moves on")
    git(setup.main, "push", "-q", "--no-verify", "origin", "main")
    return git(setup.main, "rev-parse", "main")


def assert_nothing_left(setup: Setup, tmp_path: Path) -> None:
    """No temporary worktree, private ref or workspace of the hook remains."""
    assert len(git(setup.main, "worktree", "list").splitlines()) == 2  # the user's two
    assert git(setup.main, "for-each-ref", PRIVATE_REFS) == ""
    runs = setup.main / ".git" / "gatekeeper" / "worktrees" / "integrate"  # the runs' folder
    assert (list(runs.iterdir()) if runs.is_dir() else []) == []


def test_a_branch_green_alone_but_red_on_the_remote_main_is_rejected(
    setup: Setup, user_env: dict[str, str], tmp_path: Path
) -> None:
    git(setup.main, "remote", "set-head", "origin", "main")
    commit(setup.worktree, "pkg/calc.py", CALLER, "a caller of add")
    commit(setup.worktree, "tests/test_calc.py", CALLER_TEST, "its test")
    base = advance_main(
        setup, {"pkg/__init__.py": RENAMED_PACKAGE, "tests/test_add.py": RENAMED_TEST}
    )
    install(setup, user_env)

    pushed = run(setup.worktree, user_env, "git", "push", "origin", "feature")

    assert pushed.returncode != 0
    err = pushed.stderr
    assert f"base for refs/heads/feature: origin/main ({base[:12]}, the remote's HEAD" in err
    assert "refs/heads/feature (" in err
    assert f"passes the gate on its own, but failed it merged onto origin/main ({base[:12]}" in err
    assert "tests failed" in err
    assert "merge or rebase onto origin/main" in err
    assert remote_has(setup.remote, "refs/heads/feature") is None
    assert_nothing_left(setup, tmp_path)


def test_a_branch_based_on_the_tip_is_gated_as_itself(
    setup: Setup, user_env: dict[str, str]
) -> None:
    install(setup, user_env)
    pushed_commit = commit(setup.worktree, "pkg/extra.py", HARMLESS, "a new module")

    pushed = run(setup.worktree, user_env, "git", "push", "origin", "feature")

    assert pushed.returncode == 0, pushed.stderr
    # No remote HEAD here: the remote-tracking main is the base, and the output says so.
    assert "base for refs/heads/feature: origin/main (" in pushed.stderr
    assert "the remote's main; it has no HEAD ref here" in pushed.stderr
    assert "contains the tip of origin/main: gating it as itself" in pushed.stderr
    assert "merged onto" not in pushed.stderr
    assert remote_has(setup.remote, "refs/heads/feature") == pushed_commit


def test_a_branch_behind_the_base_is_gated_merged_and_the_merge_is_cached(
    setup: Setup, user_env: dict[str, str], tmp_path: Path
) -> None:
    pushed_commit = commit(setup.worktree, "pkg/extra.py", HARMLESS, "a new module")
    advance_main(setup, {"README.md": "moved on\n"})
    install(setup, user_env)

    pushed = run(setup.worktree, user_env, "git", "push", "origin", "feature")

    assert pushed.returncode == 0, pushed.stderr
    assert "gating refs/heads/feature" in pushed.stderr
    assert "merged onto origin/main in a temporary worktree" in pushed.stderr
    assert remote_has(setup.remote, "refs/heads/feature") == pushed_commit
    assert_nothing_left(setup, tmp_path)

    # The same commit under another name: the merge result has the same tree, already passed.
    again = run(setup.worktree, user_env, "git", "push", "origin", "feature:again")

    assert again.returncode == 0, again.stderr
    assert "merged onto origin/main passed the gate before" in again.stderr
    assert "in a temporary worktree" not in again.stderr
    assert_nothing_left(setup, tmp_path)


def test_a_conflict_with_the_base_rejects_naming_the_file_and_leaves_nothing(
    setup: Setup, user_env: dict[str, str], tmp_path: Path
) -> None:
    clean = (setup.worktree / "pkg/__init__.py").read_text()
    commit(setup.worktree, "pkg/__init__.py", clean.replace("a + b", "b + a"), "commute")
    advance_main(setup, {"pkg/__init__.py": clean.replace("a + b", "sum((a, b))")})
    install(setup, user_env)
    before = git(setup.main, "for-each-ref", "--format=%(refname) %(objectname)")

    pushed = run(setup.worktree, user_env, "git", "push", "origin", "feature")

    assert pushed.returncode != 0
    assert "refs/heads/feature (" in pushed.stderr
    assert "cannot be merged onto origin/main" in pushed.stderr
    assert "conflicts in pkg/__init__.py" in pushed.stderr
    assert "Merge or rebase onto origin/main first" in pushed.stderr
    assert "temporary worktree" not in pushed.stderr  # nothing was gated
    assert remote_has(setup.remote, "refs/heads/feature") is None
    assert git(setup.main, "for-each-ref", "--format=%(refname) %(objectname)") == before
    assert git(setup.worktree, "status", "--porcelain") == ""
    assert_nothing_left(setup, tmp_path)


def test_push_merge_false_gates_the_commit_alone(setup: Setup, user_env: dict[str, str]) -> None:
    pyproject = (setup.worktree / "pyproject.toml").read_text()
    commit(setup.worktree, "pyproject.toml", pyproject + "push-merge = false\n", "alone")
    commit(setup.worktree, "pkg/calc.py", CALLER, "a caller of add")
    commit(setup.worktree, "tests/test_calc.py", CALLER_TEST, "its test")
    advance_main(setup, {"pkg/__init__.py": RENAMED_PACKAGE, "tests/test_add.py": RENAMED_TEST})
    install(setup, user_env)

    pushed = run(setup.worktree, user_env, "git", "push", "origin", "feature")

    assert pushed.returncode == 0, pushed.stderr
    assert "push-merge = false: gating refs/heads/feature" in pushed.stderr
    assert "merged onto" not in pushed.stderr
    assert remote_has(setup.remote, "refs/heads/feature") is not None
