"""Where prepared artifacts live between runs, and the lock that lets one process prepare each.

The cache is outside the repository (``$GATEKEEPER_TEST_CACHE``, else
``$XDG_CACHE_HOME/gatekeeper-tests``, else ``~/.cache/gatekeeper-tests``), so every worktree and
every run of the suite on this machine shares the downloads and the dependency environments.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gatekeeper.resources.locks import acquire

CACHE_ENV = "GATEKEEPER_TEST_CACHE"


def cache_root() -> Path:
    """The folder that keeps source distributions and environments between runs."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "gatekeeper-tests"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (waiting for it): concurrent sessions and xdist
    workers prepare each artifact once and the others wait for it to be ready."""
    held = acquire(path, wait=True)
    assert held is not None  # waiting never gives up
    try:
        yield
    finally:
        held.release()
