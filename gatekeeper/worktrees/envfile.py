"""The worktree's environment file, ``.gatekeeper/env``: its ports and ``DATABASE_URL``, as
``KEY=value`` lines that a POSIX shell (``set -a; . .gatekeeper/env; set +a``), python-dotenv,
docker compose's ``env_file`` and direnv's ``dotenv`` all read.

The file can hold a database password, so it must never be committed: unless git already
ignores it, a self-ignoring ``.gatekeeper/.gitignore`` is written beside it.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Final

from gatekeeper.git import repository
from gatekeeper.redaction import redact
from gatekeeper.resources.identity import WORKTREE_ENV
from gatekeeper.resources.ports import environ_name
from gatekeeper.worktrees.records import WorktreeRecord

RELATIVE: Final = ".gatekeeper/env"
IGNORE: Final = ".gatekeeper/.gitignore"
NAME_ENV: Final = "GATEKEEPER_WORKTREE_NAME"
_PLAIN: Final = re.compile(r"[A-Za-z0-9_./:@%+,=-]*")


def variables(record: WorktreeRecord) -> dict[str, str]:
    """The variables of the worktree: its path and name, each port, the database URL."""
    found = {WORKTREE_ENV: str(Path(record.path).resolve()), NAME_ENV: record.name}
    for name, port in sorted(record.ports.items()):
        found[environ_name(name)] = str(port)
    if record.database is not None:
        found["DATABASE_URL"] = record.database["url"]
    return found


def shown(record: WorktreeRecord) -> dict[str, str]:
    """:func:`variables` with secrets (database passwords) masked, for printing."""
    return {key: redact(value) for key, value in variables(record).items()}


def render(values: dict[str, str]) -> str:
    lines = ["# Written by `gatekeeper worktree`; rewritten by `gatekeeper worktree adopt`."]
    for key, value in values.items():
        lines.append(f"{key}={value if _PLAIN.fullmatch(value) else shlex.quote(value)}")
    return "\n".join(lines) + "\n"


def write(record: WorktreeRecord) -> tuple[Path, str]:
    """Write the file (private to the user); returns its path and a warning ('' when none)."""
    worktree = Path(record.path)
    path = worktree / RELATIVE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(render(variables(record)), encoding="utf-8")
    record.env_file = str(path)
    return path, _keep_out_of_git(worktree)


def _keep_out_of_git(worktree: Path) -> str:
    if _ignored(worktree):
        return ""
    ignore = worktree / IGNORE
    if not ignore.exists():
        ignore.write_text(
            "# Written by gatekeeper: files that must never be committed.\n"
            "/env\n/setup.log\n/.gitignore\n",
            encoding="utf-8",
        )
    if _ignored(worktree):
        return ""
    return f"git does not ignore {RELATIVE}, which may hold a password: add it to .gitignore."


def _ignored(worktree: Path) -> bool:
    done = repository.git(worktree, "check-ignore", "-q", "--no-index", RELATIVE, check=False)
    return done.returncode == 0


def remove(record: WorktreeRecord) -> None:
    """Delete the environment file gatekeeper wrote (and the ignore file, if ours)."""
    if record.env_file:
        Path(record.env_file).unlink(missing_ok=True)
    ignore = Path(record.path) / IGNORE
    if ignore.is_file() and ignore.read_text(encoding="utf-8").startswith(
        "# Written by gatekeeper"
    ):
        ignore.unlink()
    record.env_file = None
