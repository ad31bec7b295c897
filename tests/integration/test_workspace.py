"""An integration workspace's temporary merge commits need no git identity of the user's: a
machine where git knows nobody (a fresh container, a CI runner) still gates merges, in
``gatekeeper integrate`` and in the pre-push hook; ``gatekeeper land``, whose merge commit
enters the base's history, asks for one instead."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import git, make_project
from tests.integration.repos import GATE, gatekeeper, harmless


def nobody(tmp_path: Path) -> dict[str, str]:
    """An environment in which git knows no identity: no user.name or user.email in any
    configuration it reads, no variables, and no guessing from the host's name."""
    home = tmp_path / "home"
    home.mkdir()
    skipped = ("GIT_", "GATEKEEPER_", "PYTEST_", "EMAIL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skipped)}
    return {**env, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}


def diverged(tmp_path: Path) -> Path:
    """``main`` and a branch ``docs`` that each moved on: their merge needs a merge commit."""
    repo = make_project(tmp_path / "repo", gatekeeper=GATE)
    git(repo, "config", "user.useConfigOnly", "true")
    harmless(repo, "docs")
    (repo / "CHANGES").write_text("main moved on\n")
    git(repo, "add", "CHANGES")
    git(repo, "commit", "-q", "-m", "main moves on")
    return repo


def test_integrate_gates_a_merge_where_git_knows_no_identity(tmp_path: Path) -> None:
    repo = diverged(tmp_path)
    env = nobody(tmp_path)
    unknown = subprocess.run(["git", "var", "GIT_AUTHOR_IDENT"], cwd=repo, env=env, check=False)
    assert unknown.returncode != 0  # git itself knows nobody here

    done = gatekeeper(repo, "integrate", "docs", "--onto", "main", env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "main+docs: passed" in done.stdout


def test_a_push_is_gated_merged_onto_the_base_where_git_knows_no_identity(
    tmp_path: Path,
) -> None:
    repo = diverged(tmp_path)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    env = nobody(tmp_path)
    assert gatekeeper(repo, "hook", "install", env=env).returncode == 0

    pushed = subprocess.run(
        ["git", "push", "origin", "docs"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert pushed.returncode == 0, pushed.stderr
    assert "gating refs/heads/docs" in pushed.stderr and "merged onto origin/main" in pushed.stderr
    assert "every pushed ref passed the gate" in pushed.stderr


def test_land_asks_for_an_identity_before_it_gates(tmp_path: Path) -> None:
    repo = diverged(tmp_path)
    before = git(repo, "rev-parse", "main")

    done = gatekeeper(repo, "land", "docs", "--onto", "main", env=nobody(tmp_path))

    assert done.returncode == 4, done.stdout + done.stderr
    assert "git knows no identity" in done.stderr
    assert "Traceback" not in done.stderr
    assert git(repo, "rev-parse", "main") == before
