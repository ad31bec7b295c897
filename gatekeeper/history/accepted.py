"""The record of a verdict answered from the cache of passes, before any gate ran.

The pre-push hook, ``integrate`` and ``land`` accept a commit whose tree the whole gate already
passed (:mod:`gatekeeper.cache.gatepasses`) without a temporary worktree or a child gate, so no
session records it (:mod:`gatekeeper.history.recording`). :func:`record` writes that answer: one
run for the worktree that asked, its entry point, the commit and its tree, passed and cached,
with no check details (none ran). Like every record, it never changes the verdict and never
fails the command: a store that cannot be written costs one warning line.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from gatekeeper.config import Settings
from gatekeeper.git import repository
from gatekeeper.history.model import Run
from gatekeeper.history.origin import NESTED
from gatekeeper.history.recording import WARNING
from gatekeeper.history.store import Store, location
from gatekeeper.model import Status
from gatekeeper.version import installed_version


def record(
    start: Path, entry: str, commit: str, base: str | None = None, *, settings: Settings | None
) -> None:
    """Record that ``commit`` was accepted from the cache for ``entry`` (one of
    :data:`~gatekeeper.history.origin.NESTED`) asked in the worktree holding ``start``, merged
    onto the commit ``base`` when it was a merge result; a failure is a warning on standard
    error, never raised.

    ``settings`` are the loaded setup's, from the caller that has them (``integrate``,
    ``land``, a gated session); ``None`` only in a process that loaded none (the pre-push
    hook), which loads the setup here for the history's keys."""
    try:
        warning = _record(start, entry, commit, base, settings)
    except Exception as error:  # recording is information: it must never fail the command
        warning = f"{WARNING}: {str(error) or type(error).__name__}"
    if warning:
        print(warning, file=sys.stderr, flush=True)


def _record(
    start: Path, entry: str, commit: str, base: str | None, settings: Settings | None
) -> str | None:
    assert entry in NESTED, entry
    if settings is None:
        from gatekeeper.gate import load_setup  # the gate's modules, only when a run is recorded

        settings = load_setup(start).settings
    path = location(start)
    if not settings.flag("history.record") or path is None:
        return None
    facts = repository.facts(start)
    now = time.time()
    run = Run(
        finished=now,
        entry=entry,
        worktree=facts.root if facts is not None else str(start.resolve()),
        branch=facts.branch if facts is not None else None,
        head=commit,
        tree=repository.output(start, "rev-parse", "--verify", "--quiet", f"{commit}^{{tree}}"),
        base=base,
        verdict=Status.PASSED.value,
        duration=0.0,
        cached=True,
        whole_suite=True,  # the cache of passes holds only passes of the whole gate
        version=installed_version(),
    )
    with Store.open(path) as store:
        store.add(run)
        keep_days = settings.number("history.keep-days") or 0.0
        store.prune(keep_days=keep_days, keep_runs=settings.integer("history.keep-runs"), now=now)
    return None
