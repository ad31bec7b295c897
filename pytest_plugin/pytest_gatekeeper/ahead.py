"""Databases made ahead of demand: registered only in the process that starts a run (the xdist
controller, or the one process without xdist), only when the project names a database server
and leaves ``[tool.gatekeeper.database] prepare`` on. It starts preparing at session start and
drops what no worker took at session end (see ``gatekeeper.resources.ahead``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_gatekeeper.isolation import Isolation

if TYPE_CHECKING:
    from gatekeeper.config import Settings
    from gatekeeper.resources.ahead import Ahead

PLUGIN_NAME = "gatekeeper-databases-ahead"
# Runs that never run a test: nothing to prepare for.
_NO_TESTS = ("help", "version", "collectonly", "showfixtures", "show_fixtures_per_test", "markers")


def install(config: pytest.Config, isolation: Isolation) -> None:
    """Register the preparer when this process starts a run that may use a database server."""
    if hasattr(config, "workerinput") or any(
        getattr(config.option, name, False) for name in _NO_TESTS
    ):
        return
    from gatekeeper.resources.ahead import wanted
    from pytest_gatekeeper.plugin import overrides

    if wanted(config.rootpath, overrides(config.option)):
        config.pluginmanager.register(DatabasesAhead(config, isolation), PLUGIN_NAME)


class DatabasesAhead:
    """Prepares one database per worker while the workers start."""

    def __init__(self, config: pytest.Config, isolation: Isolation) -> None:
        self.config = config
        self.isolation = isolation
        self.ahead: Ahead | None = None

    def _settings(self) -> Settings:
        # Loaded apart from the session's own copy: this runs in the background thread.
        from gatekeeper.gate import load_setup
        from pytest_gatekeeper.plugin import overrides

        return load_setup(self.config.rootpath, overrides(self.config.option)).settings

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from gatekeeper.errors import GatekeeperError
        from gatekeeper.resources.ahead import Ahead

        try:
            owner = self.isolation.own()  # the clones name this process's owner lock
        except GatekeeperError:
            return  # the fixtures report an unusable state dir themselves
        workers = getattr(self.config.option, "numprocesses", None) or 1
        self.ahead = Ahead(self._settings, owner, int(workers))
        self.ahead.start()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.ahead is not None:
            self.ahead.finish()
