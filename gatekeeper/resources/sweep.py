"""Remove what dead owners left behind: port reservations of gone worktrees, stale port lock
files, old basetemps, and marked databases whose owner died or whose time-to-live passed.
Only ever resources carrying gatekeeper's marker; a live owner's resources are never touched.
One leftover that cannot be removed never keeps the others in place."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gatekeeper.errors import GatekeeperError
from gatekeeper.redaction import redact
from gatekeeper.resources import ports, tempdirs
from gatekeeper.resources.databases.base import Backend, Leftover
from gatekeeper.resources.locks import ResourceError, acquire, state_dir


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


def leftovers(backends: Iterable[Backend], state: Path | None = None) -> list[Leftover]:
    """Everything a sweep would remove, without removing anything."""
    found = [*stale_ports(state), *stale_basetemps(state)]
    for backend in backends:
        found.extend(backend.leftovers())
    return found


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
    backends: Iterable[Backend], state: Path | None = None, *, dry_run: bool = False
) -> list[Leftover]:
    """Remove (or with ``dry_run`` only list) every leftover; returns what it found.

    A leftover that cannot be removed does not stop the sweep: the rest are still removed, then
    :class:`SweepError` names every one that was left in place.
    """
    chosen = list(backends)
    found = leftovers(chosen, state)
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
    if leftover.backend == "port":
        remove_port(leftover)
    elif leftover.backend == "basetemp":
        tempdirs.remove(Path(leftover.name))
    else:
        backends[leftover.backend].remove(leftover)
