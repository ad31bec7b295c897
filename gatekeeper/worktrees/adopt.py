"""``gatekeeper worktree adopt PATH|NAME``: attach resources to a worktree another tool made.

The worktree and its branch stay the other tool's: ``rm`` releases the ports, drops the database
and removes the environment file, but never removes that worktree or deletes that branch.
Adopting a worktree that already has a record only fills in what is missing.
"""

from __future__ import annotations

import time
from pathlib import Path

from gatekeeper.config import Settings
from gatekeeper.errors import UsageError
from gatekeeper.gate import load_setup
from gatekeeper.git import scope
from gatekeeper.worktrees import envfile, locations, records, resources
from gatekeeper.worktrees.create import ensure_hook
from gatekeeper.worktrees.records import WorktreeRecord


def adopt(start: Path, key: str) -> WorktreeRecord:
    """Record the worktree named by ``key`` (path, directory name or branch) and give it the
    configured ports, its database, the environment file and the hook."""
    found = locations.find(start, key)
    if found is None:
        raise UsageError(f"no git worktree at or named {key!r}; see `git worktree list`.")
    if found.main:
        raise UsageError(f"{found.path} is the main checkout; only linked worktrees are adopted.")
    record = _existing(start, found)
    name = _new_name(start, found) if record is None else record.name
    setup = load_setup(found.path)  # once: the base of a new record and its resources
    settings = setup.settings
    record = record or _fresh(found, name, settings)
    records.save(start, record)
    wanted = [n for n in settings.strings("worktree.ports") if n not in record.ports]
    resources.reserve_ports(record, wanted, settings, lambda: records.save(start, record))
    if record.database is None and resources.wants_database(settings):
        resources.create_database(record, settings, setup.manager)
        records.save(start, record)
    envfile.write(record)
    record.hook = ensure_hook(found.path)
    if record.state != records.READY:
        record.state = records.ADOPTED
    records.save(start, record)
    return record


def _existing(start: Path, found: locations.GitWorktree) -> WorktreeRecord | None:
    for record in records.load_all(start):
        if Path(record.path).resolve() == found.path.resolve():
            return record
    return None


def _new_name(start: Path, found: locations.GitWorktree) -> str:
    """The name a new record of ``found`` gets: its directory's, unless another record has it."""
    name = records.check_name(found.path.name)
    if records.load(start, name) is not None:
        raise UsageError(
            f"another worktree is already recorded as {name!r}; rename the directory "
            f"{found.path} before adopting it."
        )
    return name


def _fresh(found: locations.GitWorktree, name: str, settings: Settings) -> WorktreeRecord:
    base = settings.get("base") or scope.detect_base(found.path)
    assert isinstance(base, str)
    return WorktreeRecord(name, str(found.path), found.branch, base, created=time.time())
