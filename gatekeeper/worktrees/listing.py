"""``gatekeeper worktree list``: every worktree, its resources, how it stands against the base
and the other worktrees, and its last gate run.

Conflicts are decided by ``git merge-tree --write-tree`` on committed heads (no working tree or
index is touched; uncommitted changes are not part of it): exit 0 merges cleanly, 1 conflicts.
The last gate run is read from the worktree's JSON report; it is ``stale`` when the report
judged another commit than the worktree's head.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path

from gatekeeper import config as configuration
from gatekeeper.errors import GatekeeperError
from gatekeeper.git import repository, scope
from gatekeeper.worktrees import locations, records
from gatekeeper.worktrees.records import WorktreeRecord


@dataclass(frozen=True, slots=True)
class LastGate:
    """The verdict of the worktree's last gate run, how old it is, and whether it is stale."""

    verdict: str
    age: float
    stale: bool


@dataclass(slots=True)
class WorktreeState:
    """One row of ``list``. ``state`` is the record's state, ``unmanaged`` without a record,
    ``missing`` for a record whose worktree is gone, ``main`` for the main checkout."""

    name: str
    path: str
    branch: str | None
    head: str | None
    state: str
    base: str | None = None
    ports: dict[str, int] = field(default_factory=dict)
    database: str | None = None
    ahead: int | None = None
    behind: int | None = None
    conflicts_base: bool | None = None
    conflicts_with: list[str] = field(default_factory=list)
    gate: LastGate | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def collect(start: Path) -> list[WorktreeState]:
    """The status of every worktree of the repository around ``start``."""
    known = {str(Path(r.path).resolve()): r for r in records.load_all(start)}
    rows = [
        _row(entry, known.pop(str(entry.path.resolve()), None)) for entry in locations.listed(start)
    ]
    rows += [_missing(record) for record in known.values()]
    default = _default_base(start)
    for row in rows:
        _compare_with_base(start, row, default)
    _compare_pairs(start, [r for r in rows if r.state != "main" and r.head])
    return rows


def _row(entry: locations.GitWorktree, record: WorktreeRecord | None) -> WorktreeState:
    state = "main" if entry.main else (record.state if record else "unmanaged")
    row = WorktreeState(
        record.name if record else entry.path.name,
        str(entry.path),
        entry.branch,
        entry.head,
        state,
    )
    if record is not None:
        row.base, row.ports = record.base, dict(record.ports)
        row.database = record.database["name"] if record.database else None
    row.gate = last_gate(entry.path, entry.head)
    return row


def _missing(record: WorktreeRecord) -> WorktreeState:
    database = record.database["name"] if record.database else None
    return WorktreeState(
        record.name,
        record.path,
        record.branch,
        None,
        "missing",
        record.base,
        dict(record.ports),
        database,
    )


def _default_base(start: Path) -> str | None:
    try:
        return scope.detect_base(start)
    except GatekeeperError:
        return None


def _compare_with_base(start: Path, row: WorktreeState, default: str | None) -> None:
    row.base = row.base or default
    if row.head is None or row.base is None:
        return
    base = commit_of(start, row.base)
    if base is None:
        return
    counts = repository.output(start, "rev-list", "--left-right", "--count", f"{base}...{row.head}")
    if counts:
        behind, ahead = counts.split()
        row.behind, row.ahead = int(behind), int(ahead)
    row.conflicts_base = conflicts(start, base, row.head)


def _compare_pairs(start: Path, rows: list[WorktreeState]) -> None:
    for first, second in combinations(rows, 2):
        assert first.head is not None and second.head is not None
        if first.head != second.head and conflicts(start, first.head, second.head):
            first.conflicts_with.append(second.name)
            second.conflicts_with.append(first.name)


def commit_of(start: Path, ref: str) -> str | None:
    """The commit ``ref`` names, None when it names none (merge-tree would exit 1 on it)."""
    return repository.output(start, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


def conflicts(start: Path, first: str, second: str) -> bool | None:
    """Whether merging two commits conflicts; None when git cannot tell (no common history)."""
    done = repository.git(
        start, "merge-tree", "--write-tree", "--name-only", first, second, check=False
    )
    if done.returncode in (0, 1):
        return done.returncode == 1
    return None


def last_gate(worktree: Path, head: str | None, now: float | None = None) -> LastGate | None:
    """The verdict in the worktree's JSON report, its age in seconds, and whether it judged
    another commit than ``head``; None without a readable report."""
    path = worktree / _report_path(worktree)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        age = (now or time.time()) - path.stat().st_mtime
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("verdict"), str):
        return None
    git = data.get("git")
    judged = git.get("head") if isinstance(git, dict) else None
    return LastGate(data["verdict"], max(age, 0.0), judged != head)


def _report_path(worktree: Path) -> str:
    try:
        raw, _ = configuration.read_pyproject(worktree)
    except GatekeeperError:
        raw = {}
    return str(configuration.written(raw, "report"))
