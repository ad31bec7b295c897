"""One mypy cache directory per worktree, seeded from a sibling worktree's when it is new.

Concurrent mypy processes must not share a cache directory (its SQLite store reports "database is
locked" and worse), so every worktree keeps its own. A new worktree starts from a copy of another
worktree's cache, which mypy then revalidates file by file: faster than a cold start, never wrong.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from gatekeeper import repository

NAME = ".mypy_cache"


def cache_dir(root: Path, worktree: Path) -> Path:
    """The mypy cache of the project at ``root`` in this ``worktree``, seeded when missing."""
    target = root / NAME
    if not target.exists():
        source = _sibling_cache(root, worktree)
        if source is not None:
            seed(source, target)
    return target


def _sibling_cache(root: Path, worktree: Path) -> Path | None:
    """The same project's mypy cache in another worktree of this repository, if one has it."""
    listing = repository.output(worktree, "worktree", "list", "--porcelain") or ""
    inside = root.resolve().relative_to(worktree.resolve()) if root != worktree else Path()
    for line in listing.splitlines():
        if not line.startswith("worktree "):
            continue
        other = Path(line.removeprefix("worktree "))
        if other.resolve() == worktree.resolve():
            continue
        candidate = other / inside / NAME
        if candidate.is_dir():
            return candidate
    return None


def seed(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` so ``target`` appears whole or not at all.

    A copy that fails (the other worktree's mypy removing files mid-copy) is dropped: mypy then
    starts cold, which is slower but correct.
    """
    with contextlib.suppress(OSError):
        scratch = Path(tempfile.mkdtemp(prefix=".mypy_cache-seed-", dir=target.parent))
        try:
            shutil.copytree(source, scratch / NAME)
            (scratch / NAME).rename(target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
