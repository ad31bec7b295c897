"""``gatekeeper land``: lands exactly the gated commit, only onto an unmoved base."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from gatekeeper.integration import land
from tests.conftest import git
from tests.integration.repos import base_repo, gatekeeper, harmless, rename


@pytest.fixture
def repo_with_remote(tmp_path: Path) -> tuple[Path, Path]:
    repo = base_repo(tmp_path / "repo")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    return repo, remote


def test_land_fast_forwards_main_and_the_remote_to_the_gated_commit(
    repo_with_remote: tuple[Path, Path], tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo, remote = repo_with_remote
    rename(repo)
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(worktree), "rename")

    done = gatekeeper(worktree, "land", "--onto", "main", "--push", "origin", env=child_env)

    assert done.returncode == 0, done.stdout + done.stderr
    gated = json.loads((worktree / ".gatekeeper/integration.json").read_text())["integration"]
    head = gated["steps"][-1]["commit"]
    assert git(repo, "rev-parse", "main") == head == git(remote, "rev-parse", "main")
    # The worktree that has main checked out came along, clean.
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert "def plus" in (repo / "pkg/__init__.py").read_text()


# A stand-in for ssh (no SSH server is reachable here), honouring the contract git gives
# GIT_SSH_COMMAND with `ssh.variant = simple`: the host, then the command to run there. It notes
# the call and runs the command on this machine.
FAKE_SSH = """#!/bin/sh
printf '%s\\n' "$*" >> "$(dirname "$0")/ssh.log"
exec sh -c "$2"
"""


def test_land_pushes_through_the_users_ssh_command(
    repo_with_remote: tuple[Path, Path], tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo, remote = repo_with_remote
    rename(repo)
    git(repo, "remote", "set-url", "origin", f"gatekeeper.invalid:{remote}")
    git(repo, "config", "ssh.variant", "simple")
    ssh = tmp_path / "bin" / "fake-ssh"
    ssh.parent.mkdir()
    ssh.write_text(FAKE_SSH)
    ssh.chmod(0o755)
    env = {**child_env, "GIT_SSH_COMMAND": shlex.quote(str(ssh))}

    done = gatekeeper(repo, "land", "rename", "--onto", "main", "--push", "origin", env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert git(remote, "rev-parse", "main") == git(repo, "rev-parse", "main")
    calls = (ssh.parent / "ssh.log").read_text().splitlines()
    assert calls == [f"gatekeeper.invalid git-receive-pack '{remote}'"]


def test_land_refuses_when_the_remote_moved(
    repo_with_remote: tuple[Path, Path], child_env: dict[str, str]
) -> None:
    repo, remote = repo_with_remote
    harmless(repo, "docs")
    moved = harmless(repo, "elsewhere")
    git(repo, "push", "-q", "origin", "elsewhere:main")
    before = git(repo, "rev-parse", "main")

    done = gatekeeper(repo, "land", "docs", "--onto", "main", "--push", "origin", env=child_env)

    assert done.returncode == 1
    assert "the remote is no longer at the base that was gated" in done.stderr
    assert git(repo, "rev-parse", "main") == before
    assert git(remote, "rev-parse", "main") == moved


def test_a_base_that_moved_is_never_overwritten(tmp_path: Path) -> None:
    repo = base_repo(tmp_path / "repo")
    docs = harmless(repo, "docs")
    other = harmless(repo, "other")
    old = git(repo, "rev-parse", "main")
    git(repo, "merge", "-q", "--ff-only", "other")  # main moves after the "gate"

    with pytest.raises(land.Moved, match="moved while the merge was gated"):
        land.advance(repo, "refs/heads/main", docs, old)
    assert git(repo, "rev-parse", "main") == other


def test_a_refused_local_landing_never_pushes(
    repo_with_remote: tuple[Path, Path], child_env: dict[str, str]
) -> None:
    repo, remote = repo_with_remote
    harmless(repo, "docs")
    # An untracked file in main's checkout that landing docs would overwrite.
    (repo / "notes").mkdir()
    (repo / "notes/docs.txt").write_text("mine\n")
    before = git(repo, "rev-parse", "main")

    done = gatekeeper(repo, "land", "docs", "--onto", "main", "--push", "origin", env=child_env)

    assert done.returncode != 0
    assert "cannot be brought to the landed commit" in done.stderr
    assert git(remote, "rev-parse", "main") == before
    assert git(repo, "rev-parse", "main") == before
    assert (repo / "notes/docs.txt").read_text() == "mine\n"


def test_a_landing_the_checkout_cannot_follow_leaves_the_base_where_it_was(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo = base_repo(tmp_path / "repo")
    harmless(repo, "docs")
    (repo / "notes").mkdir()
    (repo / "notes/docs.txt").write_text("mine\n")
    before = git(repo, "rev-parse", "main")

    done = gatekeeper(repo, "land", "docs", "--onto", "main", env=child_env)

    assert done.returncode != 0
    assert git(repo, "rev-parse", "main") == before
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert (repo / "notes/docs.txt").read_text() == "mine\n"


def test_a_tag_named_like_the_base_never_makes_land_drop_commits(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo = base_repo(tmp_path / "repo")
    initial = git(repo, "rev-parse", "main")
    harmless(repo, "docs")
    extra = harmless(repo, "extra")
    git(repo, "merge", "-q", "--ff-only", "extra")  # main moves on
    git(repo, "tag", "main", initial)  # the old base, under the base's short name

    done = gatekeeper(repo, "land", "docs", "--onto", "main", env=child_env)

    assert done.returncode == 0, done.stdout + done.stderr
    landed = git(repo, "rev-parse", "refs/heads/main")
    assert git(repo, "merge-base", "--is-ancestor", extra, landed) == ""
    assert git(repo, "merge-base", "--is-ancestor", git(repo, "rev-parse", "docs"), landed) == ""


def test_land_onto_the_default_remote_base_moves_the_local_branch(
    repo_with_remote: tuple[Path, Path], child_env: dict[str, str]
) -> None:
    repo, _ = repo_with_remote
    git(repo, "remote", "set-head", "origin", "main")  # the default base is now origin/main
    docs = harmless(repo, "docs")

    done = gatekeeper(repo, "land", "docs", env=child_env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert git(repo, "rev-parse", "refs/heads/main") == docs


def test_land_leaves_nothing_to_commit_and_a_second_land_goes_through(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    # A project that does not ignore .gatekeeper/: gatekeeper's own files must stay out of
    # `git add -A` anyway, or the next landing finds main's checkout dirty.
    repo = base_repo(tmp_path / "repo", {".gitignore": "__pycache__/\n.pytest_cache/\n"})
    harmless(repo, "first")
    harmless(repo, "meanwhile")
    git(repo, "merge", "-q", "--ff-only", "meanwhile")  # main moved: landing merges

    landed = gatekeeper(repo, "land", "first", "--onto", "main", env=child_env)

    assert landed.returncode == 0, landed.stdout + landed.stderr
    assert git(repo, "log", "-1", "--format=%s", "main") == "Merge branch 'first' into main"
    git(repo, "add", "-A")
    committed = git(repo, "diff", "--cached", "--name-only").splitlines()
    assert committed == [".gatekeeper/.gitignore"], committed
    git(repo, "commit", "-q", "-m", "what `git add -A` found")

    harmless(repo, "second")
    again = gatekeeper(repo, "land", "second", "--onto", "main", env=child_env)

    assert again.returncode == 0, again.stdout + again.stderr
    assert (repo / "notes/second.txt").is_file()
