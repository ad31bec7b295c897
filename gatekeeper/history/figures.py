"""The floor's figures over a window of recorded runs: how often a branch passes at the first
try, what fails most, how long each check takes, and how all of it moves from day to day.

- **first-try pass rate** of a branch: of the distinct trees (contents) its gates judged, the
  share whose first gate run passed. A tree judged again after a failure is the retry the figure
  counts against; a tree that passed elsewhere first (a cached run) counts as that run did.
- **failing checks / tests**: in how many runs each failed (a check that could not run counts).
- **median time per check**: over the runs that ran it; a result reused from the cache or a
  skipped check took no time and is left out.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from gatekeeper.history.model import Run

DETACHED = "(detached)"


@dataclass(frozen=True, slots=True)
class FirstTry:
    """A branch's first-try record: ``passed`` of its ``trees`` passed at their first run."""

    branch: str
    trees: int
    passed: int

    @property
    def rate(self) -> float:
        return self.passed / self.trees if self.trees else 0.0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "rate": round(self.rate, 4)}


@dataclass(frozen=True, slots=True)
class Count:
    """How many runs ``name`` (a check or a test id) failed in."""

    name: str
    runs: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class CheckTime:
    """The median seconds ``name`` took over the ``runs`` that ran it."""

    name: str
    median: float
    runs: int

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "median": round(self.median, 3), "runs": self.runs}


@dataclass(frozen=True, slots=True)
class Day:
    """One UTC day: how many runs, how many passed, and the median gate time."""

    day: str
    runs: int
    passed: int
    median_duration: float

    @property
    def rate(self) -> float:
        return self.passed / self.runs if self.runs else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "day": self.day,
            "runs": self.runs,
            "passed": self.passed,
            "rate": round(self.rate, 4),
            "median_duration": round(self.median_duration, 3),
        }


@dataclass(frozen=True, slots=True)
class Figures:
    """Every figure of the window."""

    runs: int = 0
    passed: int = 0
    first_try: tuple[FirstTry, ...] = ()
    failing_checks: tuple[Count, ...] = ()
    failing_tests: tuple[Count, ...] = ()
    check_times: tuple[CheckTime, ...] = ()
    days: tuple[Day, ...] = ()

    @property
    def rate(self) -> float:
        return self.passed / self.runs if self.runs else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "runs": self.runs,
            "passed": self.passed,
            "rate": round(self.rate, 4),
            "first_try": [item.as_dict() for item in self.first_try],
            "failing_checks": [item.as_dict() for item in self.failing_checks],
            "failing_tests": [item.as_dict() for item in self.failing_tests],
            "check_times": [item.as_dict() for item in self.check_times],
            "days": [item.as_dict() for item in self.days],
        }


def compute(runs: Sequence[Run], top: int = 10) -> Figures:
    """The figures of ``runs`` (oldest first); lists of failures keep the ``top`` most."""
    return Figures(
        runs=len(runs),
        passed=sum(run.passed for run in runs),
        first_try=first_try(runs),
        failing_checks=_most(
            (name for run in runs for name in dict.fromkeys(run.failed_checks())), top
        ),
        failing_tests=_most((test for run in runs for test in run.failed_tests), top),
        check_times=check_times(runs),
        days=days(runs),
    )


def first_try(runs: Iterable[Run]) -> tuple[FirstTry, ...]:
    """Per branch, how many of the trees it judged passed at their first run, by branch."""
    first: dict[tuple[str, str], Run] = {}
    for run in sorted(runs, key=lambda r: r.finished):
        content = run.tree or run.head or f"run {run.id}"
        first.setdefault((run.branch or DETACHED, content), run)
    trees: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    for (branch, _), run in first.items():
        trees[branch] += 1
        passed[branch] += run.passed
    return tuple(FirstTry(branch, trees[branch], passed[branch]) for branch in sorted(trees))


def check_times(runs: Iterable[Run]) -> tuple[CheckTime, ...]:
    """The median time of each check over the runs that ran it, in the order first seen."""
    taken: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        for check in run.checks:
            if not check.cached and check.status != "skipped":
                taken[check.name].append(check.duration)
    return tuple(
        CheckTime(name, statistics.median(values), len(values)) for name, values in taken.items()
    )


def days(runs: Iterable[Run]) -> tuple[Day, ...]:
    """The runs grouped by the UTC day they finished, oldest first."""
    grouped: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        grouped[time.strftime("%Y-%m-%d", time.gmtime(run.finished))].append(run)
    return tuple(
        Day(
            day,
            len(group),
            sum(run.passed for run in group),
            statistics.median(run.duration for run in group),
        )
        for day, group in sorted(grouped.items())
    )


def _most(names: Iterable[str], top: int) -> tuple[Count, ...]:
    counted = Counter(names)
    ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return tuple(Count(name, runs) for name, runs in ranked[:top])
