"""Git facts and git calls: hooks off, GIT_* scrubbed, failures named."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.errors import GitError
from gatekeeper.git import repository
from gatekeeper.project.paths import python_files
from tests.conftest import git, make_project


def test_facts_of_a_repository(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    facts = repository.facts(root / "pkg")
    assert facts is not None
    assert (facts.root, facts.branch) == (str(root), "main")
    assert facts.head == git(root, "rev-parse", "HEAD")
    assert repository.common_dir(root) == root / ".git"
    git(root, "checkout", "-q", "--detach")
    detached = repository.facts(root)
    assert detached is not None
    assert detached.branch is None


def test_outside_git_there_are_no_facts(tmp_path: Path) -> None:
    assert repository.facts(tmp_path) is None
    assert repository.worktree_root(tmp_path) is None


def test_a_failing_git_command_names_itself(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    with pytest.raises(GitError, match=r"`rev-parse --verify nope` failed in .*exit status 128"):
        repository.git(root, "rev-parse", "--verify", "nope")
    assert repository.output(root, "rev-parse", "--verify", "nope") is None


def test_inherited_git_variables_do_not_redirect_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = make_project(tmp_path / "one")
    two = make_project(tmp_path / "two")
    monkeypatch.setenv("GIT_DIR", str(one / ".git"))
    assert repository.worktree_root(two) == two


def test_git_keeps_the_variables_that_reach_a_remote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "repo")
    monkeypatch.setenv("GIT_SSH_COMMAND", "ssh -i /keys/deploy")
    monkeypatch.setenv("GIT_ASKPASS", "/usr/libexec/askpass")
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))  # as a hook of another repo has
    # What git hands a command it runs: an alias that prints its environment.
    shown = repository.git(root, "-c", "alias.environment=!env", "environment").stdout
    seen = shown.splitlines()
    assert "GIT_SSH_COMMAND=ssh -i /keys/deploy" in seen
    assert "GIT_ASKPASS=/usr/libexec/askpass" in seen
    assert not [line for line in seen if line.startswith("GIT_DIR=")]


def test_listing_python_files_is_not_redirected_by_inherited_git_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "repo")
    (root / "pkg" / "generated.py").write_text("")
    with (root / ".gitignore").open("a") as ignore:
        ignore.write("generated.py\n")
    other = make_project(tmp_path / "other")
    # A hook of another repository exports its GIT_DIR: git would read that repository's index
    # and ignore rules, with the listed folder as its worktree, and list the ignored file.
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    assert python_files(root, ["pkg"]) == [(root / "pkg" / "__init__.py").resolve()]


def test_user_hooks_never_fire(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\ntouch fired\nexit 1\n")
    hook.chmod(0o755)
    repository.git(root, "commit", "-q", "--allow-empty", "-m", "x")
    assert not (root / "fired").exists()


def test_python_files_outside_git_are_walked(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("")
    (tmp_path / "pkg" / "__pycache__" / "b.py").write_text("")
    (tmp_path / "pkg" / "notes.txt").write_text("")
    (tmp_path / "single.py").write_text("")
    found = python_files(tmp_path, ["pkg", "single.py"])
    assert found == sorted([tmp_path / "pkg" / "a.py", tmp_path / "single.py"])
