"""One task's life in its own worktree on a real project: ``gatekeeper worktree new``, a commit
there, ``worktree list``, ``gatekeeper land`` and ``worktree rm``, in sequence and without
``--force``: landed work is safe, so nothing needs overriding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.realprojects.workspace import Checkout

NAME = "task"
COMMENT = "# A harmless comment.\n"


def rows(project: Checkout) -> dict[str, dict[str, Any]]:
    """``gatekeeper worktree list --json``, by name."""
    listed: list[dict[str, Any]] = project.printed_json("worktree", "list")
    return {row["name"]: row for row in listed}


def new(project: Checkout) -> Path:
    """``gatekeeper worktree new NAME`` from the main checkout: a ready worktree off main."""
    made = project.printed_json("worktree", "new", NAME)
    assert (made["state"], made["branch"], made["base"]) == ("ready", NAME, "main")
    assert Path(made["path"]).is_dir()
    return Path(made["path"])


def listed(project: Checkout, worktree: Path) -> None:
    """``gatekeeper worktree list`` shows the task's worktree one commit ahead of main, with
    no conflict, beside the main checkout."""
    found = rows(project)
    row = found[NAME]
    assert (row["path"], row["state"]) == (str(worktree), "ready")
    assert (row["ahead"], row["behind"], row["conflicts_base"]) == (1, 0, False)
    assert [other["state"] for other in found.values()].count("main") == 1


def landed(project: Checkout, worktree: Path, task: str, changed: str) -> None:
    """``gatekeeper land`` from the task's worktree moves main to its commit, and the main
    checkout comes along, clean."""
    done = project.gatekeeper("land", NAME, "--onto", "main", cwd=worktree)
    assert done.returncode == 0, done.stdout[-3000:]
    assert project.git("rev-parse", "main") == task
    assert (project.root / changed).read_text(encoding="utf-8").startswith(COMMENT)
    assert project.git("status", "--porcelain") == ""


def removed(project: Checkout, worktree: Path) -> None:
    """``gatekeeper worktree rm NAME --delete-branch`` takes worktree and branch, unforced."""
    done = project.gatekeeper("worktree", "rm", NAME, "--delete-branch")
    assert done.returncode == 0, done.stdout
    assert not worktree.exists()
    assert project.git("branch", "--list", NAME) == ""
    assert NAME not in rows(project)


def test_a_worktree_is_made_listed_landed_and_removed(real_project: Checkout) -> None:
    worktree = new(real_project)
    changed = real_project.project.breaking.path
    real_project.prepend(changed, COMMENT, cwd=worktree)
    task = real_project.commit("A harmless comment", cwd=worktree)

    listed(real_project, worktree)
    landed(real_project, worktree, task, changed)
    removed(real_project, worktree)
