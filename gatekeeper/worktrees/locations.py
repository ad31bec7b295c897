"""Where worktrees are: git's own list of them, the main checkout, and where a new one goes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gatekeeper.errors import UsageError
from gatekeeper.git import repository


@dataclass(frozen=True, slots=True)
class GitWorktree:
    """One entry of ``git worktree list --porcelain``."""

    path: Path
    head: str | None
    branch: str | None
    main: bool


def listed(start: Path) -> list[GitWorktree]:
    """Every worktree git knows of, the main checkout first (bare repositories skipped)."""
    out = repository.git(start, "worktree", "list", "--porcelain").stdout
    found: list[GitWorktree] = []
    for block in out.strip().split("\n\n"):
        entry = _parse(block, main=not found)
        if entry is not None:
            found.append(entry)
    return found


def _parse(block: str, *, main: bool) -> GitWorktree | None:
    fields: dict[str, str] = {}
    for line in block.splitlines():
        key, _, value = line.partition(" ")
        fields[key] = value
    if "worktree" not in fields or "bare" in fields:
        return None
    branch = fields.get("branch", "").removeprefix("refs/heads/") or None
    return GitWorktree(Path(fields["worktree"]), fields.get("HEAD"), branch, main)


def main_checkout(start: Path) -> Path:
    """The main checkout (the first worktree git lists)."""
    for entry in listed(start):
        if entry.main:
            return entry.path
    raise UsageError(f"the repository around {start} has no main checkout (a bare repository).")


def target(start: Path, name: str, location: str, chosen: Path | None) -> Path:
    """The directory for worktree ``name``: ``chosen`` (``--path``), else ``location`` relative
    to the main checkout. Refused inside any existing worktree, where the project's own tools
    (pytest, ruff, mypy, coverage) would scan it, and when it exists and is not empty."""
    main = main_checkout(start)
    if chosen is not None:
        path = chosen.expanduser().resolve()
    else:
        try:
            expanded = location.format(repo=main.name, name=name)
        except (KeyError, IndexError, ValueError):
            raise UsageError(
                f"[tool.gatekeeper.worktree] location = {location!r}: only {{repo}} and "
                "{name} may be used."
            ) from None
        path = (main / expanded).resolve()
    for entry in listed(start):
        if path == entry.path or entry.path in path.parents:
            raise UsageError(
                f"{path} is inside the worktree {entry.path}, where the project's tools would "
                "scan it. Choose a directory outside every checkout ([tool.gatekeeper.worktree] "
                "location or --path)."
            )
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UsageError(f"{path} already exists and is not empty; choose another --path.")
    return path


def find(start: Path, key: str) -> GitWorktree | None:
    """The worktree whose path, directory name or branch is ``key``."""
    wanted = Path(key).expanduser()
    resolved = wanted.resolve() if wanted.is_absolute() or "/" in key else None
    for entry in listed(start):
        if entry.path == resolved or key in (entry.branch, entry.path.name):
            return entry
    return None
