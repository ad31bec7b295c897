"""Owner liveness: every process that owns resources holds ``owners/<key>.lock`` for its whole
life. The kernel releases it when the process dies, even by SIGKILL, which is how the sweep
tells a dead owner's leftovers from a live one's."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from gatekeeper.resources.identity import WORKTREE, Identity
from gatekeeper.resources.locks import Held, acquire, is_held, state_dir


def lock_path(key: str, state: Path | None = None) -> Path:
    return (state or state_dir()) / "owners" / f"{key}.lock"


def claim(identity: Identity, state: Path | None = None) -> Held:
    """Hold the owner lock of ``identity`` (blocking until a previous holder is gone)."""
    held = acquire(lock_path(identity.key, state), wait=True)
    assert held is not None  # a blocking acquire always returns a lock
    held.write({**identity.record(), "since": time.time()})
    return held


def alive(record: dict[str, object], state: Path | None = None) -> bool:
    """Whether the owner named in a resource's record still runs.

    Only owners on this host can be judged; one on another host counts as alive (its
    resources go by their time-to-live instead). A record without an owner is not ours: alive.
    A worktree-lifetime resource is alive while its worktree exists.
    """
    if record.get("host") != socket.gethostname():
        return True
    if record.get("lifetime") == WORKTREE:
        return worktree_exists(record)
    owner = record.get("owner")
    return not isinstance(owner, str) or is_held(lock_path(owner, state))


def worktree_exists(record: dict[str, object]) -> bool:
    """Whether the worktree a worktree-lifetime resource belongs to is still there."""
    worktree = record.get("worktree")
    return isinstance(worktree, str) and (Path(worktree) / ".git").exists()


def expired(record: dict[str, object], now: float | None = None) -> bool:
    """Whether a record's ``expires`` time (seconds since the epoch) has passed."""
    expires = record.get("expires")
    return isinstance(expires, int | float) and expires < (now or time.time())
