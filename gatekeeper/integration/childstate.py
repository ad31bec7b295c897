"""What the gates of one integration run left in the state dir, removed with the run.

A gate child in a temporary worktree claims state of its own, all naming that worktree: a
basetemp (``basetemp/<digest>/``, whose ``worktree`` file records the path), an owner lock and
port leases (whose records carry ``worktree``). A child killed with its run leaves them behind,
and nothing else would ever match them to the run: the basetemp waits for some later pytest
session's retention sweep, the owner lock for nobody. So the run's cleanup (and the next run's
sweep of a killed run) removes every such entry of a worktree under the run's directory, once
its lock is free. A lock still held belongs to a live process and is never touched.
"""

from __future__ import annotations

from pathlib import Path

from gatekeeper.resources import tempdirs
from gatekeeper.resources.locks import acquire, is_held, read_record, state_dir

_LOCK_FOLDERS = ("owners", "ports")


def remove(folder: Path) -> None:
    """Remove the basetemps, owner locks and port leases of worktrees under ``folder``."""
    state = state_dir()
    inside = folder.resolve()
    _basetemps(state, inside)
    for name in _LOCK_FOLDERS:
        _locks(state / name, inside)


def _under(recorded: object, folder: Path) -> bool:
    return isinstance(recorded, str) and bool(recorded) and Path(recorded).is_relative_to(folder)


def _basetemps(state: Path, folder: Path) -> None:
    base = tempdirs.root(state)
    for tree in sorted(base.iterdir()) if base.is_dir() else ():
        try:
            recorded = (tree / tempdirs.WORKTREE_FILE).read_text(encoding="utf-8")
        except OSError:
            continue
        if not _under(recorded, folder):
            continue
        for lock in sorted(tree.glob("*.lock")):
            if not is_held(lock):
                tempdirs.remove(lock.with_suffix(""))


def _locks(directory: Path, folder: Path) -> None:
    for path in sorted(directory.glob("*.lock")) if directory.is_dir() else ():
        if not _under(read_record(path).get("worktree"), folder):
            continue  # read without the lock first: others' leases are not even touched
        held = acquire(path)
        if held is None:
            continue  # alive
        if _under(held.read().get("worktree"), folder):
            held.remove()
        else:
            held.release()
