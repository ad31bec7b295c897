"""Which base a push lands on (real git repositories and a local bare remote)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.githooks import pushbase
from gatekeeper.githooks.pushbase import Base, NoBase
from tests.conftest import git, make_project


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A project on main, pushed to a bare remote ``origin``; a branch ``old`` one commit back."""
    repo = make_project(tmp_path / "repo")
    git(repo, "branch", "old")
    (repo / "later.txt").write_text("later\n")
    git(repo, "add", "later.txt")
    git(repo, "commit", "-q", "-m", "later")
    git(tmp_path, "init", "-q", "--bare", str(tmp_path / "remote.git"))
    git(repo, "remote", "add", "origin", str(tmp_path / "remote.git"))
    git(repo, "push", "-q", "origin", "main", "old")
    return repo


def found(repo: Path, remote: str = "origin", configured: str | None = None) -> Base:
    base = pushbase.find(repo, remote, configured)
    assert isinstance(base, Base), base
    return base


def test_the_remote_head_comes_first(repo: Path) -> None:
    git(repo, "remote", "set-head", "origin", "old")
    base = found(repo, configured="main")
    assert base.ref == "refs/remotes/origin/old" and base.name == "origin/old"
    assert base.commit == git(repo, "rev-parse", "old")
    assert "the remote's HEAD, refs/remotes/origin/HEAD" in base.describe()


def test_the_configured_base_comes_next_and_a_missing_one_ends_the_search(repo: Path) -> None:
    base = found(repo, configured="old")
    assert base.name == "old" and "`base` in [tool.gatekeeper]" in base.source
    missing = pushbase.find(repo, "origin", "develop")
    assert isinstance(missing, NoBase)
    assert "`base = 'develop'` in [tool.gatekeeper], not a commit" in missing.describe()


def test_then_the_remote_main_then_the_local_one(repo: Path) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", "local main ahead of the remote's")
    assert found(repo).ref == "refs/remotes/origin/main"
    # Pushed to a URL, not a named remote: no remote-tracking refs to ask, so the local main.
    assert found(repo, remote=str(repo.parent / "remote.git")).ref == "refs/heads/main"
    assert found(repo, remote="").commit == git(repo, "rev-parse", "main")


def test_no_base_at_all_says_what_was_looked_for(tmp_path: Path) -> None:
    repo = make_project(tmp_path / "repo")
    git(repo, "branch", "-m", "main", "trunk")
    missing = pushbase.find(repo, "", None)
    assert isinstance(missing, NoBase)
    assert missing.describe() == (
        "no base found locally (looked for refs/heads/main, refs/heads/master)"
    )


def test_a_push_to_the_base_branch_itself_replaces_it(repo: Path) -> None:
    base = found(repo)
    assert base.is_pushed_to("origin", "refs/heads/main")
    assert not base.is_pushed_to("origin", "refs/heads/feature")
    local = found(repo, remote="")
    assert local.name == "main" and local.is_pushed_to("", "refs/heads/main")
