"""Work that removing a worktree would lose: uncommitted changes, ignored files and unpushed
commits.

Files gatekeeper itself put into the worktree (copied files, the environment file, what the setup
commands left behind) are not the user's work, as long as their content is what it was then.
Neither is what can be made again: tools' caches (bytecode, ``.pytest_cache``, ``.mypy_cache``,
``.ruff_cache``, ``.hypothesis``, coverage data, gatekeeper's own ``.gatekeeper``), virtual
environments (a folder holding ``pyvenv.cfg``) and ``node_modules``. Every other ignored file
is: ``git status`` never lists ignored files, so they are looked at here one by one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from gatekeeper.git import repository
from gatekeeper.integration.land import local_name
from gatekeeper.project.paths import is_tool_cache
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


def ignored(worktree: Path) -> dict[str, str]:
    """Ignored files of ``worktree`` that could be someone's work, with their sha256 (what can
    be made again is left out: see the module)."""
    found: dict[str, str] = {}
    for entry in repository.ignored(worktree):
        for name in _files(worktree, entry.rstrip("/")):
            found[name] = file_digest(worktree / name)
    return found


def _files(worktree: Path, relative: str) -> Iterator[str]:
    """The real files at or under ``relative`` that are not regenerable, as POSIX paths."""
    path = worktree / relative
    if _regenerable(path, relative) or path.is_symlink():
        return
    if path.is_file():
        yield relative
    elif path.is_dir():
        yield from _walk(worktree, path)


def _walk(worktree: Path, top: Path) -> Iterator[str]:
    for folder, subfolders, names in os.walk(top):
        here = Path(folder)
        inside = here.relative_to(worktree).as_posix()
        subfolders[:] = [d for d in subfolders if not _regenerable(here / d, f"{inside}/{d}")]
        for name in names:
            if not (here / name).is_symlink() and not is_tool_cache(name):
                yield f"{inside}/{name}"


def _regenerable(path: Path, relative: str) -> bool:
    if is_tool_cache(relative) or path.name == "node_modules":
        return True
    return path.is_dir() and (path / "pyvenv.cfg").is_file()


def lost_ignored(worktree: Path, ours: dict[str, str]) -> list[str]:
    """Ignored files that removing ``worktree`` would lose: every one not in ``ours`` (what
    ``new`` made, by path and sha256) or changed since."""
    return sorted(name for name, digest in ignored(worktree).items() if ours.get(name) != digest)


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
