"""Merges computed by ``git merge-tree --write-tree``: no working tree, index or branch is
touched; only objects are written. Success is decided by the exit status (0 clean, 1 conflicts),
never by looking for conflict markers. Requires git 2.38 or newer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gatekeeper.errors import GitError, UsageError
from gatekeeper.git import repository


@dataclass(frozen=True, slots=True)
class Merge:
    """The result of merging ``theirs`` into ``ours``: ``tree`` is the merged tree (with
    conflict markers when ``conflicts`` is not empty); ``messages`` are git's own lines."""

    ours: str
    theirs: str
    tree: str
    conflicts: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.conflicts


def verify(cwd: Path, ref: str) -> str:
    """The commit id ``ref`` names; :class:`UsageError` naming the ref when it names none.

    Needed before ``merge-tree``, which exits 1 with empty output for an unknown ref, exactly as
    for a conflict.
    """
    found = repository.output(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if not found:
        raise UsageError(
            f"{ref!r} is not a branch or commit in {cwd}. Check the name with `git branch -a`."
        )
    return found


def merge(cwd: Path, ours: str, theirs: str) -> Merge:
    """Merge commit ``theirs`` into commit ``ours`` (both already verified).

    Raises :class:`GitError` when git cannot merge at all (for example, a git older than 2.38,
    or unrelated histories).
    """
    # Options before the commits: git 2.39 exits 129 otherwise.
    done = repository.git(
        cwd, "merge-tree", "--write-tree", "-z", "--name-only", ours, theirs, check=False
    )
    if done.returncode not in (0, 1):
        raise GitError(
            f"`git merge-tree --write-tree {ours[:12]} {theirs[:12]}` failed in {cwd} (exit "
            f"status {done.returncode}): {done.stderr.strip()}. It needs git 2.38 or newer."
        )
    tree, conflicts, messages = parse(done.stdout)
    if done.returncode == 1 and not conflicts:
        # The exit status decides: a conflict even if git listed no path (fail closed).
        conflicts = ("(no path named; see the messages)",)
    return Merge(ours, theirs, tree, conflicts, messages)


def parse(output: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The tree id, the conflicted paths and the messages of ``merge-tree -z --name-only``.

    The layout is ``TREE NUL (PATH NUL)* NUL`` then, per message, ``COUNT NUL (PATH NUL){COUNT}
    TYPE NUL TEXT NUL``.
    """
    fields = output.split("\0")
    tree = fields[0]
    position = 1
    paths: list[str] = []
    while position < len(fields) and fields[position]:
        paths.append(fields[position])
        position += 1
    return tree, tuple(dict.fromkeys(paths)), tuple(_messages(fields[position + 1 :]))


def _messages(fields: list[str]) -> list[str]:
    found = []
    position = 0
    while position < len(fields) and fields[position].isdigit():
        count = int(fields[position])
        end = position + 1 + count + 2
        if end > len(fields):
            break
        found.append(fields[end - 1].strip())
        position = end
    return found
