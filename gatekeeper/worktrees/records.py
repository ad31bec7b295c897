"""The record of a managed worktree: what gatekeeper made for it, so ``rm`` removes exactly that.

Records live in the git common dir (``<common>/gatekeeper/worktrees/<name>.json``), which every
worktree of the repository shares, so ``list`` and ``rm`` see every worktree from anywhere. A
record is written before each step of ``new`` and updated after it: a crash or a failed step
leaves a record that names everything made so far.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final

from gatekeeper import atomic
from gatekeeper.errors import UsageError
from gatekeeper.git import repository

CREATING: Final = "creating"
READY: Final = "ready"
FAILED: Final = "failed"
ADOPTED: Final = "adopted"
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


@dataclass(slots=True)
class WorktreeRecord:
    """One managed worktree. ``made_*`` say what gatekeeper created (and so may remove)."""

    name: str
    path: str
    branch: str | None
    base: str
    state: str = CREATING
    made_worktree: bool = False
    made_branch: bool = False
    created: float = 0.0
    failure: str | None = None
    ports: dict[str, int] = field(default_factory=dict)
    database: dict[str, str] | None = None
    copied: dict[str, str] = field(default_factory=dict)
    made_files: dict[str, str] = field(default_factory=dict)
    env_file: str | None = None
    hook: str = ""
    setup: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def check_name(name: str) -> str:
    """``name`` if it can name a worktree, a branch and a file; else :class:`UsageError`."""
    if not _NAME.fullmatch(name) or name.endswith((".lock", ".")) or ".." in name:
        raise UsageError(
            f"worktree name {name!r} is not allowed: use letters, digits, '.', '_' and '-' "
            "(at most 63, starting with a letter or digit)."
        )
    return name


def folder(start: Path) -> Path:
    """The records folder of the repository around ``start``."""
    common = repository.common_dir(start)
    if common is None:
        raise UsageError(f"{start} is not inside a git repository; run this in your project.")
    return common / "gatekeeper" / "worktrees"


def path_of(start: Path, name: str) -> Path:
    return folder(start) / f"{check_name(name)}.json"


def save(start: Path, record: WorktreeRecord) -> None:
    """Write ``record`` atomically (a reader never sees half of one)."""
    text = json.dumps(record.as_dict(), indent=2, sort_keys=True)
    atomic.write_text(path_of(start, record.name), text)


def load(start: Path, name: str) -> WorktreeRecord | None:
    """The record of ``name``, None when there is none."""
    return _read(path_of(start, name))


def load_all(start: Path) -> list[WorktreeRecord]:
    """Every readable record of the repository, by name."""
    base = folder(start)
    found = (_read(p) for p in sorted(base.glob("*.json"))) if base.is_dir() else iter(())
    return [record for record in found if record is not None]


def delete(start: Path, name: str) -> None:
    path_of(start, name).unlink(missing_ok=True)


def _read(path: Path) -> WorktreeRecord | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return WorktreeRecord(**data)
    except (OSError, ValueError, TypeError):
        return None
