"""Where a gate run came from (its entry point) and which worktree it is recorded for.

``pytest --gatekeeper`` and ``gatekeeper run`` are recorded for the worktree they ran in. The
gates of the pre-push hook, ``integrate`` and ``land`` run as ``gatekeeper run`` in temporary
worktrees under ``<git common dir>/gatekeeper/worktrees/``, which are gone a moment later: the
caller hands its entry point and the worktree it was started from down in two variables
(:func:`handed_down`), and the gate believes them only when it runs in such a temporary worktree
(:func:`of_session`). Anywhere else they were inherited by something they were not meant for (a
test suite that runs gates of its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gatekeeper.git import repository

ENTRY_ENV: Final = "GATEKEEPER_HISTORY_ENTRY"
ORIGIN_ENV: Final = "GATEKEEPER_HISTORY_ORIGIN"
NESTED: Final = ("hook", "integrate", "land")


@dataclass(frozen=True, slots=True)
class Origin:
    """The entry point of a run and the worktree it belongs to."""

    entry: str
    worktree: Path


def handed_down(start: Path, entry: str) -> dict[str, str]:
    """The variables that tell a gate in a temporary worktree who started it: ``entry`` (one
    of :data:`NESTED`) from the worktree holding ``start``."""
    assert entry in NESTED, entry
    return {ENTRY_ENV: entry, ORIGIN_ENV: str(start.resolve())}


def of_session(worktree: Path, environ: Mapping[str, str], *, via_run: bool) -> Origin:
    """The origin of a gated session in ``worktree``: handed down to a temporary worktree's
    gate, else ``run`` (started by ``gatekeeper run``) or ``pytest``."""
    entry, origin = environ.get(ENTRY_ENV), environ.get(ORIGIN_ENV)
    if entry in NESTED and origin and _temporary(worktree):
        return Origin(str(entry), Path(origin))
    return Origin("run" if via_run else "pytest", worktree)


def temporaries(common: Path) -> Path:
    """Where gatekeeper's temporary worktrees live, for the git common dir ``common``
    (:func:`gatekeeper.integration.worktreegate.worktrees_root`, which also makes the folder)."""
    return common / "gatekeeper" / "worktrees"


def _temporary(worktree: Path) -> bool:
    """Whether ``worktree`` is one of gatekeeper's temporary worktrees."""
    common = repository.common_dir(worktree)
    if common is None:
        return False
    return worktree.resolve().is_relative_to(temporaries(common).resolve())
