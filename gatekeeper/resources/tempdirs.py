"""A basetemp per worktree and run, so concurrent sessions never delete each other's files.

pytest's default basetemp (``pytest-of-USER/pytest-N``) is shared by every session of a user and
keeps only the newest three, so one worktree's session can delete a directory another worktree's
session is still using. Here each run gets ``basetemp/<worktree digest>/<run>``, owned through
``<run>.lock`` held by the session for its life; a dead run's directory is removed later, keeping
the newest few for inspection as pytest does.

``basetemp/`` lives in the state dir, or under ``$PYTEST_DEBUG_TEMPROOT`` when that is set
(pytest's own temp root setting, which pytester sets for the runs it starts), in a private
``gatekeeper-<uid>`` folder as pytest keeps ``pytest-of-<user>``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gatekeeper.resources.identity import digest
from gatekeeper.resources.locks import Held, acquire, due, is_held, private_dir, state_dir

KEEP: Final = 3  # pytest's default tmp_path_retention_count
FULL_SWEEP_EVERY: Final = 3600.0  # seconds between sweeps of every worktree's basetemps
WORKTREE_FILE: Final = "worktree"
TEMPROOT_ENV: Final = "PYTEST_DEBUG_TEMPROOT"


@dataclass(frozen=True, slots=True)
class Basetemp:
    path: Path
    held: Held


def root(state: Path | None = None) -> Path:
    """Where the basetemps are: under ``state`` when given, else under pytest's temp root when
    ``$PYTEST_DEBUG_TEMPROOT`` names one, else in the state dir."""
    if state is not None:
        return state / "basetemp"
    temproot = os.environ.get(TEMPROOT_ENV)
    if temproot:
        folder = Path(temproot).resolve() / f"gatekeeper-{os.getuid()}"  # as pytest resolves it
        private = private_dir(folder, "temp root", TEMPROOT_ENV)
        return private / "basetemp"
    return state_dir() / "basetemp"


def claim(worktree: Path, run: str, state: Path | None = None) -> Basetemp:
    """The basetemp of ``run`` in ``worktree``, owned by this process until it ends.

    The directory itself is not created: pytest creates (and empties) a given ``--basetemp``.
    The worktree's folder records the worktree's path, so it can go once the worktree is gone.
    """
    resolved = str(worktree.resolve())
    folder = root(state) / digest(resolved)[:12]
    held = acquire(folder / f"{run}.lock", wait=True)
    assert held is not None
    (folder / WORKTREE_FILE).write_text(resolved, encoding="utf-8")
    return Basetemp(folder / run, held)


def dead(state: Path | None = None, keep: int = KEEP, worktree: Path | None = None) -> list[Path]:
    """Basetemps of finished runs beyond the newest ``keep`` per worktree (all of them when the
    worktree no longer exists), oldest first; only ``worktree``'s when one is given. Files
    vanishing meanwhile (another session sweeping at the same time) are skipped."""
    found: list[Path] = []
    base = root(state)
    if not base.is_dir():
        return found
    if worktree is not None:
        folders = [base / digest(str(worktree.resolve()))[:12]]
    else:
        folders = sorted(base.iterdir())
    for folder in folders:
        kept = 0 if _worktree_gone(folder) else keep
        runs = [(stamp, p) for p in _locks(folder) if (stamp := _mtime(p)) is not None]
        runs = [(stamp, p) for stamp, p in runs if not is_held(p)]
        runs.sort(reverse=True)
        found.extend(p.with_suffix("") for _, p in runs[kept:])
    return found


def full_sweep_due(state: Path | None = None, every: float = FULL_SWEEP_EVERY) -> bool:
    """Whether the basetemps of every worktree are due for a sweep (at most once per ``every``
    seconds per state dir); marks it done. Each session sweeps its own worktree's anyway: the
    full scan costs in proportion to every worktree ever seen, too much for every start."""
    return due(root(state) / ".swept", every)


def _locks(folder: Path) -> list[Path]:
    try:
        return list(folder.glob("*.lock"))
    except OSError:
        return []


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


def _worktree_gone(folder: Path) -> bool:
    try:
        recorded = (folder / WORKTREE_FILE).read_text(encoding="utf-8")
    except OSError:
        return False  # no record (older layout or being written): judge by age only
    return bool(recorded) and not Path(recorded).is_dir()


def discard(basetemp: Basetemp) -> None:
    """Delete this run's own basetemp and lock at its end (``tmp_path_retention_policy`` says
    nothing of it is kept)."""
    shutil.rmtree(basetemp.path, ignore_errors=True)
    basetemp.held.remove()


def remove(path: Path) -> None:
    """Delete a dead run's basetemp and its lock file; the worktree's folder too once it is
    empty and its worktree is gone."""
    shutil.rmtree(path, ignore_errors=True)
    path.with_suffix(".lock").unlink(missing_ok=True)
    folder = path.parent
    if _worktree_gone(folder) and not _locks(folder):
        with contextlib.suppress(OSError):
            (folder / WORKTREE_FILE).unlink()
            folder.rmdir()
