"""Real git repositories for the integration tests: a base and branches that are green alone
and red together (a rename and a caller of the old name)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import git, make_project

# The gates of integration get the variables of the counters and of the server some tests
# start: they are on the project's list (docs/trust.md).
GATE = """
[tool.gatekeeper]
checks = ["tests"]
pass-env = ["GATE_RUNS", "GATE_SESSIONS", "SERVER_PIDFILE"]
"""
# Every test session that collects appends a line to $GATE_RUNS (a session whose stored pass
# is reused collects nothing): the gate runs counted from outside gatekeeper.
# $GATE_SESSIONS gets a line from every pytest process the gate starts, collecting or not.
COUNTER = """\
import os


def pytest_configure(config: object) -> None:
    target = os.environ.get("GATE_SESSIONS")
    if target:
        with open(target, "a") as stream:
            stream.write("session\\n")


def pytest_collection_finish(session: object) -> None:
    target = os.environ.get("GATE_RUNS")
    if target:
        with open(target, "a") as stream:
            stream.write("run\\n")
"""
CLEAN = '''\
"""A tiny package the gate must pass."""


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b
'''
RENAMED = CLEAN.replace("def add", "def plus")
CALLER = "from pkg import add\n\n\ndef twice(x: int) -> int:\n    return add(x, x)\n"
CALLER_TEST = (
    "from pkg.calc import twice\n\n\ndef test_twice() -> None:\n    assert twice(2) == 4\n"
)


def base_repo(root: Path, files: dict[str, str] | None = None) -> Path:
    """The base project on ``main`` with an identity for gatekeeper's merge commits."""
    repo = make_project(root, {"conftest.py": COUNTER, **(files or {})}, GATE)
    git(repo, "config", "user.name", "Test")
    git(repo, "config", "user.email", "test@example.invalid")
    return repo


def branch(repo: Path, name: str, files: dict[str, str], start: str = "main") -> str:
    """Commit ``files`` on a new branch ``name`` from ``start`` without checking it out."""
    scratch = repo.parent / f"scratch-{name.replace('/', '-')}"
    git(repo, "worktree", "add", "-q", "-b", name, str(scratch), start)
    for path, text in files.items():
        (scratch / path).parent.mkdir(parents=True, exist_ok=True)
        (scratch / path).write_text(text)
    git(scratch, "add", "-A")
    git(scratch, "commit", "-q", "-m", f"{name}")
    git(repo, "worktree", "remove", str(scratch))
    return git(repo, "rev-parse", name)


def rename(repo: Path, name: str = "rename") -> str:
    test = "from pkg import plus\n\n\ndef test_add() -> None:\n    assert plus(1, 2) == 3\n"
    return branch(repo, name, {"pkg/__init__.py": RENAMED, "tests/test_add.py": test})


def caller(repo: Path, name: str = "use-old-name") -> str:
    return branch(repo, name, {"pkg/calc.py": CALLER, "tests/test_calc.py": CALLER_TEST})


def harmless(repo: Path, name: str) -> str:
    return branch(repo, name, {f"notes/{name}.txt": f"{name}\n"})


def state_of(repo: Path) -> dict[str, str]:
    """What integration must never change: status, worktrees, branches, HEAD, private refs."""
    return {
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
        "worktrees": git(repo, "worktree", "list", "--porcelain"),
        "branches": git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"),
        "head": git(repo, "rev-parse", "HEAD"),
        "private": git(repo, "for-each-ref", "refs/gatekeeper"),
    }


def gatekeeper(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``gatekeeper ARGS`` as a user runs it, in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "gatekeeper", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def counted(env: dict[str, str], path: Path) -> dict[str, str]:
    return {**env, "GATE_RUNS": str(path)}


def traced(env: dict[str, str], config_home: Path, log: Path) -> dict[str, str]:
    """``env`` with git's trace2 logging every git command (any process, any cwd) to ``log``.

    Through git's global configuration (``$XDG_CONFIG_HOME/git/config``): gatekeeper scrubs
    ``GIT_*`` variables from its git calls, but not this.
    """
    (config_home / "git").mkdir(parents=True, exist_ok=True)
    (config_home / "git" / "config").write_text(f"[trace2]\n\tnormalTarget = {log}\n")
    return {**env, "XDG_CONFIG_HOME": str(config_home)}


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0
