"""The databases of one owner: created from the template on first ask, dropped at close."""

from __future__ import annotations

from gatekeeper.resources.databases.base import Backend, Database, Template
from gatekeeper.resources.identity import Identity


class DatabasePool:
    """One database per label for ``identity``; each label its own database."""

    def __init__(self, backend: Backend, template: Template, identity: Identity) -> None:
        self.backend = backend
        self.template = template
        self.identity = identity
        self.databases: dict[str, Database] = {}

    def get(self, label: str) -> Database:
        """The database for ``label``, created now if this is its first ask."""
        if label not in self.databases:
            self.databases[label] = self.backend.create(self.template, self.identity, label)
        return self.databases[label]

    def close(self) -> None:
        """Drop every database of the pool, then release the backend."""
        try:
            for database in self.databases.values():
                self.backend.drop(database)
            self.databases.clear()
        finally:
            self.backend.close()
