"""SQLite: no server. A template file is built once per template content; each worker gets a copy.

The copy is a reflink (``FICLONE``: O(1) on btrfs, XFS, bcachefs) where the filesystem has one,
else SQLite's backup API. The template is never written after it is built (it is renamed into
place only once complete), so copying its file is consistent.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Final

from gatekeeper.config import Settings
from gatekeeper.resources import owners
from gatekeeper.resources.databases.base import (
    Database,
    Leftover,
    Template,
    marker_record,
    safe_name,
)
from gatekeeper.resources.identity import Identity
from gatekeeper.resources.locks import ResourceError, acquire, is_held, state_dir

NAME: Final = "sqlite"
FICLONE: Final = 0x40049409  # from linux/fs.h
OWNER_FILE: Final = "gatekeeper-owner.json"
BUILDING: Final = ".building-"  # <key>.building-<pid>.sqlite3: a template being built


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def reflink(source: Path, target: Path) -> bool:
    """Copy ``source`` to ``target`` as a reflink; False (and no target) where unsupported."""
    with source.open("rb") as src, target.open("wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
        except OSError:
            ok = False
        else:
            ok = True
    if not ok:
        target.unlink()
    return ok


def backup_copy(source: Path, target: Path) -> None:
    """Copy a database with SQLite's backup API (consistent even while others read it)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def copy_database(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target``; returns the method used (``reflink`` or ``backup``)."""
    if reflink(source, target):
        return "reflink"
    backup_copy(source, target)
    return "backup"


class SqliteBackend:
    """Templates in ``<state>/sqlite/templates``, copies in ``<state>/sqlite/owners/<key>``."""

    name = NAME

    def __init__(self, ttl: float, state: Path | None = None) -> None:
        self.ttl = ttl
        self.base = (state or state_dir()) / "sqlite"
        self.state = state

    def template(self, template: Template) -> Path:
        """The template file for ``template``, built now unless an identical one exists."""
        path = self.base / "templates" / f"{template.key}.sqlite3"
        lock = acquire(path.with_suffix(".lock"), wait=True)
        assert lock is not None
        try:
            if path.exists():
                os.utime(path)  # its last use: a template unused for ttl is swept
            else:
                self._build(template, path)
        finally:
            lock.release()
        return path

    def _build(self, template: Template, path: Path) -> None:
        partial = path.with_name(f"{path.stem}{BUILDING}{os.getpid()}.sqlite3")
        partial.unlink(missing_ok=True)
        sqlite3.connect(partial).close()
        try:
            template.build(url_of(partial))
            connection = sqlite3.connect(partial)
            # Fold any WAL back into the main file and leave WAL mode, so the file alone is
            # the whole database and a file-level copy is complete.
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.execute("PRAGMA journal_mode=DELETE")
            connection.close()
            partial.rename(path)
        finally:
            partial.unlink(missing_ok=True)

    def create(self, template: Template, identity: Identity, label: str) -> Database:
        """A copy of the template for ``identity``, in a folder marked with its owner."""
        source = self.template(template)
        folder = self.base / "owners" / identity.key
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / OWNER_FILE
        if not marker.exists():
            marker.write_text(
                json.dumps(marker_record(identity, self.ttl, "copy")), encoding="utf-8"
            )
        name = safe_name("gk", identity.worker, identity.key, label)
        target = folder / f"{name}.sqlite3"
        if target.exists():
            raise ResourceError(f"database {name!r} already exists for this worker.")
        copy_database(source, target)
        return Database(url_of(target), name, NAME)

    def drop(self, database: Database) -> None:
        """Delete a copy (its journal files too)."""
        path = Path(database.url.removeprefix("sqlite:///"))
        if not (path.parent / OWNER_FILE).exists():
            raise ResourceError(f"{path} is not a database gatekeeper created; left alone.")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        if not any(path.parent.glob("*.sqlite3")):
            # The worker's last database: the folder goes too, so nothing is left behind.
            shutil.rmtree(path.parent, ignore_errors=True)

    def leftovers(self) -> list[Leftover]:
        """Owner folders whose owner is dead or whose time-to-live passed, half-built
        templates whose builder died (nobody holds their template's lock), and templates
        unused for ``ttl``."""
        found = [*self._half_built(), *self._unused()]
        folder = self.base / "owners"
        for owner in sorted(folder.iterdir()) if folder.is_dir() else ():
            record = _owner_record(owner)
            if record is None:
                continue
            if owners.expired(record):
                found.append(Leftover(NAME, str(owner), "time-to-live passed"))
            elif not owners.alive(record, self.state):
                found.append(Leftover(NAME, str(owner), f"owner {record.get('owner')} is dead"))
        return found

    def _half_built(self) -> list[Leftover]:
        folder = self.base / "templates"
        found: list[Leftover] = []
        for partial in sorted(folder.glob(f"*{BUILDING}*.sqlite3")) if folder.is_dir() else ():
            if not is_held(_builder_lock(partial)):
                found.append(Leftover(NAME, str(partial), "half-built template, builder died"))
        return found

    def _unused(self) -> list[Leftover]:
        folder = self.base / "templates"
        return [
            Leftover(NAME, str(path), "template unused for longer than ttl")
            for path in sorted(folder.glob("*.sqlite3"))
            if BUILDING not in path.name and _unused_for(path, self.ttl)
        ]

    def remove(self, leftover: Leftover) -> None:
        """Delete a dead owner's folder (only one carrying gatekeeper's owner file), or a
        half-built or unused template, re-checked under its template's lock."""
        path = Path(leftover.name)
        if BUILDING in path.name and path.parent == self.base / "templates":
            _remove_half_built(path)
        elif path.parent == self.base / "templates":
            _remove_unused(path, self.ttl)
        elif _owner_record(path) is not None:
            shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        """Nothing to release: SQLite has no server."""


def _builder_lock(partial: Path) -> Path:
    """The template lock its builder holds while ``partial`` is being built."""
    return partial.with_name(partial.name.split(BUILDING)[0] + ".lock")


def _remove_half_built(partial: Path) -> None:
    held = acquire(_builder_lock(partial))
    if held is None:
        return  # a builder holds the lock again: maybe building this very file; leave it
    try:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
    finally:
        held.release()


def _unused_for(template: Path, ttl: float) -> bool:
    try:
        return template.stat().st_mtime + ttl < time.time()
    except OSError:
        return False  # gone already


def _remove_unused(template: Path, ttl: float) -> None:
    held = acquire(template.with_suffix(".lock"))
    if held is None:
        return  # being built or copied right now
    try:
        if _unused_for(template, ttl):  # a copy may have used it since it was listed
            template.unlink(missing_ok=True)
    finally:
        held.release()


def _owner_record(folder: Path) -> dict[str, object] | None:
    with contextlib.suppress(OSError, ValueError):
        record = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
        if isinstance(record, dict) and record.get("gatekeeper") == 1:
            return record
    return None


def open_backend(settings: Settings) -> SqliteBackend:
    """The SQLite backend (``[tool.gatekeeper.database] ttl`` applies to its copies)."""
    return SqliteBackend(settings.number("database.ttl") or 86400.0)
