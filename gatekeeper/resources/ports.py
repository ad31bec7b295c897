"""Ports that never collide: a preferred port derived from the owner, probed, with fallback.

Each port has a lock file ``ports/<port>.lock``. A worker's port is reserved by holding that
file's ``flock`` for the worker's life (the kernel frees it when the worker dies). A named port
(``gatekeeper port NAME``) outlives the command that reserved it: its lock file keeps a record
naming the worktree, and it stays reserved until released or until the worktree is gone. The
probe binds ``127.0.0.1`` and, where the host has an IPv6 loopback, ``::1`` (a server listening
on ``localhost`` may have only one of them), without ``SO_REUSEPORT`` (which would let two
servers share a port).
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gatekeeper.resources.identity import digest
from gatekeeper.resources.locks import Held, ResourceError, acquire, read_record, state_dir

# Below Linux's ephemeral range (32768-60999), so outgoing connections never take our ports.
DEFAULT_FIRST: Final = 20000
DEFAULT_LAST: Final = 29999
NAMED: Final = "named"


@dataclass(frozen=True, slots=True)
class PortRange:
    """The inclusive range ports are taken from (``[tool.gatekeeper.ports] first/last``)."""

    first: int = DEFAULT_FIRST
    last: int = DEFAULT_LAST

    def __post_init__(self) -> None:
        if not 1024 <= self.first <= self.last <= 65535:
            raise ResourceError(
                f"[tool.gatekeeper.ports] first={self.first} last={self.last} is not a range of "
                "unprivileged ports: need 1024 <= first <= last <= 65535."
            )

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def preferred(self, seed: str) -> int:
        """The deterministic first choice for ``seed`` (stable across runs)."""
        return self.first + int(digest(seed)[:15], 16) % self.size

    def walk(self, seed: str) -> Iterator[int]:
        """Every port of the range once, starting at the preferred one."""
        start = self.preferred(seed) - self.first
        for step in range(self.size):
            yield self.first + (start + step) % self.size


class PortLease:
    """A reserved port, held until :meth:`release` or the end of the process."""

    __slots__ = ("held", "port")

    def __init__(self, port: int, held: Held) -> None:
        self.port = port
        self.held = held

    def release(self) -> None:
        """Free the port for others (the record is cleared so nobody mistakes it for named)."""
        if self.held.fd >= 0:
            self.held.write({})
            self.held.release()


def lock_path(port: int, state: Path | None = None) -> Path:
    return (state or state_dir()) / "ports" / f"{port}.lock"


def bindable(port: int) -> bool:
    """Whether a TCP socket can bind ``port`` on ``127.0.0.1`` and on ``::1`` right now; a host
    without an IPv6 loopback is judged on ``127.0.0.1`` alone."""
    return _bindable(socket.AF_INET, "127.0.0.1", port) and _bindable(socket.AF_INET6, "::1", port)


# The errors that mean "this host has no IPv6 (loopback)", not "the port is taken".
_NO_IPV6: Final = (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT, errno.EADDRNOTAVAIL)


def _bindable(family: socket.AddressFamily, host: str, port: int) -> bool:
    ipv6 = family == socket.AF_INET6
    try:
        probe = socket.socket(family, socket.SOCK_STREAM)
    except OSError as error:
        if ipv6 and error.errno in _NO_IPV6:
            return True
        raise
    with probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            if ipv6 and error.errno in _NO_IPV6:
                return True
            if error.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
                return False
            raise
    return True


def named_alive(record: dict[str, object]) -> bool:
    """Whether a record is a named reservation whose worktree still exists."""
    worktree = record.get("worktree")
    return (
        record.get("kind") == NAMED
        and isinstance(worktree, str)
        and (Path(worktree) / ".git").exists()
    )


def reserve(
    seed: str, span: PortRange, record: dict[str, object], state: Path | None = None
) -> PortLease:
    """Reserve a free port, trying the preferred port for ``seed`` first.

    A port is taken only when its lock is free, no live named reservation holds it, and it
    binds on the loopback addresses (:func:`bindable`). Raises :class:`ResourceError` when the
    whole range is taken.
    """
    for port in span.walk(seed):
        held = acquire(lock_path(port, state))
        if held is None:
            continue
        if named_alive(held.read()) or not bindable(port):
            held.release()
            continue
        held.write(record)
        return PortLease(port, held)
    raise ResourceError(
        f"no free port in {span.first}-{span.last}: every one is reserved or bound. Widen "
        "[tool.gatekeeper.ports] first/last or run `gatekeeper sweep`."
    )


def _named_index(worktree: str, name: str, state: Path | None) -> Path:
    return (state or state_dir()) / "named" / f"{digest(worktree, name)[:24]}.lock"


def _is_reservation(record: dict[str, object], worktree: str, name: str) -> bool:
    return record.get("kind") == NAMED and (record.get("worktree"), record.get("name")) == (
        worktree,
        name,
    )


def reserve_named(worktree: Path, name: str, span: PortRange, state: Path | None = None) -> int:
    """The port reserved for ``worktree`` and ``name``: the same one on every call until
    :func:`release_named` or until the worktree is gone."""
    root = str(worktree.resolve())
    index = acquire(_named_index(root, name, state), wait=True)
    assert index is not None
    try:
        port = index.read().get("port")
        current = read_record(lock_path(port, state)) if isinstance(port, int) else {}
        if isinstance(port, int) and _is_reservation(current, root, name):
            return port
        record: dict[str, object] = {"kind": NAMED, "worktree": root, "name": name}
        lease = reserve(digest(root, "named", name), span, record, state)
        lease.held.release()  # the record, not the flock, keeps a named port reserved
        index.write({"port": lease.port, "worktree": root, "name": name})
        return lease.port
    finally:
        index.release()


def release_named(worktree: Path, name: str, state: Path | None = None) -> int | None:
    """Drop the named reservation; returns the port it had, None when there was none."""
    root = str(worktree.resolve())
    index = acquire(_named_index(root, name, state), wait=True)
    assert index is not None
    try:
        port = index.read().get("port")
        index.write({})
        if not isinstance(port, int):
            return None
        held = acquire(lock_path(port, state), wait=True)
        assert held is not None
        if _is_reservation(held.read(), root, name):
            held.write({})
        held.release()
        return port
    finally:
        index.remove()


class PortPool:
    """The ports of one owner, by name: each name gets its own port, the same one on every
    ask, reserved until :meth:`close`."""

    def __init__(self, seed: str, span: PortRange, record: dict[str, object]) -> None:
        self.seed = seed
        self.span = span
        self.record = record
        self.leases: dict[str, PortLease] = {}

    def get(self, name: str) -> int:
        """The port for ``name``, reserved now if this is its first ask."""
        if name not in self.leases:
            record = {**self.record, "name": name}
            self.leases[name] = reserve(digest(self.seed, name), self.span, record)
        return self.leases[name].port

    def close(self) -> None:
        """Free every port of the pool."""
        for lease in self.leases.values():
            lease.release()
        self.leases.clear()


def environ_name(name: str) -> str:
    """The variable a port is exported in: ``GATEKEEPER_PORT`` for ``main``, else
    ``GATEKEEPER_PORT_<NAME>``."""
    if name == "main":
        return "GATEKEEPER_PORT"
    cleaned = "".join(c if c.isascii() and c.isalnum() else "_" for c in name.upper())
    return f"GATEKEEPER_PORT_{cleaned}"
