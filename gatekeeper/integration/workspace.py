"""One integration run's private space: its refs, its temporary worktrees and its owner lock.

Merge results are committed with ``commit-tree`` and kept under
``refs/gatekeeper/integrate/<run>/`` while in use, so garbage collection cannot prune them; the
worktrees that gate them live in the repository's git directory, in a folder only its owner may
write (:func:`gatekeeper.integration.worktreegate.worktrees_root`). The run holds
``<run>.lock`` (``flock``) for its whole life, so a later run can tell a killed run's leftovers
from a live run's: the kernel drops the lock of a dead process. Everything is removed when the
run ends, however it ends; what a killed run left is swept by the next run in the repository.
Nothing here touches a working tree, index or branch of the user.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Final

from gatekeeper.cache import environment, gatepasses
from gatekeeper.config import Settings
from gatekeeper.errors import GitError
from gatekeeper.git import repository
from gatekeeper.history import accepted
from gatekeeper.integration import childstate, worktreegate
from gatekeeper.integration.worktreegate import Verdict
from gatekeeper.project import pushconfig
from gatekeeper.resources.identity import new_run_id
from gatekeeper.resources.locks import Held, acquire, is_held

REF_ROOT: Final = "refs/gatekeeper/integrate"
# commit-tree needs an identity; the user's variables for it survive the GIT_* scrub.
_IDENTITY: Final = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
)
# Who a temporary merge commit is by when git knows nobody (no user.name or user.email: a fresh
# container, a CI runner): the gate must not depend on it, the commit is gatekeeper's own.
FALLBACK_NAME: Final = "gatekeeper"
FALLBACK_EMAIL: Final = "gatekeeper@gatekeeper.invalid"


def runs_root(repo: Path) -> Path:
    """Where the runs of the repository holding ``repo`` keep their worktrees and locks."""
    if repository.common_dir(repo) is None:
        raise GitError(f"{repo} is not inside a git repository; integration needs one.")
    return worktreegate.worktrees_root(repo) / "integrate"


class Workspace:
    """The private refs and worktrees of one run; use it as a context manager."""

    def __init__(
        self,
        repo: Path,
        root: Path,
        run: str,
        held: Held,
        entry: str = "integrate",
        settings: Settings | None = None,
    ) -> None:
        self.repo = repo
        self.root = root
        self.run = run
        self.held = held
        self.entry = entry  # who gates here, for the history: hook, integrate or land
        self.settings = settings  # the caller's loaded setup's; None in the pre-push hook

    @classmethod
    def open(
        cls, repo: Path, entry: str = "integrate", settings: Settings | None = None
    ) -> Workspace:
        """A new run in the repository holding ``repo``, after sweeping dead runs' leftovers;
        ``entry`` names the command its gates are recorded for (``hook``, ``integrate``,
        ``land``), ``settings`` are the caller's loaded setup's (the history's keys, when a
        gate is answered from the cache; ``None`` in a process that loaded no setup)."""
        root = runs_root(repo)
        sweep(repo)
        run = new_run_id()
        held = acquire(root / f"{run}.lock", wait=True)
        assert held is not None  # a blocking acquire always returns a lock
        (root / run).mkdir(parents=True)
        return cls(repo, root, run, held, entry, settings)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def ref(self, name: str) -> str:
        return f"{REF_ROOT}/{self.run}/{name}"

    def commit(self, name: str, tree: str, parents: Iterable[str], message: str) -> str:
        """Commit ``tree`` with ``parents`` and keep it under this run's ref ``name``."""
        env = identity(self.repo)
        args = [arg for parent in parents for arg in ("-p", parent)]
        done = repository.git(self.repo, "commit-tree", tree, *args, "-m", message, env=env)
        commit = done.stdout.strip()
        repository.git(self.repo, "update-ref", self.ref(name), commit)
        return commit

    def gate(self, commit: str, name: str, output: IO[str] | int | None) -> Verdict:
        """Gate ``commit`` in a temporary worktree of this run, removed afterwards.

        When the whole gate already passed on exactly ``commit``'s tree (stored by any earlier
        gate run, as the pre-push hook would run it), that pass is the verdict at once: no
        worktree, no child gate (``Verdict.accepted``), recorded in the history
        (:mod:`gatekeeper.history.accepted`). Otherwise the gate runs in a scrubbed
        environment, as the hook's does (docs/trust.md).
        """
        if gatepasses.accepts(self.repo, commit):
            accepted.record(self.repo, self.entry, commit, settings=self.settings)
            return Verdict(True, cached=True, accepted=True)
        names = pushconfig.read(self.repo, commit).pass_env
        scratch = self.root / self.run / name
        scratch.mkdir(parents=True)
        try:
            with environment.scrubbed_process(names):
                return worktreegate.gate_commit(self.repo, commit, scratch, output, self.entry)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def close(self) -> None:
        """Remove this run's worktrees and refs, then its lock; safe to call twice."""
        if self.held.fd < 0:
            return
        clean(self.repo, self.root, self.run)
        self.held.remove()


