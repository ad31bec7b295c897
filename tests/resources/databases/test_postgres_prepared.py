"""Clones made ahead of demand: the run's session clones the built template once per worker, a
worker's ``create`` takes a ready one (the very database, renamed), no two workers get the same
one, what nobody took is dropped, and a dead session's are swept."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatekeeper.resources import owners
from gatekeeper.resources.databases.base import Template
from gatekeeper.resources.databases.postgres import PostgresBackend
from gatekeeper.resources.identity import Identity

# They use (and sweep) the one PostgreSQL server: never beside each other.
pytestmark = pytest.mark.xdist_group("postgres-server")


@pytest.fixture
def backend(postgres_admin: str) -> Iterator[PostgresBackend]:
    opened = PostgresBackend(postgres_admin, 3600.0)
    yield opened
    opened.close()


def drop_template(backend: PostgresBackend, name: str) -> None:
    """Drop a template a test built (a sweep keeps a template in use)."""
    if backend.exists(name):
        backend.lock(name)
        try:
            backend.execute(f'ALTER DATABASE "{name}" IS_TEMPLATE false')
            backend.drop_database(name)
        finally:
            backend.unlock(name)


@pytest.fixture
def built(backend: PostgresBackend, tmp_path: Path) -> Iterator[Template]:
    """A built (empty) template of a key of its own."""
    template = Template(f"ahead{uuid.uuid4().hex[:12]}", "", tmp_path)
    name = backend.template(template, Identity("/wt/builder", "b"))
    yield template
    drop_template(backend, name)


@pytest.fixture
def session(state: Path) -> Iterator[Identity]:
    """A live session of its own run: its owner lock is held (by this process)."""
    identity = Identity("/wt/ahead", uuid.uuid4().hex[:12])
    held = owners.claim(identity)
    yield owners.owned(identity, held)
    held.release()


def oid(backend: PostgresBackend, name: str) -> int:
    return int(backend.execute("SELECT oid FROM pg_database WHERE datname = %s", (name,))[0][0])


def test_workers_take_the_clones_their_session_prepared(
    backend: PostgresBackend, built: Template, session: Identity
) -> None:
    made = backend.prepare(built, session, 2, threading.Event())
    assert len(made) == 2
    prepared = {oid(backend, name) for name in made}
    workers = [Identity(session.worktree, session.run, f"gw{n}") for n in range(3)]
    taken = [backend.create(built, worker, "main") for worker in workers]
    # The first two got the prepared databases themselves, the third a new clone.
    assert {oid(backend, db.name) for db in taken[:2]} == prepared
    assert oid(backend, taken[2].name) not in prepared
    record = backend.marker(taken[0].name)
    assert record is not None and record["worker"] == "gw0" and record["prepared_as"] in made
    assert not any(backend.exists(name) for name in made)
    for database in taken:
        backend.drop(database)


def test_another_runs_or_templates_clones_are_never_taken(
    backend: PostgresBackend, built: Template, state: Path, tmp_path: Path
) -> None:
    session = Identity("/wt/ahead", uuid.uuid4().hex[:12])
    made = backend.prepare(built, session, 1, threading.Event())
    try:
        other_run = Identity(session.worktree, "another-run", "gw0")
        mine = backend.create(built, other_run, "main")
        assert oid(backend, mine.name) != oid(backend, made[0])
        other_template = Template(f"{built.key}x", "", tmp_path)
        theirs = backend.create(other_template, Identity(session.worktree, session.run), "x")
        assert backend.exists(made[0])
        for database in (mine, theirs):
            backend.drop(database)
        drop_template(backend, backend.template_name(other_template))
    finally:
        backend.discard_prepared(session)
    assert not backend.exists(made[0])


def test_what_nobody_took_is_dropped_and_a_dead_sessions_is_swept(
    backend: PostgresBackend, built: Template, session: Identity
) -> None:
    kept = backend.prepare(built, session, 1, threading.Event())
    dead = Identity("/wt/ahead", uuid.uuid4().hex[:12])  # no owner lock: a killed session
    orphans = backend.prepare(built, dead, 2, threading.Event())
    found = {left.name: left.reason for left in backend.leftovers()}
    assert kept[0] not in found
    assert all(found[name] == f"owner {dead.key} is dead" for name in orphans)
    for name in orphans:
        backend.remove(next(left for left in backend.leftovers() if left.name == name))
    assert not any(backend.exists(name) for name in orphans)
    backend.discard_prepared(session)
    assert not backend.exists(kept[0])


def test_nothing_is_prepared_from_a_template_not_built_yet(
    backend: PostgresBackend, tmp_path: Path
) -> None:
    missing = Template(f"ahead{uuid.uuid4().hex[:12]}", "echo never-run", tmp_path)
    assert backend.prepare(missing, Identity("/wt/ahead", "r"), 2, threading.Event()) == []
    assert not backend.exists(backend.template_name(missing))
    stop = threading.Event()
    stop.set()
    assert backend.prepare(missing, Identity("/wt/ahead", "r"), 2, stop) == []
