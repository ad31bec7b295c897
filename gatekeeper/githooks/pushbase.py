"""The base a push lands on: what the pre-push hook merges a pushed commit onto before gating.

In order: the remote-tracking ref of the remote's HEAD (``refs/remotes/<remote>/HEAD``, set by
``git clone`` or ``git remote set-head``); else the ``base`` key of the pushed commit's
configuration; else the remote-tracking ``main`` or ``master`` of the remote pushed to, then the
local ``main`` or ``master`` (the project's base detection,
:func:`gatekeeper.git.scope.detect_base`, asked about this one remote). Only refs that exist
locally count: the hook never fetches, so the base is as fresh as the last fetch or push. A
configured ``base`` that names no commit ends the search (merging onto another branch than the one
configured would judge the wrong thing).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.git import repository


@dataclass(frozen=True, slots=True)
class Base:
    """A base found: ``ref`` (full name), its ``commit``, and ``source``: why this one."""

    ref: str
    commit: str
    source: str

    @property
    def name(self) -> str:
        """The ref as a user writes it: ``origin/main``, ``main``."""
        for prefix in ("refs/remotes/", "refs/heads/"):
            if self.ref.startswith(prefix):
                return self.ref[len(prefix) :]
        return self.ref

    def describe(self) -> str:
        return f"{self.name} ({self.commit[:12]}, {self.source})"

    def is_pushed_to(self, remote: str, remote_ref: str) -> bool:
        """Whether a push to ``remote_ref`` of ``remote`` replaces this base rather than
        landing on it (pushing ``main`` itself, a force-push included)."""
        branch = self.name.removeprefix(f"{remote}/") if remote else self.name
        return remote_ref == f"refs/heads/{branch}"


@dataclass(frozen=True, slots=True)
class NoBase:
    """No base exists locally; ``tried`` says what was looked for, for the message."""

    tried: tuple[str, ...]

    def describe(self) -> str:
        return f"no base found locally (looked for {', '.join(self.tried)})"


def find(start: Path, remote: str, configured: str | None) -> Base | NoBase:
    """The base a push to ``remote`` (a remote's name or URL; may be empty) lands on."""
    tried = []
    for ref, source in _candidates(start, remote, configured):
        tried.append(ref)
        commit = repository.output(start, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if commit:
            return Base(ref, commit, source)
        if source == _CONFIGURED:
            return NoBase((*tried[:-1], f"`base = {ref!r}` in [tool.gatekeeper], not a commit"))
    return NoBase(tuple(tried))


_CONFIGURED = "`base` in [tool.gatekeeper]"


def _candidates(start: Path, remote: str, configured: str | None) -> Iterator[tuple[str, str]]:
    tracking = f"refs/remotes/{remote}" if _is_remote_name(start, remote) else None
    if tracking is not None:
        head = repository.output(start, "symbolic-ref", "--quiet", f"{tracking}/HEAD")
        if head:
            yield head, f"the remote's HEAD, {tracking}/HEAD"
    if configured:
        yield configured, _CONFIGURED
        return
    for name in ("main", "master"):
        if tracking is not None:
            yield f"{tracking}/{name}", f"the remote's {name}; it has no HEAD ref here"
    for name in ("main", "master"):
        yield f"refs/heads/{name}", f"the local {name}"


def _is_remote_name(start: Path, remote: str) -> bool:
    """Whether ``remote`` is a configured remote (git passes a URL when pushing to one)."""
    return bool(remote) and remote in (repository.output(start, "remote") or "").split()
