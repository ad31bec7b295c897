"""Owner liveness: every process that owns resources holds ``owners/<key>.lock`` for its whole
life. The kernel releases it when the process dies, even by SIGKILL, which is how the sweep
tells a dead owner's leftovers from a live one's.

Each resource records the absolute path of its owner's lock (``lock``), because the owner's
state dir need not be the sweeper's: two runs, or tests with private state dirs, share one
PostgreSQL server. The rule, for an owner on this host (see ``docs/owners.md``):

- the recorded lock is held: alive; it exists and nobody holds it: dead;
- it is missing: dead when it would be in the sweeper's own state dir (an owner creates its
  lock before any resource, so it is gone for good) or when its folder is gone (the whole
  state dir was removed); otherwise nobody can tell, so alive, and the time-to-live decides;
- a lock that cannot be opened (another user's state dir): alive;
- a record without a usable ``lock`` (written before owners recorded it): the lock named for
  the owner in the sweeper's own state dir, as before.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from pathlib import Path

from gatekeeper.resources.identity import WORKTREE, Identity, machine
from gatekeeper.resources.locks import Held, acquire, is_held, probe, state_dir


def lock_path(key: str, state: Path | None = None) -> Path:
    """The owner lock of ``key`` in ``state`` (default: this process's state dir), absolute."""
    return ((state or state_dir()) / "owners" / f"{key}.lock").absolute()


def claim(identity: Identity, state: Path | None = None) -> Held:
    """Hold the owner lock of ``identity`` (blocking until a previous holder is gone).
    Pass the result to :func:`owned` so the resources made afterwards name this lock."""
    held = acquire(lock_path(identity.key, state), wait=True)
    assert held is not None  # a blocking acquire always returns a lock
    held.write({**identity.record(), "lock": str(held.path), "since": time.time()})
    return held


def owned(identity: Identity, held: Held) -> Identity:
    """``identity`` recording ``held`` as its owner lock (in every record it writes)."""
    return dataclasses.replace(identity, lock=str(held.path))


def alive(record: dict[str, object], state: Path | None = None) -> bool:
    """Whether the owner named in a resource's record still runs (``state``: the sweeper's).

    Only owners on this machine can be judged (:func:`on_this_machine`); any other counts as
    alive (its resources go by their time-to-live instead). A record without an owner is not
    ours: alive. A worktree-lifetime resource is alive while its worktree exists.
    """
    if not on_this_machine(record):
        return True
    if record.get("lifetime") == WORKTREE:
        return worktree_exists(record)
    owner = record.get("owner")
    if not isinstance(owner, str):
        return True
    lock = recorded_lock(record)
    if lock is None:
        return is_held(lock_path(owner, state))
    return lock_alive(lock, state)


def on_this_machine(record: dict[str, object]) -> bool:
    """Whether a record's owner ran where this process runs: the same host name and the same
    machine (boot id, pid and mount namespaces). A record without its machine, or a process
    that cannot read its own, establishes nothing: False, so nothing is judged dead."""
    here = machine()
    return (
        here is not None
        and record.get("host") == socket.gethostname()
        and record.get("machine") == here
    )


def recorded_lock(record: dict[str, object]) -> Path | None:
    """The owner lock a record names: an absolute path to ``<owner>.lock``, else None."""
    lock, owner = record.get("lock"), record.get("owner")
    if not isinstance(lock, str):
        return None
    path = Path(lock)
    return path if path.is_absolute() and path.name == f"{owner}.lock" else None


def lock_alive(lock: Path, state: Path | None = None) -> bool:
    """Whether the owner holding (or that held) ``lock`` still runs, by the module's rule."""
    try:
        held = probe(lock)
    except OSError:
        return True  # cannot look: never drop what might be live
    if held is not None:
        return held
    return lock.parent.is_dir() and not _is_own(lock.parent, state)


def _is_own(folder: Path, state: Path | None) -> bool:
    try:
        return folder.samefile((state or state_dir()) / "owners")
    except OSError:
        return False


def worktree_exists(record: dict[str, object]) -> bool:
    """Whether the worktree a worktree-lifetime resource belongs to is still there."""
    worktree = record.get("worktree")
    return isinstance(worktree, str) and (Path(worktree) / ".git").exists()


def expired(record: dict[str, object], now: float | None = None) -> bool:
    """Whether a record's ``expires`` time (seconds since the epoch) has passed."""
    expires = record.get("expires")
    return isinstance(expires, int | float) and expires < (now or time.time())
