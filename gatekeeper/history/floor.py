"""The floor: every worktree with its last recorded gate run, and the figures of a window.

The worktrees and how each stands against its base and the others (ahead/behind, conflicts by
``git merge-tree``, ports, database) are given, as :mod:`gatekeeper.worktrees.listing` finds them
(the history sits below the worktrees and never imports them, not even for types: what it reads
of a worktree is :class:`Place`); the last run
and the figures from the history store. gatekeeper's own temporary worktrees (the hook's,
``integrate``'s) are not listed: their runs are recorded for the worktree that started them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol

from gatekeeper.errors import UsageError
from gatekeeper.git import repository
from gatekeeper.history import figures as figuring
from gatekeeper.history import flaky as flakiness
from gatekeeper.history.model import Run
from gatekeeper.history.origin import temporaries
from gatekeeper.history.store import Store, path_in

_SPAN: Final = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_UNIT: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def window(text: str) -> float:
    """Seconds in a window such as ``7d``, ``12h``, ``30m``, ``2w``; :class:`UsageError`
    naming ``--since`` otherwise."""
    found = _SPAN.fullmatch(text.strip())
    if found is None or float(found.group(1)) <= 0:
        raise UsageError(
            f"--since {text!r} is not a window: give a positive number and a unit, s, m, h, d "
            "or w (for example --since 7d or --since 12h)."
        )
    return float(found.group(1)) * _UNIT[found.group(2)]


class Place(Protocol):
    """What the floor reads of a worktree (``gatekeeper.worktrees.listing.WorktreeState`` has
    it): where it is, what it holds, and how it stands against its base and the others."""

    name: str
    path: str
    branch: str | None
    head: str | None
    base: str | None
    ports: dict[str, int]
    database: str | None
    ahead: int | None
    behind: int | None
    conflicts_base: bool | None
    conflicts_with: list[str]

    def as_dict(self) -> dict[str, object]:
        """The worktree as ``worktree list --json`` shows it."""
        ...


@dataclass(frozen=True, slots=True)
class LastRun:
    """A worktree's newest recorded run, and whether it judged another commit than its head."""

    run: Run
    stale: bool

    def as_dict(self, now: float) -> dict[str, object]:
        run = self.run
        return {
            "verdict": run.verdict,
            "finished": round(run.finished, 3),
            "age": round(max(0.0, now - run.finished), 1),
            "entry": run.entry,
            "failed_checks": run.failed_checks(),
            "failed_tests": list(run.failed_tests),
            "head": run.head,
            "tree": run.tree,
            "cached": run.cached,
            "duration": round(run.duration, 3),
            "stale": self.stale,
        }


@dataclass(slots=True)
class Worktree:
    """One line of the floor."""

    place: Place
    last: LastRun | None = None

    def as_dict(self, now: float) -> dict[str, object]:
        data = self.place.as_dict()
        data.pop("gate", None)  # the report's view; the history's is `last`
        data["last"] = None if self.last is None else self.last.as_dict(now)
        return data


@dataclass(slots=True)
class Floor:
    """Everything ``gatekeeper status`` shows, as of ``now``."""

    now: float
    since: float
    store: str | None
    worktrees: list[Worktree] = field(default_factory=list)
    figures: figuring.Figures = field(default_factory=figuring.Figures)
    flaky: list[flakiness.Flaky] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """The floor for agents and scripts (``status --json``; docs/floor.md)."""
        return {
            "schema": 1,
            "now": round(self.now, 3),
            "since": round(self.since, 3),
            "store": self.store,
            "worktrees": [w.as_dict(self.now) for w in self.worktrees],
            "figures": self.figures.as_dict(),
            "flaky": [f.as_dict() for f in self.flaky],
        }


def collect(
    start: Path,
    span: float,
    places: Callable[[Path], Iterable[Place]],
    now: float | None = None,
) -> Floor:
    """The floor of the repository around ``start``: its worktrees, as ``places`` finds them
    (:func:`gatekeeper.worktrees.listing.collect`), with their last runs, and figures over the
    last ``span`` seconds."""
    common = repository.common_dir(start)
    if common is None:
        raise UsageError(f"{start} is not inside a git repository; run `gatekeeper status` in one.")
    moment = time.time() if now is None else now
    hidden = temporaries(common).resolve()
    shown = [p for p in places(start) if not Path(p.path).resolve().is_relative_to(hidden)]
    path = path_in(common)
    floor = Floor(moment, moment - span, str(path))
    latest: dict[str, Run] = {}
    if path.is_file():
        with Store.open(path, create=False) as store:
            latest = {_key(run.worktree): run for run in store.latest()}
            runs = store.runs(floor.since)
            floor.flaky = flakiness.find(store, floor.since)
        floor.figures = figuring.compute(runs)
    for place in shown:
        run = latest.get(_key(place.path))
        last = None if run is None else LastRun(run, _stale(run, place.head))
        floor.worktrees.append(Worktree(place, last))
    return floor


def _key(path: str) -> str:
    return str(Path(path).resolve())


def _stale(run: Run, head: str | None) -> bool:
    """A run in the worktree itself that judged another commit than its head now. (The gates
    of the hook and integration judge merge results, never the head itself.)"""
    return run.entry in ("pytest", "run", "combine") and run.head != head
