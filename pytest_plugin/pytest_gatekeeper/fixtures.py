"""The isolation fixtures: an identity, ports and databases per worker of every worktree.

Everything heavy (configuration, ports, database drivers) is imported inside the fixtures, so
a session that uses none of them pays nothing for them.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_gatekeeper.isolation import Isolation, current

if TYPE_CHECKING:
    from gatekeeper.resources.databases import Backend, Database
    from gatekeeper.resources.databases.pool import DatabasePool
    from gatekeeper.resources.identity import Identity
    from gatekeeper.resources.ports import PortPool

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
    port on the host, free to bind on 127.0.0.1, exported as ``GATEKEEPER_PORT_<NAME>``.
    A bad or exhausted ``[tool.gatekeeper.ports]`` range fails with one paragraph."""
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.resources import ports

    isolation = current(request.config)
    failure = ""
    try:
        pool = _open_ports(isolation)
    except GatekeeperError as error:
        failure = str(error)
    if failure:  # failed outside the except block, so pytest shows one paragraph, no chain
        pytest.fail(f"gatekeeper port: {failure}", pytrace=False)

    def factory(name: str) -> int:
        try:
            port = pool.get(name)
        except GatekeeperError as error:
            failure = str(error)
        else:
            isolation.export({ports.environ_name(name): str(port)})
            return port
        pytest.fail(f"gatekeeper port: {failure}", pytrace=False)

    yield factory
    pool.close()


def _open_ports(isolation: Isolation) -> PortPool:
    from gatekeeper.resources import ports

    identity = isolation.own()
    settings = isolation.setup().settings
    span = ports.PortRange(settings.integer("ports.first"), settings.integer("ports.last"))
    return ports.PortPool(identity.seed("ports"), span, identity.record())


@pytest.fixture(scope="session")
def gatekeeper_port(gatekeeper_port_factory: PortFactory) -> int:
    """This worker's port for the whole session (exported as ``GATEKEEPER_PORT``)."""
    return gatekeeper_port_factory("main")


@pytest.fixture(scope="session")
def gatekeeper_database_factory(request: pytest.FixtureRequest) -> Iterator[DatabaseFactory]:
    """``factory(label)``: a database per label for this worker, copied from the template,
    dropped at the end of the session. Leftovers of dead owners are swept first; one that
    cannot be removed is reported as a warning and left, never failing this session."""
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.resources.databases.pool import DatabasePool

    isolation = current(request.config)
    failure = ""
    try:
        pool = _open_pool(isolation)
    except GatekeeperError as error:
        failure = str(error)
    if failure:  # failed outside the except block, so pytest shows one paragraph, no chain
        pytest.fail(f"gatekeeper database: {failure}", pytrace=False)
    assert isinstance(pool, DatabasePool)

    def factory(label: str) -> Database:
        try:
            return pool.get(label)
        except GatekeeperError as error:
            failure = str(error)
        pytest.fail(f"gatekeeper database: {failure}", pytrace=False)

    yield factory
    try:
        pool.close()
    except GatekeeperError as error:
        failure = str(error)
    if failure:
        pytest.fail(f"gatekeeper database (at session end): {failure}", pytrace=False)


def _open_pool(isolation: Isolation) -> DatabasePool:
    from gatekeeper.resources.databases import base
    from gatekeeper.resources.databases.pool import DatabasePool
    from gatekeeper.resources.databases.template_key import TemplateWarning, reuse_advice

    identity = isolation.own()
    setup = isolation.setup()
    settings = setup.settings
    template = base.template_for(settings, setup.manager, run=identity.run)
    advice = reuse_advice(template.basis)
    if advice:
        _warn(TemplateWarning(advice))
    backend = base.open_backend(settings)
    try:
        _sweep(backend)
        return DatabasePool(backend, template, identity)
    except BaseException:
        backend.close()
        raise


def _warn(warning: Warning) -> None:
    """Warn, or under ``filterwarnings = error`` say it on stderr: advice never fails a test."""
    try:
        warnings.warn(warning, stacklevel=1)
    except Warning:
        sys.stderr.write(f"warning: {warning}\n")


def _sweep(backend: Backend) -> None:
    """Remove what dead owners left; a leftover that cannot be removed (e.g. another role's
    database) is reported and skipped: it is not this session's to fail on."""
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.resources.sweep import SweepWarning

    for leftover in backend.leftovers():
        try:
            backend.remove(leftover)
        except GatekeeperError as error:
            warnings.warn(
                SweepWarning(
                    f"gatekeeper could not sweep {leftover.backend} {leftover.name} "
                    f"({leftover.reason}); left in place: {error}"
                ),
                stacklevel=1,
            )


@pytest.fixture(scope="session")
def gatekeeper_database(
    request: pytest.FixtureRequest, gatekeeper_database_factory: DatabaseFactory
) -> Database:
    """This worker's database for the session: ``url``, ``name``, ``backend``; its URL is
    exported as ``GATEKEEPER_WORKER_DATABASE_URL``."""
    database = gatekeeper_database_factory("main")
    current(request.config).export({DATABASE_ENV: database.url})
    return database
