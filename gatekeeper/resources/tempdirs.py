"""A basetemp per worktree and run, so concurrent sessions never delete each other's files.

pytest's default basetemp (``pytest-of-USER/pytest-N``) is shared by every session of a user and
keeps only the newest three, so one worktree's session can delete a directory another worktree's
session is still using. Here each run gets ``basetemp/<worktree digest>/<run>``, owned through
``<run>.lock`` held by the session for its life; a dead run's directory is removed later, keeping
the newest few for inspection as pytest does.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gatekeeper.resources.identity import digest
from gatekeeper.resources.locks import Held, acquire, is_held, state_dir

KEEP: Final = 3


@dataclass(frozen=True, slots=True)
class Basetemp:
    path: Path
    held: Held


def root(state: Path | None = None) -> Path:
    return (state or state_dir()) / "basetemp"


def claim(worktree: Path, run: str, state: Path | None = None) -> Basetemp:
    """The basetemp of ``run`` in ``worktree``, owned by this process until it ends.

    The directory itself is not created: pytest creates (and empties) a given ``--basetemp``.
    """
    folder = root(state) / digest(str(worktree.resolve()))[:12]
    held = acquire(folder / f"{run}.lock", wait=True)
    assert held is not None
    return Basetemp(folder / run, held)


def dead(state: Path | None = None, keep: int = KEEP) -> list[Path]:
    """Basetemps of finished runs beyond the newest ``keep`` per worktree, oldest first."""
    found: list[Path] = []
    base = root(state)
    if not base.is_dir():
        return found
    for folder in sorted(base.iterdir()):
        runs = [p for p in folder.glob("*.lock") if not is_held(p)]
        runs.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        found.extend(p.with_suffix("") for p in runs[keep:])
    return found


def remove(path: Path) -> None:
    """Delete a dead run's basetemp and its lock file."""
    shutil.rmtree(path, ignore_errors=True)
    path.with_suffix(".lock").unlink(missing_ok=True)