def identity(repo: Path) -> dict[str, str]:
    """The variables for a commit in ``repo``: the user's identity where git knows it (config or
    ``GIT_*`` variables), gatekeeper's own for the author or committer where it does not."""
    env = {k: v for k, v in os.environ.items() if k in _IDENTITY}
    for role in ("AUTHOR", "COMMITTER"):
        if not _known(repo, role, env):
            env.update({f"GIT_{role}_NAME": FALLBACK_NAME, f"GIT_{role}_EMAIL": FALLBACK_EMAIL})
    return env


def has_identity(repo: Path) -> bool:
    """Whether git knows who the user is in ``repo``, as author and as committer."""
    env = {k: v for k, v in os.environ.items() if k in _IDENTITY}
    return _known(repo, "AUTHOR", env) and _known(repo, "COMMITTER", env)


def _known(repo: Path, role: str, env: dict[str, str]) -> bool:
    return repository.git(repo, "var", f"GIT_{role}_IDENT", env=env, check=False).returncode == 0


def clean(repo: Path, root: Path, run: str) -> None:
    """Remove the worktrees, directory and refs of ``run``, and what its gates left in the
    state dir; never raises for what is gone."""
    folder = root / run
    for tree in _worktrees_under(repo, folder):
        repository.git(repo, "worktree", "remove", "--force", str(tree), check=False)
    childstate.remove(folder)  # the gates' basetemps, owner locks and port leases
    shutil.rmtree(folder, ignore_errors=True)
    repository.git(repo, "worktree", "prune", check=False)
    refs = repository.output(repo, "for-each-ref", "--format=%(refname)", f"{REF_ROOT}/{run}/")
    lines = "".join(f"delete {ref}\n" for ref in (refs or "").split())
    if lines:
        repository.git(repo, "update-ref", "--stdin", stdin=lines, check=False)


def _worktrees_under(repo: Path, folder: Path) -> list[Path]:
    listed = repository.output(repo, "worktree", "list", "--porcelain") or ""
    paths = [
        Path(line[len("worktree ") :])
        for line in listed.splitlines()
        if line.startswith("worktree ")
    ]
    return [p for p in paths if p.is_relative_to(folder)]


def sweep(repo: Path) -> list[str]:
    """Remove what runs killed before they could clean up left behind; returns their run ids.

    A run whose lock is held is alive and never touched.
    """
    root = runs_root(repo)
    dead = sorted(run for run in _runs(repo, root) if not is_held(root / f"{run}.lock"))
    for run in dead:
        held = acquire(root / f"{run}.lock")
        if held is None:
            continue  # a run with this id started meanwhile: it is alive
        clean(repo, root, run)
        held.remove()
    # Also what a gate child still dying when its run cleaned up left: only free locks go, so
    # the gates of live runs keep theirs.
    childstate.remove(root)
    return dead


def _runs(repo: Path, root: Path) -> set[str]:
    """Every run id with refs, a directory or a lock file in the repository."""
    refs = repository.output(repo, "for-each-ref", "--format=%(refname)", f"{REF_ROOT}/") or ""
    runs = {ref[len(REF_ROOT) + 1 :].split("/")[0] for ref in refs.split()}
    if root.is_dir():
        runs.update(p.name for p in root.iterdir() if p.is_dir())
        runs.update(p.stem for p in root.glob("*.lock"))
    return runs
