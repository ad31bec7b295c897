"""Where a run's coverage data lives while it measures: ``.gatekeeper/coverage/<id>/``, owned
through ``<id>.lock`` beside it, held with ``flock`` by the run's controller for its life. A run
killed before it could remove its data leaves a lock nobody holds, so the sweep
(:mod:`gatekeeper.resources.sweep`) and the next session can tell its folder from a live run's.
The measuring itself is :mod:`gatekeeper.checks.measure`'s."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.resources.locks import Held, acquire, is_held

DATA_FOLDER = Path(".gatekeeper") / "coverage"


@dataclass(frozen=True, slots=True)
class DataDir:
    """A run's coverage data folder, owned by this process until :meth:`discard` or its end."""

    path: Path
    held: Held

    def discard(self) -> None:
        """Delete the folder and its lock: the data has been judged, or never will be."""
        shutil.rmtree(self.path, ignore_errors=True)
        self.held.remove()


def claim_data_dir(worktree: Path) -> DataDir:
    """A fresh data folder under ``worktree`` (not created yet), its lock held first so the
    folder is never seen without a live owner."""
    name = uuid.uuid4().hex[:12]
    held = acquire(worktree / DATA_FOLDER / f"{name}.lock", wait=True)
    assert held is not None  # a blocking acquire always returns a lock
    return DataDir(worktree / DATA_FOLDER / name, held)


def dead_data_dirs(worktree: Path) -> list[Path]:
    """Data folders (or their bare lock files) under ``worktree`` whose run is no longer alive:
    nobody holds the lock, or there is none (the lock is taken before the folder is made)."""
    folder = worktree / DATA_FOLDER
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    names = {e.name.removesuffix(".lock") for e in entries if e.is_dir() or e.suffix == ".lock"}
    return sorted(folder / n for n in names if not is_held(folder / f"{n}.lock"))


def remove_data_dir(path: Path) -> None:
    """Delete a dead run's data folder and lock, re-checked under the lock."""
    held = acquire(path.with_name(f"{path.name}.lock"))
    if held is not None:
        DataDir(path, held).discard()
