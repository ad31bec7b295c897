"""Databases made ahead of demand, so a worker's fixture takes one that is ready.

A session starts its workers (xdist spawns them, they import and collect) long before the first
test asks for a database. Meanwhile a background thread in the session's own process clones the
template once per worker, through a backend that can (:class:`Preparing`: PostgreSQL); the
worker's ``create`` then takes a ready clone instead of copying. At the session's end the clones
no worker took are dropped; a session killed first leaves them marked with its (dead) owner, for
the sweep. Nothing here may fail or slow a session: a backend that cannot prepare, a template
not yet built, or any error only means the workers make their own databases as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

from gatekeeper.config import Settings, find_project_root, read_pyproject, written
from gatekeeper.errors import GatekeeperError
from gatekeeper.resources.identity import Identity

if TYPE_CHECKING:
    import pluggy

    from gatekeeper.resources.databases.base import Template

# Backends that never prepare: not worth a thread (SQLite copies are local file copies).
_LOCAL: Final = frozenset({"sqlite"})
FINISH_TIMEOUT: Final = 120.0


@runtime_checkable
class Preparing(Protocol):
    """A backend that can make databases ahead for the workers of a run."""

    def prepare(
        self, template: Template, owner: Identity, count: int, stop: threading.Event
    ) -> list[str]:
        """Make up to ``count`` databases for ``owner``'s run; stop early once ``stop`` is set."""
        ...

    def discard_prepared(self, owner: Identity) -> None:
        """Drop what ``owner`` prepared that no worker took."""
        ...


def wanted(root: Path, overrides: Mapping[str, object]) -> bool:
    """Whether the project at or above ``root`` names a server backend and leaves ``prepare``
    on: read from the raw file (cheap), so a session without such a database pays nothing."""
    try:
        raw, _ = read_pyproject(find_project_root(root))
    except GatekeeperError:
        return False  # the fixtures report a broken file; this is only an optimisation
    backend = written(raw, "database.backend", overrides)
    prepare = written(raw, "database.prepare", overrides)
    return prepare is not False and backend not in _LOCAL


Loaded = tuple[Settings, "pluggy.PluginManager"]
"""What :class:`Ahead` needs of the loaded setup: its settings and its plugin manager."""


class Ahead:
    """One session's databases made ahead: :meth:`start` at session start, :meth:`finish` at
    its end. ``load`` gives the loaded setup's settings and plugin manager (called in the
    background thread)."""

    def __init__(self, load: Callable[[], Loaded], owner: Identity, count: int) -> None:
        self.load = load
        self.owner = owner
        self.count = count
        self.made: list[str] = []
        self.error = ""  # why nothing was prepared, for whoever asks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gatekeeper-ahead", daemon=True)

    def start(self) -> None:
        """Start preparing in the background."""
        self._thread.start()

    def finish(self, timeout: float = FINISH_TIMEOUT) -> None:
        """Stop preparing, and drop what no worker took (waits for a clone in progress)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        # Imported here: this module is imported by every session, the backends only by those
        # that prepare.
        from gatekeeper.resources.databases.base import open_backend, template_for

        try:
            settings, manager = self.load()
            if not settings.flag("database.prepare"):
                return
            backend = open_backend(settings)
        except GatekeeperError as error:
            self.error = str(error)
            return
        try:
            if isinstance(backend, Preparing):
                self._prepare(backend, template_for(settings, manager, run=self.owner.run))
        except GatekeeperError as error:
            self.error = str(error)
        finally:
            backend.close()

    def _prepare(self, backend: Preparing, template: Template) -> None:
        try:
            self.made = backend.prepare(template, self.owner, self.count, self._stop)
            self._stop.wait()
        finally:
            backend.discard_prepared(self.owner)
