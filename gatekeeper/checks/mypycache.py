"""One mypy cache directory per worktree, seeded from a sibling worktree's when it is new.

Concurrent mypy processes must not share a cache directory (its SQLite store reports "database is
locked" and worse), so every worktree keeps its own. A new worktree starts from a copy of another
worktree's cache, which mypy then revalidates file by file: faster than a cold start, never wrong.

mypy takes a source file whose size and whole-second modification time match its cache as
unchanged, without reading it: an edit that keeps both (``touch -r``) would be judged by the
cached result. So each run records the size, time and content hash of the project's sources
beside the cache, and the next run drops the cache when a file matches on size and time but not
on content (mypy then starts cold: slower, never wrong).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Final

from gatekeeper import atomic
from gatekeeper.git import repository
from gatekeeper.project.paths import python_files

NAME = ".mypy_cache"
SOURCES: Final = "gatekeeper-sources.json"

# Path from the project's root (as mypy, run there, records it) -> [size, whole-second mtime
# (what mypy compares), sha256 of the content].
Snapshot = dict[str, list[object]]


def snapshot(root: Path) -> Snapshot:
    """The size, time and content hash of the project's sources (``.py`` and ``.pyi``)."""
    listed = repository.ls_files(root, "--cached", "--others", "--exclude-standard", "--", "*.pyi")
    stubs = [root / name for name in listed or ()]
    found: Snapshot = {}
    for path in [*python_files(root, ["."]), *(stub.resolve() for stub in stubs)]:
        with contextlib.suppress(OSError, ValueError):  # gone, or a link out of the project
            status = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[path.relative_to(root.resolve()).as_posix()] = [
                status.st_size,
                int(status.st_mtime),
                digest,
            ]
    return found


def _recorded(cache: Path) -> Snapshot:
    try:
        recorded = json.loads((cache / SOURCES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def revalidate(cache: Path, current: Snapshot) -> None:
    """Drop ``cache`` when a source mypy would take as unchanged holds other content than when
    the cache was last written (see the module)."""
    recorded = _recorded(cache)
    for path, now in current.items():
        before = recorded.get(path)
        if isinstance(before, list) and before[:2] == now[:2] and before[2:] != now[2:]:
            shutil.rmtree(cache, ignore_errors=True)
            return
    if cache.is_dir() and not (cache / SOURCES).is_file():
        # A cache without a record (written before this one, or by mypy alone): nothing says
        # which of its entries an edit with the same size and time would hide.
        shutil.rmtree(cache, ignore_errors=True)


def record(cache: Path, taken: Snapshot) -> None:
    """Keep ``taken`` (the snapshot made before mypy ran) beside the cache mypy wrote, with the
    entries of files gone since: mypy may still hold them, for a file that comes back."""
    if cache.is_dir():
        with contextlib.suppress(OSError):
            kept = {**_recorded(cache), **taken}
            atomic.write_text(cache / SOURCES, json.dumps(kept, sort_keys=True))


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
