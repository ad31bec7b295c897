"""The isolation fixtures: an identity, ports and databases per worker of every worktree.

Everything heavy (configuration, ports, database drivers) is imported inside the fixtures, so
a session that uses none of them pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_gatekeeper.isolation import current

if TYPE_CHECKING:
    from gatekeeper.resources.databases import Database
    from gatekeeper.resources.identity import Identity

PortFactory = Callable[[str], int]
DatabaseFactory = Callable[[str], "Database"]
DATABASE_ENV = "GATEKEEPER_WORKER_DATABASE_URL"


@pytest.fixture(scope="session")
def gatekeeper_identity(request: pytest.FixtureRequest) -> Identity:
    """Who this worker is: worktree (root, branch) x run x worker (``gw0``..., or ``main``)."""
    return current(request.config).identity()


@pytest.fixture(scope="session")
def gatekeeper_port_factory(request: pytest.FixtureRequest) -> Iterator[PortFactory]:
    """``factory(name)``: a port per name for this worker, distinct from every other reserved
    port on the host, free to bind on 127.0.0.1, exported as ``GATEKEEPER_PORT_<NAME>``."""
    from gatekeeper.resources import ports

    isolation = current(request.config)
    identity = isolation.own()
    settings = isolation.settings()
    span = ports.PortRange(settings.integer("ports.first"), settings.integer("ports.last"))
    pool = ports.PortPool(identity.seed("ports"), span, identity.record())

    def factory(name: str) -> int:
        port = pool.get(name)
        isolation.export({ports.environ_name(name): str(port)})
        return port

    yield factory
    pool.close()


@pytest.fixture(scope="session")
def gatekeeper_port(gatekeeper_port_factory: PortFactory) -> int:
    """This worker's port for the whole session (exported as ``GATEKEEPER_PORT``)."""
    return gatekeeper_port_factory("main")


@pytest.fixture(scope="session")
def gatekeeper_database_factory(request: pytest.FixtureRequest) -> Iterator[DatabaseFactory]:
    """``factory(label)``: a database per label for this worker, copied from the template,
    dropped at the end of the session. Leftovers of dead owners are swept first."""
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.resources.databases import base
    from gatekeeper.resources.databases.pool import DatabasePool

    isolation = current(request.config)
    try:
        identity = isolation.own()
        settings = isolation.settings()
        backend = base.open_backend(settings)
        for leftover in backend.leftovers():
            backend.remove(leftover)
        pool = DatabasePool(backend, base.template_for(settings), identity)
    except GatekeeperError as error:
        pytest.fail(f"gatekeeper database: {error}", pytrace=False)

    def factory(label: str) -> Database:
        try:
            return pool.get(label)
        except GatekeeperError as error:
            pytest.fail(f"gatekeeper database: {error}", pytrace=False)

    yield factory
    pool.close()


@pytest.fixture(scope="session")
def gatekeeper_database(
    request: pytest.FixtureRequest, gatekeeper_database_factory: DatabaseFactory
) -> Database:
    """This worker's database for the session: ``url``, ``name``, ``backend``; its URL is
    exported as ``GATEKEEPER_WORKER_DATABASE_URL``."""
    database = gatekeeper_database_factory("main")
    current(request.config).export({DATABASE_ENV: database.url})
    return database
