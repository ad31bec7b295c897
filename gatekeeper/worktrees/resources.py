"""A worktree's own ports and database: reserved through gatekeeper's isolation layer, owned by
the worktree (not by a process) until ``rm`` gives them back.

Ports are named reservations (:func:`gatekeeper.resources.ports.reserve_named`), the same ones
``gatekeeper port NAME`` hands out in that worktree. The database is created by the configured
backend for an identity whose lifetime is the worktree, so the sweep and the test fixtures never
take it while the worktree exists, and do remove it once the worktree is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper.config import Settings
from gatekeeper.resources import ports
from gatekeeper.resources.databases.base import (
    Database,
    Leftover,
    Template,
    open_backend,
    template_for,
)
from gatekeeper.resources.identity import WORKTREE, Identity
from gatekeeper.resources.sweep import remove_port
from gatekeeper.worktrees.records import WorktreeRecord

if TYPE_CHECKING:
    import pluggy


def wants_database(settings: Settings) -> bool:
    """Whether the project configures databases at all (any ``[tool.gatekeeper.database]`` key)."""
    return any(key.startswith("database.") for key in settings.explicit)


def identity(record: WorktreeRecord) -> Identity:
    """The owner of the worktree's database: the worktree itself, for as long as it exists."""
    root = str(Path(record.path).resolve())
    return Identity(root, run=WORKTREE, worker=WORKTREE, branch=record.branch, lifetime=WORKTREE)


def reserve_ports(
    record: WorktreeRecord, names: list[str], settings: Settings, save: Callable[[], None]
) -> None:
    """Reserve each named port for the worktree, saving the record after each one."""
    span = ports.PortRange(settings.integer("ports.first"), settings.integer("ports.last"))
    for name in names:
        record.ports[name] = ports.reserve_named(Path(record.path), name, span)
        save()


def release_ports(record: WorktreeRecord) -> None:
    """Give back every named port of the worktree."""
    for name in list(record.ports):
        port = ports.release_named(Path(record.path), name)
        if port is not None:
            # The lock file of a released port is a leftover; remove it now (the sweep's own
            # re-check under the lock keeps a port someone else took meanwhile).
            remove_port(Leftover("port", str(ports.lock_path(port)), "released"))
        del record.ports[name]


def create_database(
    record: WorktreeRecord,
    settings: Settings,
    plugins: pluggy.PluginManager,
    template: Template | None = None,
) -> Database:
    """The worktree's database, cloned from ``template`` (default: the project's, filled also
    by the template hook of ``plugins``, the setup's plugin manager) by the configured
    backend."""
    backend = open_backend(settings)
    try:
        template = template or template_for(settings, plugins)
        database = backend.create(template, identity(record), record.name)
    finally:
        backend.close()
    record.database = {"backend": database.backend, "name": database.name, "url": database.url}
    return database


def drop_database(record: WorktreeRecord, settings: Settings) -> None:
    """Drop the worktree's database (backends refuse anything without gatekeeper's marker)."""
    if record.database is None:
        return
    found = record.database
    backend = open_backend(settings)
    try:
        backend.drop(Database(found["url"], found["name"], found["backend"]))
    finally:
        backend.close()
    record.database = None
