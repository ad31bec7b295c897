"""``gatekeeper status`` in the terminal: one line per worktree, then the floor's figures."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from gatekeeper.history.figures import Count, Figures
from gatekeeper.history.floor import Floor, LastRun, Worktree

HEADER = ("WORKTREE", "BRANCH", "LAST GATE", "FAILED", "AHEAD/BEHIND", "CONFLICTS", "PORTS", "DB")
SHOWN = 5  # entries of each figure list in the terminal (--json has them all)


def ago(seconds: float) -> str:
    """A short age: ``40s``, ``5m``, ``3h``, ``2d``."""
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size:.0f}{unit}"
    return f"{seconds:.0f}s"


def runs(count: int, what: str = "run") -> str:
    """``1 run``, ``2 runs``."""
    return f"{count} {what}{'' if count == 1 else 's'}"


def lines(floor: Floor, since: str) -> list[str]:
    """The whole view: the worktree table, then the figures of the last ``since``."""
    return [*table(floor), "", *figure_lines(floor, since)]


def table(floor: Floor) -> list[str]:
    """One aligned line per worktree, under a header."""
    rows = [HEADER, *(cells(w, floor.now) for w in floor.worktrees)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def cells(worktree: Worktree, now: float) -> tuple[str, ...]:
    place = worktree.place
    counts = "-" if place.ahead is None else f"+{place.ahead}/-{place.behind}"
    failed = worktree.last.run.failed_checks() if worktree.last else []
    return (
        place.name,
        place.branch or "(detached)",
        last_gate(worktree.last, now),
        ", ".join(failed) or "-",
        counts,
        conflicts(place.conflicts_base, place.base, place.conflicts_with),
        ",".join(f"{k}={v}" for k, v in place.ports.items()) or "-",
        place.database or "-",
    )


def last_gate(last: LastRun | None, now: float) -> str:
    """``failed 5m ago (hook)``, ``passed 2h ago (pytest, cached)``, ``never run``."""
    if last is None:
        return "never run"
    run = last.run
    notes = [run.entry] + (["cached"] if run.cached else []) + (["stale"] if last.stale else [])
    return f"{run.verdict} {ago(now - run.finished)} ago ({', '.join(notes)})"


def conflicts(with_base: bool | None, base: str | None, others: Sequence[str]) -> str:
    found = ([f"base {base}"] if with_base else []) + list(others)
    return ", ".join(found) if found else ("-" if with_base is None else "none")


def figure_lines(floor: Floor, since: str) -> list[str]:
    """The figures of the window and the flaky tests."""
    figures = floor.figures
    if not figures.runs:
        return [f"no gate run recorded in the last {since}"]
    found = [
        f"the last {since}: {runs(figures.runs, 'gate run')}, {figures.passed} passed "
        f"({figures.rate:.0%})",
        *_block("first-try pass rate per branch:", _first_try(figures)),
        *_block("most frequent failing checks:", _counts(figures.failing_checks)),
        *_block("most frequent failing tests:", _counts(figures.failing_tests)),
        *_block(
            "median gate time per check (runs that ran it):",
            _pairs((t.name, f"{t.median:.1f}s ({runs(t.runs)})") for t in figures.check_times),
        ),
        *_block("flaky tests:", [f.describe() for f in floor.flaky[:SHOWN]]),
    ]
    if len(floor.flaky) > SHOWN:
        found.append(f"  ... and {len(floor.flaky) - SHOWN} more (--json lists them all)")
    return found


def _block(title: str, items: Sequence[str]) -> Iterator[str]:
    if items:
        yield title
        yield from (f"  {item}" for item in items)


def _first_try(figures: Figures) -> list[str]:
    return _pairs(
        (rate.branch, f"{rate.passed}/{rate.trees} ({rate.rate:.0%})") for rate in figures.first_try
    )


def _counts(counts: Sequence[Count]) -> list[str]:
    return _pairs((count.name, runs(count.runs)) for count in counts[:SHOWN])


def _pairs(pairs: Iterator[tuple[str, str]] | Sequence[tuple[str, str]]) -> list[str]:
    listed = list(pairs)
    width = max((len(name) for name, _ in listed), default=0)
    return [f"{name.ljust(width)}  {value}" for name, value in listed]
