"""Who owns a resource: a worktree (its root and branch) x a run x a worker.

xdist worker ids (``gw0``...) and run ids repeat in every worktree, so every name built from an
identity also carries a digest of the worktree root. The run id is made once by the session that
starts the run and handed to its xdist workers and child processes.

Every record also says where its owner runs: the host name, and the machine (:func:`machine`),
which tells apart containers that share a host name but not their processes or files.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

RUN_ENV: Final = "GATEKEEPER_RUN_ID"
WORKER_ENV: Final = "GATEKEEPER_WORKER"
WORKTREE_ENV: Final = "GATEKEEPER_WORKTREE"
MAIN_WORKER: Final = "main"
# -- worktrees: resources that live as long as a worktree, not a process --
PROCESS: Final = "process"
WORKTREE: Final = "worktree"
# -- end worktrees --
BOOT_ID: Final = Path("/proc/sys/kernel/random/boot_id")
# The namespaces an owner's liveness is judged through: its processes (pid) and its files,
# where the owner lock and the worktree live (mnt).
NAMESPACES: Final = ("pid", "mnt")


def digest(*parts: str) -> str:
    """A stable hex digest of ``parts`` (separated, so ``("a", "bc") != ("ab", "c")``)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def machine() -> str | None:
    """Where this process runs, finer than the host name: the kernel's boot id (one per boot
    of one machine; containers on it share it) and the pid and mount namespaces (each
    container has its own). None where they cannot be read (not Linux): such an owner is
    never judged dead by anyone, only its time-to-live removes its resources."""
    try:
        boot = BOOT_ID.read_text(encoding="utf-8").strip()
        spaces = [str(Path(f"/proc/self/ns/{name}").readlink()) for name in NAMESPACES]
    except OSError:
        return None
    return ";".join([boot, *spaces]) if boot else None


def new_run_id() -> str:
    """A fresh run id: random, short, safe in file and database names."""
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True, slots=True)
class Identity:
    """The owner of resources. ``worktree`` is an absolute path; ``branch`` None when detached."""

    worktree: str
    run: str
    worker: str = MAIN_WORKER
    branch: str | None = None
    # ``worktree``: the resources live until the worktree is removed (``gatekeeper worktree``),
    # not until this process ends; the sweep then judges them by the worktree's existence.
    lifetime: str = PROCESS
    # The absolute path of the owner lock this process holds (``owners.claim``); recorded on
    # every resource so a sweep with another state dir judges the owner by the right lock.
    # None until claimed: such records fall back to the sweeper's own state dir.
    lock: str | None = None

    @property
    def key(self) -> str:
        """Unique per worktree, run and worker; names owner locks and markers."""
        return digest(self.worktree, self.run, self.worker)[:16]

    @property
    def worktree_key(self) -> str:
        """Unique per worktree, the same for every run and worker."""
        return digest(self.worktree)[:12]

    def seed(self, name: str) -> str:
        """What a preferred port is derived from: stable across runs, distinct per worker."""
        return digest(self.worktree, self.worker, name)

    def environ(self) -> dict[str, str]:
        """The namespaced variables that tell child processes who they work for."""
        return {WORKTREE_ENV: self.worktree, RUN_ENV: self.run, WORKER_ENV: self.worker}

    def record(self) -> dict[str, object]:
        """Owner metadata stored with every resource (lock files, markers, annotations)."""
        # A worktree-lifetime resource has no owner process (no lock to judge it by).
        process = self.lifetime == PROCESS
        return {
            "gatekeeper": 1,
            "owner": self.key if process else None,
            "lock": self.lock if process else None,
            "host": socket.gethostname(),
            "machine": machine(),
            "pid": os.getpid(),
            "worktree": self.worktree,
            "branch": self.branch,
            "run": self.run,
            "worker": self.worker,
            "lifetime": self.lifetime,
        }


def from_environ(worktree: Path, environ: Mapping[str, str], branch: str | None = None) -> Identity:
    """The identity of a process started by a gatekeeper session (its variables), or a new run."""
    return Identity(
        worktree=str(worktree.resolve()),
        run=environ.get(RUN_ENV) or new_run_id(),
        worker=environ.get(WORKER_ENV) or MAIN_WORKER,
        branch=branch,
    )
