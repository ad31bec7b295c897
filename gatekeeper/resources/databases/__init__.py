"""One database API over several backends (SQLite, PostgreSQL), chosen by
``[tool.gatekeeper.database] backend``. A backend is a small :class:`Backend` protocol; the
built-ins register in :data:`BACKENDS` the same way a third party's would."""

from gatekeeper.resources.databases.base import (
    BACKENDS,
    Backend,
    Database,
    Leftover,
    Template,
    open_backend,
    register,
)

__all__ = ["BACKENDS", "Backend", "Database", "Leftover", "Template", "open_backend", "register"]
