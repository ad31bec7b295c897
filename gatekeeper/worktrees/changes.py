"""Work that removing a worktree would lose: uncommitted changes and unpushed commits.

Files gatekeeper itself put into the worktree (copied files, the environment file, what the setup
commands left behind) are not the user's work, as long as their content is what it was then.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gatekeeper import repository
from gatekeeper.integration.land import local_name
from gatekeeper.worktrees.copying import file_digest


def untracked(worktree: Path) -> dict[str, str]:
    """Untracked, not ignored files of ``worktree`` with their sha256."""
    out = repository.git(worktree, "ls-files", "-z", "--others", "--exclude-standard").stdout
    found: dict[str, str] = {}
    for name in (n for n in out.split("\0") if n):
        path = worktree / name
        if path.is_file() and not path.is_symlink():
            found[name] = file_digest(path)
    return found


def uncommitted(worktree: Path, ours: dict[str, str]) -> list[str]:
    """Paths with changes that are not committed, leaving out files gatekeeper made unchanged."""
    out = repository.git(worktree, "status", "--porcelain=v1", "-z", "--untracked-files=all").stdout
    changed: list[str] = []
    for entry in (e for e in out.split("\0") if e):
        if len(entry) < 4 or entry[2] != " ":
            continue  # the source path of a rename: its entry was already counted
        name = entry[3:]
        path = worktree / name
        unchanged = name in ours and path.is_file() and file_digest(path) == ours[name]
        if not (entry.startswith("??") and unchanged):
            changed.append(name)
    return changed


def unpushed(worktree: Path, tips: Sequence[str], base: str) -> int:
    """Commits reachable from any of ``tips`` (the branch, the worktree's own ``HEAD``, which
    may be detached) that are neither on a remote-tracking branch nor in ``base``, nor in the
    local branch of a remote-tracking base (``main`` for ``origin/main``: what ``gatekeeper
    land`` moves). A base that no longer exists is left out, so nothing counts as safe because
    of it."""
    if not tips:
        return 0
    landed = (base, f"refs/heads/{local_name(worktree, base)}")
    found = (
        repository.output(worktree, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        for ref in landed
    )
    exclude = ["--remotes", *dict.fromkeys(commit for commit in found if commit)]
    out = repository.git(worktree, "rev-list", "--count", *tips, "--not", *exclude).stdout
    return int(out.strip())
