"""Landing: fast-forward the local base branch to exactly the commit that was gated, only if
the base has not moved since, and optionally push it with a lease.

A lock in the repository's common git dir makes landings from different worktrees wait for
each other. The base branch moves by compare-and-swap (``git update-ref REF NEW OLD``), so a
base that moved while the merge was gated is refused, never overwritten. A worktree that has
the base checked out is brought along only when it is clean.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gatekeeper.errors import GitError, UsageError
from gatekeeper.git import repository
from gatekeeper.integration.workspace import has_identity
from gatekeeper.resources.locks import acquire, read_record


class Moved(GitError):
    """The base (local or remote) is no longer where the merge was gated against."""


@contextmanager
def landing_lock(repo: Path) -> Iterator[None]:
    """Held while one worktree lands; another worktree waits for it."""
    common = repository.common_dir(repo)
    if common is None:
        raise GitError(f"{repo} is not inside a git repository; landing needs one.")
    path = common / "gatekeeper" / "land.lock"
    held = acquire(path)
    if held is None:
        holder = read_record(path).get("worktree", "another worktree")
        print(f"gatekeeper land: {holder} is landing; waiting ...", file=sys.stderr, flush=True)
        held = acquire(path, wait=True)
    assert held is not None
    held.write({"worktree": str(repo)})
    try:
        yield
    finally:
        held.release()


def require_identity(repo: Path) -> None:
    """Landing records the gated merge commit in the base's history, under the user's name: a
    temporary commit may be gatekeeper's own, a landed one may not. :class:`UsageError` when
    git knows no identity."""
    if not has_identity(repo):
        raise UsageError(
            "gatekeeper land puts the gated merge commit into the base branch's history, and git "
            "knows no identity to record it under. Set one (git config user.name ...; git config "
            "user.email ...) and land again."
        )


def local_branch(repo: Path, base: str) -> str:
    """The full ref of the local branch ``base``; :class:`UsageError` if there is none."""
    ref = base if base.startswith("refs/heads/") else f"refs/heads/{base}"
    if not _exists(repo, ref):
        ref = f"refs/heads/{local_name(repo, base)}"
    if not _exists(repo, ref):
        raise UsageError(f"{base!r} is not a local branch; `gatekeeper land` moves a local base.")
    return ref


def _exists(repo: Path, ref: str) -> bool:
    return repository.output(repo, "rev-parse", "--verify", "--quiet", ref) is not None


def local_name(repo: Path, base: str) -> str:
    """``X`` for a remote-tracking ``REMOTE/X`` (the default base when there is a remote):
    landing moves the local branch of that name, never the remote-tracking ref."""
    name = base.removeprefix("refs/remotes/")
    for remote in (repository.output(repo, "remote") or "").split():
        if name.startswith(f"{remote}/") and _exists(repo, f"refs/remotes/{name}"):
            return name[len(remote) + 1 :]
    return base


def checked_out_in(repo: Path, ref: str) -> Path | None:
    """The worktree that has ``ref`` checked out, if any."""
    listed = repository.output(repo, "worktree", "list", "--porcelain") or ""
    current: Path | None = None
    for line in listed.splitlines():
        if line.startswith("worktree "):
            current = Path(line[len("worktree ") :])
        elif line == f"branch {ref}":
            return current
    return None


def ensure_clean(worktree: Path | None, ref: str) -> None:
    """Refuse to move a branch checked out in a worktree with uncommitted changes."""
    if worktree is None:
        return
    status = repository.git(worktree, "status", "--porcelain", "--untracked-files=no")
    if status.stdout.strip():
        raise UsageError(
            f"{ref} is checked out in {worktree}, which has uncommitted changes; commit or stash "
            "them there, then run `gatekeeper land` again."
        )


def push(repo: Path, remote: str, ref: str, commit: str, expected: str) -> None:
    """Push ``commit`` to ``remote``'s ``ref`` only if the remote still has ``expected``."""
    lease = f"--force-with-lease={ref}:{expected}"
    done = repository.git(
        repo, "push", "--porcelain", lease, remote, f"{commit}:{ref}", check=False
    )
    if done.returncode != 0:
        raise Moved(
            f"`git push {remote}` refused {ref}: the remote is no longer at the base that was "
            f"gated ({expected[:12]}). Fetch, then run `gatekeeper land` again. "
            f"{done.stderr.strip()}"
        )


