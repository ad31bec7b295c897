"""Temporary worktrees of the pre-push hook and of ``gatekeeper integrate``: nobody else can steer
their verdict. Real ``git push`` to a local bare remote, real ``gatekeeper integrate``."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from gatekeeper.cache import inputs
from gatekeeper.cache.store import tree_id
from gatekeeper.errors import GitError
from gatekeeper.git.tempworktree import temporary_worktree
from gatekeeper.integration.worktreegate import gate_env
from tests.conftest import git, make_project

# A project whose pytest configuration is not in its pyproject.toml: pytest looks above it.
NO_PYTEST_CONFIG = """\
[project]
name = "sample"
version = "0"

[tool.gatekeeper]
checks = ["tests"]
pass-env = ["WHERE_LOG"]  # the scrubbed gate of the hook gets only what is listed
"""
INTEGRATE_BROKEN = [sys.executable, "-m", "gatekeeper", "integrate", "broken", "--onto", "main"]
# What another local user plants above a shared temp dir: every test passes, whatever it does.
RIGGED_CONFTEST = """\
import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    report.outcome = "passed"
    return report
"""
FAILING_TEST = "from pkg import add\n\n\ndef test_add() -> None:\n    assert add(1, 2) == 4\n"
# Each pytest session the sample project runs writes where it ran ($WHERE_LOG).
WHERE_CONFTEST = """\
import os


def pytest_configure(config):
    log = os.environ.get("WHERE_LOG")
    if log:
        with open(log, "a") as stream:
            stream.write(f"{config.rootpath}\\n")
