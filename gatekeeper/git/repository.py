"""Git facts and git commands, run the way gatekeeper must run them.

Every git call goes through :func:`git`: the user's hooks never fire (``core.hooksPath`` is
pointed at ``/dev/null``) and ``GIT_*`` variables inherited from a hook are scrubbed, so a call
always means the repository named by ``cwd``; only those that say how to reach a remote
(:data:`TRANSPORT`) are kept. Why this is plain :mod:`subprocess` and not a git library:
docs/architecture.md#git.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from gatekeeper.errors import GitError
from gatekeeper.model import GitFacts

# What git reads to reach a remote and to ask for credentials (git(1), git-config(1)): how to
# connect, never which repository, index or object store a call means. `land --push` over SSH,
# with a credential prompt or through a proxy needs them as the user's own `git push` has them.
TRANSPORT: Final = frozenset(
    {
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_SSH_VARIANT",
        "GIT_ASKPASS",
        "GIT_TERMINAL_PROMPT",
        "GIT_PROXY_COMMAND",
        "GIT_HTTP_PROXY_AUTHMETHOD",
        "GIT_HTTP_USER_AGENT",
        "GIT_SSL_CAINFO",
        "GIT_SSL_CAPATH",
        "GIT_SSL_CERT",
        "GIT_SSL_KEY",
        "GIT_SSL_CERT_PASSWORD_PROTECTED",
        "GIT_SSL_NO_VERIFY",
        "GIT_ALLOW_PROTOCOL",
    }
)


# Settings of the repository that would make git answer otherwise than a fresh clone does: the
# user's hooks never fire, and a tracked symlink is checked out as a symlink (with
# `core.symlinks = false` git writes a plain file, and a gate in a temporary worktree would not
# see what the link holds). Replacement objects (`git replace`, which a push does not send) are
# ignored through GIT_NO_REPLACE_OBJECTS: gatekeeper judges the objects a clone gets.
PINNED: Final = ("-c", "core.hooksPath=/dev/null", "-c", "core.symlinks=true")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without ``GIT_*`` variables but :data:`TRANSPORT`, plus
    ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in TRANSPORT}
    env.update(extra or {})
    return env


def git(
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``git args`` in ``cwd``. With ``check``, a non-zero exit raises :class:`GitError`."""
    argv = ["git", *PINNED, *args]
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env={**clean_env(env), "GIT_NO_REPLACE_OBJECTS": "1"},
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            # Bytes that are not UTF-8 (a binary file in a `--text` diff, a path in another
            # encoding) are kept as surrogates, as paths are, never a crash mid-parse.
            errors="surrogateescape",
            check=False,
        )
    except OSError as error:
        raise GitError(f"could not run git ({error}); install git 2.38 or newer.") from None
    if check and done.returncode != 0:
        raise GitError(
            f"`{shlex.join(args)}` failed in {cwd} (exit status {done.returncode}): "
            f"{done.stderr.strip() or done.stdout.strip()}"
        )
    return done


def output(cwd: Path, *args: str) -> str | None:
    """The stripped output of a git command, or None when it fails (or git is missing)."""
    try:
        done = git(cwd, *args, check=False)
    except GitError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def ls_files(cwd: Path, *args: str) -> list[str] | None:
    """The NUL-separated entries of ``git ls-files -z args`` in ``cwd``; None when git fails
    (or is missing)."""
    try:
        done = git(cwd, "ls-files", "-z", *args, check=False)
    except GitError:
        return None
    return [entry for entry in done.stdout.split("\0") if entry] if done.returncode == 0 else None


def ignored(worktree: Path) -> list[str]:
    """The untracked paths git ignores in ``worktree`` (POSIX, relative), a wholly ignored folder
    as one entry ending in ``/``. Raises :class:`GitError` when git fails."""
    listed = git(
        worktree, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"
    )
    return [entry for entry in listed.stdout.split("\0") if entry]


def worktree_root(start: Path) -> Path | None:
    """The top of the git worktree holding ``start``, or None outside git."""
    top = output(start, "rev-parse", "--show-toplevel")
    return Path(top) if top else None


def common_dir(start: Path) -> Path | None:
    """The git directory shared by every worktree of the repository (where caches live)."""
    found = output(start, "rev-parse", "--path-format=absolute", "--git-common-dir")
    return Path(found) if found else None


def facts(start: Path) -> GitFacts | None:
    """Root, branch (None when detached) and head commit (None before the first commit)."""
    root = worktree_root(start)
    if root is None:
        return None
    branch = output(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    head = output(root, "rev-parse", "--verify", "--quiet", "HEAD")
    return GitFacts(str(root), branch or None, head or None)


def hidden_from_the_worktree(worktree: Path) -> list[str]:
    """Tracked files git is told not to look at on disk: outside a sparse checkout or marked
    skip-worktree (tag ``S``), or assume-unchanged (a lower-case tag). A tree id counts them as
    committed whatever the disk holds, so a run there judged something else."""
    listed = git(worktree, "ls-files", "-z", "-v", check=False)
    if listed.returncode != 0:
        return []  # not a worktree git can list: the callers' own git calls say why
    hidden = []
    for entry in filter(None, listed.stdout.split("\0")):
        tag, _, path = entry.partition(" ")
        if tag == "S" or tag.islower():
            hidden.append(path)
    return hidden


def worktrees(start: Path) -> list[Path]:
    """The root of every worktree of the repository holding ``start`` (``git worktree list``),
    the main one first; a bare repository's own entry is left out."""
    listed = output(start, "worktree", "list", "--porcelain") or ""
    found = []
    for block in listed.split("\n\n"):
        lines = block.splitlines()
        if lines and lines[0].startswith("worktree ") and "bare" not in lines:
            found.append(Path(lines[0][len("worktree ") :]))
    return found
