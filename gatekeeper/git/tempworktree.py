"""Temporary detached worktrees of gatekeeper's own: made whole (never a sparse part of a
commit), removed however the block that uses them ends, the user's hooks never firing. The gate
that runs in one is :mod:`gatekeeper.integration.worktreegate`'s.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from gatekeeper.errors import GitError
from gatekeeper.git import repository

# Set for a gate run in a temporary worktree (a nested gate): it does not integrate again, and
# its caller, not it, says where its report is kept.
NESTED_ENV: Final = "GATEKEEPER_NESTED"


@contextmanager
def temporary_worktree(start: Path, commit: str, directory: Path) -> Iterator[Path]:
    """A detached worktree of ``commit`` at ``directory``; removed however the block ends
    (Ctrl-C included). The user's hooks do not fire: every call goes through
    :func:`repository.git`."""
    _refuse_local_attributes(start)
    # The committed bytes, as a clone in CI checks them out: no filter of the user's.
    unfiltered = repository.unfiltered(start)
    repository.git(
        start, *unfiltered, "worktree", "add", "--detach", "--quiet", str(directory), commit
    )
    try:
        _whole(start, directory)
        yield directory
    finally:
        remove_worktree(start, directory)


def _refuse_local_attributes(start: Path) -> None:
    """A checkout here applies the repository's own ``info/attributes``, which a clone in CI
    does not have and no option switches off: when it may change the checked-out bytes, the
    gate does not run."""
    path, lines = repository.local_attributes(start)
    if lines:
        shown = "; ".join(lines[:3]) + (f" and {len(lines) - 3} more" if len(lines) > 3 else "")
        raise GitError(
            f"{path} sets attributes that change the files git checks out ({shown}); a clone "
            "in CI does not have that file, so a temporary worktree would not hold what CI "
            "judges. Move those lines to a committed .gitattributes, or remove them."
        )


def _whole(start: Path, directory: Path) -> None:
    """Make the new worktree hold every file of its commit. git gives a worktree added from a
    sparse checkout the same patterns, and a gate there would judge part of the tree. Turning
    them off touches only this worktree's own configuration when the repository keeps one per
    worktree (``extensions.worktreeConfig``, which ``git sparse-checkout`` turns on); otherwise
    it would change the user's checkout too, so the gate stops instead."""
    if not repository.hidden_from_the_worktree(directory):
        return
    own = repository.git(start, "config", "--bool", "extensions.worktreeConfig", check=False)
    if own.stdout.strip() != "true":
        raise GitError(
            f"the temporary worktree {directory} would be a sparse checkout like this one, and "
            "making it whole would change your repository's configuration (it has no "
            "per-worktree configuration). Run `git config extensions.worktreeConfig true`, or "
            "`git sparse-checkout reapply` in a checkout that uses it, then try again."
        )
    repository.git(directory, *repository.unfiltered(start), "sparse-checkout", "disable")
    if repository.hidden_from_the_worktree(directory):
        raise GitError(
            f"the temporary worktree {directory} still leaves tracked files out of its checkout "
            "(skip-worktree): a gate there would judge part of the tree."
        )


def remove_worktree(start: Path, directory: Path) -> None:
    """Remove the worktree at ``directory`` and its administrative files; never raises."""
    repository.git(start, "worktree", "remove", "--force", str(directory), check=False)
    shutil.rmtree(directory, ignore_errors=True)
    repository.git(start, "worktree", "prune", check=False)
