"""Copy the configured untracked files (``[tool.gatekeeper.worktree] copy``) into a new worktree.

Hand-written setup scripts copy ``.env.example`` when ``.env`` is missing, follow symlinks out of
the repository, or copy a tracked file over the freshly checked-out one. Here a pattern copies
only real, untracked files under the same relative path; a pattern that matches none stops the
command, so a missing ``.env`` is never papered over with a template.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gatekeeper.errors import UsageError
from gatekeeper.git import repository

KEY = "[tool.gatekeeper.worktree] copy"


@dataclass(frozen=True, slots=True)
class Planned:
    """One file to copy: its real source and its path relative to the checkout."""

    source: Path
    relative: str


def plan(root: Path, patterns: list[str]) -> list[Planned]:
    """The files ``patterns`` name in the checkout ``root``; raises :class:`UsageError` for a
    pattern that escapes the repository or matches no untracked real file."""
    tracked = _tracked(root)
    planned: dict[str, Planned] = {}
    for pattern in patterns:
        _check_pattern(pattern)
        found = [m for m in sorted(root.glob(pattern)) if _wanted(root, m, tracked)]
        if not found:
            raise UsageError(
                f"{KEY}: {pattern!r} matches no untracked file in {root}. Create it (a template "
                "such as .env.example is never copied in its place) or remove the pattern."
            )
        for match in found:
            relative = match.relative_to(root).as_posix()
            planned[relative] = Planned(_real_source(root, match), relative)
    return list(planned.values())


def _check_pattern(pattern: str) -> None:
    pure = PurePosixPath(pattern)
    if not pattern or pure.is_absolute() or ".." in pure.parts or pattern.startswith("~"):
        raise UsageError(
            f"{KEY}: {pattern!r} must be a relative glob pattern inside the repository "
            "(no absolute paths, no '..')."
        )


def _wanted(root: Path, match: Path, tracked: set[str]) -> bool:
    relative = match.relative_to(root).as_posix()
    inside_git = relative == ".git" or relative.startswith(".git/")
    return match.is_file() and not inside_git and relative not in tracked


def _real_source(root: Path, match: Path) -> Path:
    """The file behind ``match``; a symlink pointing outside the repository is refused."""
    real = match.resolve()
    if not real.is_relative_to(root.resolve()):
        raise UsageError(
            f"{KEY}: {match.relative_to(root)} is a symlink to {real}, outside the repository; "
            "gatekeeper copies only files inside it. Copy that file yourself."
        )
    return real


def _tracked(root: Path) -> set[str]:
    out = repository.git(root, "ls-files", "-z").stdout
    return {name for name in out.split("\0") if name}


def copy(planned: list[Planned], destination: Path) -> dict[str, str]:
    """Copy each planned file to the same relative path under ``destination``, as a real file.

    Returns ``{relative path: sha256}`` so ``rm`` can tell a copied file the user changed.
    """
    copied: dict[str, str] = {}
    root = destination.resolve()
    for item in planned:
        target = destination / item.relative
        if not target.parent.resolve().is_relative_to(root):
            raise UsageError(f"{KEY}: {item.relative} would land outside {destination}.")
        if target.exists() or target.is_symlink():
            raise UsageError(
                f"{KEY}: {item.relative} already exists in {destination} (it is tracked on "
                "the base); it was not overwritten."
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(item.source, target)
        shutil.copymode(item.source, target)
        copied[item.relative] = file_digest(target)
    return copied


def file_digest(path: Path) -> str:
    """The sha256 of a file's content."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
