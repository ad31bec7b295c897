"""Databases made ahead of demand: registered only in the process that starts a run (the xdist
controller, or the one process without xdist), only when the project names a database server
and leaves ``[tool.gatekeeper.database] prepare`` on. It starts preparing at session start and
drops what no worker took at session end (see ``gatekeeper.resources.databases.prepared``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gatekeeper.config import given_options
from pytest_gatekeeper import options
from pytest_gatekeeper.isolation import Isolation

if TYPE_CHECKING:
    from gatekeeper.resources.databases.prepared import Ahead, Loaded

PLUGIN_NAME = "gatekeeper-databases-ahead"


def install(config: pytest.Config, isolation: Isolation) -> None:
    """Register the preparer when this process starts a run that may use a database server."""
    if hasattr(config, "workerinput") or options.inspects(config.option):
        return  # a worker, or a run that never runs a test: nothing to prepare for
    from gatekeeper.resources.databases.prepared import wanted

    if wanted(config.rootpath, given_options(config.option)):
        config.pluginmanager.register(DatabasesAhead(config, isolation), PLUGIN_NAME)


class DatabasesAhead:
    """Prepares one database per worker while the workers start."""

    def __init__(self, config: pytest.Config, isolation: Isolation) -> None:
        self.config = config
        self.isolation = isolation
        self.ahead: Ahead | None = None

    def _setup(self) -> Loaded:
        # Called in the background thread: the process's one setup, loaded there if nobody
        # loaded it yet.
        setup = options.setup(self.config, self.config.rootpath)
        return setup.settings, setup.manager

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from gatekeeper.errors import GatekeeperError
        from gatekeeper.resources.databases.prepared import Ahead

        try:
            owner = self.isolation.own()  # the clones name this process's owner lock
        except GatekeeperError:
            return  # the fixtures report an unusable state dir themselves
        workers = getattr(self.config.option, "numprocesses", None) or 1
        self.ahead = Ahead(self._setup, owner, int(workers))
        self.ahead.start()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.ahead is not None:
            self.ahead.finish()