def check_gated_against(repo: Path, ref: str, gated_base: str, commit: str, expected: str) -> None:
    """Refuse to land unless the gate ran against ``expected`` (what ``ref`` was when gating
    began) and ``commit`` contains it: landing anything else would drop commits of the base."""
    if gated_base != expected or not _contains(repo, commit, expected):
        raise Moved(
            f"the gated merge was built on {gated_base[:12]}, not on {ref} at {expected[:12]}; "
            "landing it would drop commits of the base, so nothing was landed."
        )


def _contains(repo: Path, commit: str, older: str) -> bool:
    done = repository.git(repo, "merge-base", "--is-ancestor", older, commit, check=False)
    return done.returncode == 0


def check_landing(repo: Path, ref: str, commit: str, expected: str) -> Path | None:
    """Every local precondition of :func:`advance`, checked without changing anything: ``ref``
    is still at ``expected``, ``commit`` contains ``expected``, and a worktree that has ``ref``
    checked out is clean and can be brought to ``commit``. Returns that worktree, if any.

    Raises :class:`Moved` or :class:`UsageError` naming what is in the way.
    """
    current = repository.output(repo, "rev-parse", "--verify", "--quiet", ref)
    if current != expected:
        raise Moved(
            f"{ref} moved while the merge was gated (it is no longer {expected[:12]}); nothing "
            "was landed. Run `gatekeeper land` again to gate against the new base."
        )
    worktree = checked_out_in(repo, ref)
    ensure_clean(worktree, ref)
    if worktree is not None:
        repository.git(worktree, "update-index", "-q", "--refresh", check=False)
        # A dry run of the two-tree merge below: git says what it would refuse to overwrite.
        trial = repository.git(
            worktree, "read-tree", "-m", "-u", "-n", expected, commit, check=False
        )
        if trial.returncode != 0:
            raise UsageError(
                f"{ref} is checked out in {worktree}, which cannot be brought to the landed "
                f"commit: {trial.stderr.strip()} Move those files away, then run "
                "`gatekeeper land` again."
            )
    return worktree


def advance(repo: Path, ref: str, commit: str, expected: str) -> None:
    """Move ``ref`` from ``expected`` to ``commit`` atomically, and bring a clean worktree
    that has it checked out along; :class:`Moved` when ``ref`` is no longer at ``expected``."""
    worktree = check_landing(repo, ref, commit, expected)
    done = repository.git(
        repo, "update-ref", "-m", "gatekeeper land", ref, commit, expected, check=False
    )
    if done.returncode != 0:
        raise Moved(
            f"{ref} moved while the merge was gated (it is no longer {expected[:12]}); nothing "
            "was landed. Run `gatekeeper land` again to gate against the new base."
        )
    if worktree is not None:
        _bring_along(repo, worktree, ref, commit, expected)


def _bring_along(repo: Path, worktree: Path, ref: str, commit: str, expected: str) -> None:
    """Update ``worktree`` from ``expected`` to ``commit``; if git refuses (something appeared
    since the dry run), move ``ref`` back so branch and checkout stay consistent."""
    # A two-tree merge: index and files go from the old commit to the new one, and git
    # refuses rather than overwrite a local change.
    done = repository.git(worktree, "read-tree", "-m", "-u", expected, commit, check=False)
    if done.returncode == 0:
        return
    back = repository.git(
        repo, "update-ref", "-m", "gatekeeper land: undo", ref, expected, commit, check=False
    )
    undone = "moved back" if back.returncode == 0 else "could NOT be moved back"
    raise GitError(
        f"{ref} was moved, but {worktree} could not be brought along "
        f"({done.stderr.strip()}); {ref} {undone} to {expected[:12]}."
    )