"""


@dataclass(frozen=True)
class Repo:
    main: Path
    remote: Path


def shell_env(**extra: str) -> dict[str, str]:
    """A developer's shell: no variables of the runner's own pytest, gatekeeper or git."""
    prefixes = ("PYTEST_", "GATEKEEPER_", "GIT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **extra}


def run(cwd: Path, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def repo_with_remote(root: Path, files: dict[str, str]) -> Repo:
    main = make_project(root / "main", {"conftest.py": WHERE_CONFTEST, **files})
    git(main, "config", "user.name", "Test")
    git(main, "config", "user.email", "test@example.invalid")
    remote = root / "remote.git"
    git(root, "init", "-q", "--bare", str(remote))
    git(main, "remote", "add", "origin", str(remote))
    git(main, "push", "-q", "origin", "main")
    return Repo(main, remote)


def failing_branch(repo: Path) -> None:
    """Branch ``broken``, one commit on main whose test fails."""
    git(repo, "switch", "-q", "-c", "broken")
    (repo / "tests" / "test_add.py").write_text(FAILING_TEST)
    git(repo, "commit", "-q", "-am", "a test that fails")
    git(repo, "switch", "-q", "main")


def shared_folder(root: Path) -> Path:
    """A folder every local user may write to (mode 1777, like /tmp), holding what another
    user planted: a pytest configuration and a conftest.py that passes every test."""
    shared = root / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    (shared / "pytest.ini").write_text("[pytest]\n")
    (shared / "conftest.py").write_text(RIGGED_CONFTEST)
    return shared


def test_a_push_is_judged_without_what_others_planted_in_the_shared_temp_dir(
    tmp_path: Path,
) -> None:
    repo = repo_with_remote(tmp_path, {"pyproject.toml": NO_PYTEST_CONFIG})
    failing_branch(repo.main)
    shared = shared_folder(tmp_path)
    where = tmp_path / "where.log"
    env = shell_env(TMPDIR=str(shared), WHERE_LOG=str(where))
    installed = run(repo.main, [sys.executable, "-m", "gatekeeper", "hook", "install"], env)
    assert installed.returncode == 0, installed.stderr

    pushed = run(repo.main, ["git", "push", "origin", "broken"], env)

    assert pushed.returncode != 0, pushed.stderr
    assert "failed the gate" in pushed.stderr
    assert git(repo.remote, "branch", "--list", "broken") == ""
    # The gate ran in the repository's own git directory, with the tree as pytest's rootdir.
    (rootdir,) = where.read_text().splitlines()
    assert Path(rootdir).is_relative_to(repo.main / ".git" / "gatekeeper" / "worktrees")
    assert Path(rootdir).name == "tree"
    assert not list(shared.glob("*/tree"))


def test_integrate_is_judged_without_what_others_planted_above_the_state_dir(
    tmp_path: Path,
) -> None:
    repo = repo_with_remote(tmp_path, {"pyproject.toml": NO_PYTEST_CONFIG})
    failing_branch(repo.main)
    shared = shared_folder(tmp_path)
    env = shell_env(GATEKEEPER_STATE_DIR=str(shared / "state"), TMPDIR=str(shared))

    done = run(repo.main, INTEGRATE_BROKEN, env)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "verdict: failed" in done.stdout


def test_the_checkout_above_the_temporary_worktrees_cannot_steer_the_gate(
    tmp_path: Path,
) -> None:
    repo = repo_with_remote(tmp_path, {"pyproject.toml": NO_PYTEST_CONFIG})
    failing_branch(repo.main)
    # The worktrees live below the main checkout's .git: its untracked files are above them.
    (repo.main / "pytest.ini").write_text("[pytest]\n")
    (repo.main / "conftest.py").write_text(RIGGED_CONFTEST)  # tracked one, changed locally
    env = shell_env()

    done = run(repo.main, INTEGRATE_BROKEN, env)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "verdict: failed" in done.stdout


@pytest.mark.parametrize("kind", ["link", "group-writable"])
def test_a_worktrees_folder_others_could_change_is_refused(tmp_path: Path, kind: str) -> None:
    repo = repo_with_remote(tmp_path, {})
    harmless = tmp_path / "elsewhere"
    harmless.mkdir(mode=0o700)
    folder = repo.main / ".git" / "gatekeeper" / "worktrees"
    folder.parent.mkdir(parents=True, exist_ok=True)
    if kind == "link":
        folder.symlink_to(harmless)
    else:
        folder.mkdir(mode=0o700)
        folder.chmod(0o770)
    git(repo.main, "switch", "-q", "-c", "other")
    git(repo.main, "commit", "-q", "--allow-empty", "-m", "something to gate")
    git(repo.main, "switch", "-q", "main")

    done = run(
        repo.main,
        [sys.executable, "-m", "gatekeeper", "integrate", "other", "--onto", "main"],
        shell_env(),
    )

    assert done.returncode != 0, done.stdout
    assert "the folder of gatekeeper's temporary worktrees" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(harmless.iterdir()) == []


def test_a_gate_in_a_temporary_worktree_gets_no_git_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # git's own calls keep the transport variables (a push needs them); the gate pushes nothing,
    # and each variable it had would be part of its pass's key.
    monkeypatch.setenv("GIT_SSH_COMMAND", "ssh -i /keys/deploy")
    monkeypatch.setenv("GIT_DIR", "/elsewhere")
    assert [name for name in gate_env() if name.startswith("GIT_")] == []


UNSMUDGED = "def add(a: int, b: int) -> int:\n    return a + b\n"


def test_the_temporary_checkout_applies_no_filter_of_the_users_configuration(
    tmp_path: Path,
) -> None:
    # A smudge filter named by .git/info/attributes and defined in the repository's
    # configuration: a clone in CI has neither, so it checks out the committed bytes.
    root = make_project(tmp_path / "repo", {"pkg/calc.py": UNSMUDGED})
    (root / ".git" / "info" / "attributes").write_text("*.py filter=flip\n")
    git(root, "config", "filter.flip.smudge", "sed 's/a + b/a - b/'")
    git(root, "config", "filter.flip.clean", "sed 's/a - b/a + b/'")
    git(root, "config", "filter.flip.required", "true")
    commit = git(root, "rev-parse", "HEAD")

    with temporary_worktree(root, commit, tmp_path / "tree") as tree:
        assert (tree / "pkg" / "calc.py").read_text() == UNSMUDGED
        assert tree_id(tree) == git(root, "rev-parse", "HEAD^{tree}")


def test_attributes_of_the_repository_alone_that_change_a_checkout_stop_the_gate(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "repo")
    (root / ".git" / "info" / "attributes").write_text("*.md diff=markdown\n*.py text eol=crlf\n")
    commit = git(root, "rev-parse", "HEAD")

    with (
        pytest.raises(GitError, match=r"info/attributes.*\*\.py text eol=crlf"),
        temporary_worktree(root, commit, tmp_path / "tree"),
    ):
        pass
    assert not (tmp_path / "tree").exists()
    assert "info/attributes" in (inputs.scan(root).problem)
