"""Facts about the git worktree the gate runs in."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gatekeeper.model import GitFacts


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-c", "core.hooksPath=/dev/null", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def worktree_root(start: Path) -> Path | None:
    """The top of the git worktree holding ``start``, or None outside git."""
    top = _git(start, "rev-parse", "--show-toplevel")
    return Path(top) if top else None


def facts(start: Path) -> GitFacts | None:
    """Root, branch (None when detached) and head commit (None before the first commit)."""
    root = worktree_root(start)
    if root is None:
        return None
    branch = _git(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    return GitFacts(str(root), branch or None, head or None)
