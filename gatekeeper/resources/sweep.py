"""Remove what dead owners left behind: port reservations of gone worktrees, stale port lock
files, old basetemps, coverage data of killed gated runs, marked databases whose owner died or
whose time-to-live passed, and the owner lock files of ended sessions.
Only ever resources carrying gatekeeper's marker; a live owner's resources are never touched.
One leftover that cannot be removed never keeps the others in place."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

from gatekeeper.errors import GatekeeperError
from gatekeeper.redaction import redact
from gatekeeper.resources import ports, tempdirs
from gatekeeper.resources.coveragedata import dead_data_dirs, remove_data_dir
from gatekeeper.resources.databases.base import Backend, Leftover
from gatekeeper.resources.locks import ResourceError, acquire, is_held, state_dir


class SweepWarning(UserWarning):
    """A leftover the sweep found but could not remove; it was left in place."""


def stale_ports(state: Path | None = None) -> list[Leftover]:
    """Port lock files nobody holds that are not a live named reservation."""
    folder = (state or state_dir()) / "ports"
    found: list[Leftover] = []
    for path in sorted(folder.glob("*.lock")) if folder.is_dir() else ():
        held = acquire(path)
        if held is None:
            continue
        record = held.read()
        held.release()
        if not ports.named_alive(record):
            reason = "worktree is gone" if record.get("kind") == ports.NAMED else "owner is dead"
            found.append(Leftover("port", str(path), reason))
    return found


def remove_port(leftover: Leftover) -> None:
    """Delete a stale port lock file, re-checking under its lock."""
    held = acquire(Path(leftover.name))
    if held is None:
        return
    if ports.named_alive(held.read()):
        held.release()
        return
    held.remove()


def stale_basetemps(state: Path | None = None) -> list[Leftover]:
    return [Leftover("basetemp", str(p), "run finished") for p in tempdirs.dead(state)]


def stale_owners(state: Path | None = None) -> list[Leftover]:
    """Owner lock files nobody holds: every session that owned resources leaves one when it
    ends. Swept after the databases, which were judged by them; a record naming a missing lock
    in this state dir still reads as a dead owner (see ``docs/owners.md``)."""
    folder = (state or state_dir()) / "owners"
    found: list[Leftover] = []
    for path in sorted(folder.glob("*.lock")) if folder.is_dir() else ():
        if not is_held(path):
            found.append(Leftover("owner", str(path), "owner is dead"))
    return found


def remove_owner(leftover: Leftover) -> None:
    """Delete a dead owner's lock file, re-checking under its lock."""
    held = acquire(Path(leftover.name))
    if held is not None:
        held.remove()


def remove_stale_owners(state: Path | None = None) -> None:
    """Delete every owner lock file nobody holds (a session start does it once an hour)."""
    for leftover in stale_owners(state):
        remove_owner(leftover)


def stale_coverage(worktrees: Iterable[Path]) -> list[Leftover]:
    """Coverage data folders of gated runs that died before removing them."""
    found: list[Leftover] = []
    for worktree in worktrees:
        found.extend(Leftover("coverage", str(p), "run is dead") for p in dead_data_dirs(worktree))
    return found


def leftovers(
    backends: Iterable[Backend], state: Path | None = None, worktrees: Iterable[Path] = ()
) -> list[Leftover]:
    """Everything a sweep would remove, without removing anything, in the order it goes:
    owner locks last, after every resource that names them."""
    found = [*stale_ports(state), *stale_basetemps(state), *stale_coverage(worktrees)]
    for backend in backends:
        found.extend(backend.leftovers())
    return [*found, *stale_owners(state)]


class SweepError(ResourceError):
    """Some leftovers could not be removed. The sweep went on past each; ``found`` is
    everything it found, ``failures`` each leftover it left in place with the reason."""

    def __init__(self, found: list[Leftover], failures: list[tuple[Leftover, str]]) -> None:
        self.found = found
        self.failures = failures
        shown = "; ".join(describe_failure(leftover, why) for leftover, why in failures)
        super().__init__(
            f"{len(failures)} leftover(s) could not be removed and were left in place: {shown}. "
            "Remove them as their owner (or a superuser), or fix what the message names and "
            "sweep again."
        )


def describe_failure(leftover: Leftover, why: str) -> str:
    """One line for a leftover the sweep could not remove."""
    return f"could not remove {leftover.backend} {leftover.name} ({leftover.reason}): {why}"


def sweep(
    backends: Iterable[Backend],
    state: Path | None = None,
    *,
    dry_run: bool = False,
    worktrees: Iterable[Path] = (),
) -> list[Leftover]:
    """Remove (or with ``dry_run`` only list) every leftover of the state dir, the
    ``backends`` and the ``worktrees``; returns what it found.

    A leftover that cannot be removed does not stop the sweep: the rest are still removed, then
    :class:`SweepError` names every one that was left in place.
    """
    chosen = list(backends)
    found = leftovers(chosen, state, worktrees)
    if dry_run:
        return found
    by_name = {backend.name: backend for backend in chosen}
    failures: list[tuple[Leftover, str]] = []
    for leftover in found:
        try:
            _remove(leftover, by_name)
        except (GatekeeperError, OSError) as error:
            failures.append((leftover, redact(str(error))))
    if failures:
        raise SweepError(found, failures)
    return found


def _remove(leftover: Leftover, backends: dict[str, Backend]) -> None:
    local = _LOCAL.get(leftover.backend)
    if local is not None:
        local(leftover)
    else:
        backends[leftover.backend].remove(leftover)


def _remove_basetemp(leftover: Leftover) -> None:
    tempdirs.remove(Path(leftover.name))


def _remove_coverage(leftover: Leftover) -> None:
    remove_data_dir(Path(leftover.name))


# Leftovers of this host's files, by kind; every other kind is a database backend's.
_LOCAL: Final[dict[str, Callable[[Leftover], None]]] = {
    "port": remove_port,
    "basetemp": _remove_basetemp,
    "coverage": _remove_coverage,
    "owner": remove_owner,
}
