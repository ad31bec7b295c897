"""What a template database's key covers, so a template is reused only where it is right.

The key is a digest of the backend, the setup command, the project and the content the setup
builds from. The project is the repository's common git dir (every worktree of one repository
shares templates; two repositories never do), or the project root outside git. The content is:

- ``inputs`` given: the content of the files they match (fast reuse: only their change
  rebuilds);
- no ``inputs``, inside git: every file git would commit now (tracked, plus untracked files
  git does not ignore, uncommitted edits included), since the setup may read any of them: any
  change rebuilds;
- no ``inputs``, outside git: nothing can tell what the setup read, so the template serves
  one session (``run``) and is never reused by another;
- no setup and no hook: nothing fills the template; one empty template serves every project.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from gatekeeper.errors import ConfigError, GitError
from gatekeeper.git import repository

INPUTS: Final = "inputs"
TRACKED: Final = "tracked"
SESSION: Final = "session"
EMPTY: Final = "empty"


class TemplateWarning(UserWarning):
    """The template's key covers more than it needs to (no ``inputs``): reuse is rare."""


def project_identity(root: Path) -> str:
    """The repository's common git dir (shared by its worktrees), else ``root``, resolved."""
    common = repository.common_dir(root)
    return str((common or root).resolve())


def inputs_digest(root: Path, inputs: Iterable[str]) -> str:
    """A digest of the content of every file the ``inputs`` glob patterns match under ``root``.

    A pattern that matches nothing is an error, because a silent miss would never rebuild.
    """
    hasher = hashlib.sha256()
    for pattern in inputs:
        matches = sorted(p for p in root.glob(pattern) if p.is_file())
        if not matches:
            raise ConfigError(
                f"[tool.gatekeeper.database] inputs: {pattern!r} matches no file under {root}. "
                "Fix the pattern or remove it."
            )
        for path in matches:
            hasher.update(path.relative_to(root).as_posix().encode() + b"\0")
            hasher.update(path.read_bytes() + b"\0")
    return hasher.hexdigest()


def content(root: Path, inputs: list[str], filled: bool, run: str | None) -> tuple[str, str]:
    """The basis (``INPUTS``, ``TRACKED``, ``SESSION`` or ``EMPTY``) and the content digest the
    key covers; ``run`` names the session a ``SESSION`` template serves (default: a new one)."""
    if not filled:
        return EMPTY, ""
    if inputs:
        return INPUTS, inputs_digest(root, inputs)
    if repository.worktree_root(root) is not None:
        from gatekeeper.cache.store import tree_id  # the one "content of the worktree now" in git

        try:
            return TRACKED, tree_id(root)
        except GitError:
            pass  # git cannot tell what is there: never reuse across sessions
    return SESSION, run or uuid.uuid4().hex


def template_key(backend: str, setup: str, project: str, basis: str, digest: str) -> str:
    """The key of the template ``setup`` builds for ``project`` from ``digest``. An empty
    template (``EMPTY``) is the same for every project: one serves them all."""
    parts = (backend, setup, "" if basis == EMPTY else project, basis, digest)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def reuse_advice(basis: str) -> str:
    """What to do to reuse a template across changes; empty when ``inputs`` already does."""
    if basis == TRACKED:
        reason = "every change to a file git tracks builds a new template"
    elif basis == SESSION:
        reason = "outside a git repository the template is built again for every session"
    else:
        return ""
    return (
        f"[tool.gatekeeper.database] inputs is not set, so {reason} (the setup may read any "
        "file). Set inputs to the files the setup builds the schema from, for example "
        'inputs = ["migrations/**/*.py", "alembic.ini"], to reuse it until one of them changes.'
    )
