"""PostgreSQL backend: templates unused for their time-to-live are swept, and a template that
served one session once that session is dead; a clone records its template's use."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gatekeeper.resources.databases.base import MARKER, Leftover, Template
from gatekeeper.resources.databases.postgres import TEMPLATE_PREFIX, PostgresBackend
from gatekeeper.resources.databases.template_key import SESSION, TRACKED
from gatekeeper.resources.identity import Identity, machine

# They use (and sweep) the one PostgreSQL server: never beside each other.
pytestmark = pytest.mark.xdist_group("postgres-server")

TTL = 3600.0


@pytest.fixture
def old_template(postgres_admin: str) -> Iterator[Callable[..., str]]:
    """Factory: a built template of ``key`` whose record says it was last used ``used`` seconds
    ago (two time-to-lives by default); ``extra`` adds to its record."""
    import psycopg

    made: list[str] = []

    def make(key: str, used: float = 2 * TTL, **extra: object) -> str:
        name = f"{TEMPLATE_PREFIX}{key}"
        stamp = time.time() - used
        record = {"kind": "template", "created": stamp, "used": stamp, "expires": None, **extra}
        comment = (MARKER + json.dumps(record)).replace("'", "''")
        with psycopg.connect(postgres_admin, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
            connection.execute(f"COMMENT ON DATABASE {name} IS '{comment}'")
            connection.execute(f"ALTER DATABASE {name} IS_TEMPLATE true")
        made.append(name)
        return name

    yield make
    with psycopg.connect(postgres_admin, autocommit=True) as connection:
        for name in made:
            found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if found.fetchone() is not None:
                connection.execute(f"ALTER DATABASE {name} IS_TEMPLATE false")
                connection.execute(f"DROP DATABASE {name}")


def ours(found: list[Leftover], *names: str) -> list[str]:
    return sorted(leftover.name for leftover in found if leftover.name in names)


def test_templates_unused_for_ttl_are_swept_and_used_ones_kept(
    postgres_admin: str, old_template: Callable[..., str]
) -> None:
    stale = old_template("sweeptest0old")
    young = old_template("sweeptest0new", used=TTL / 2)
    backend = PostgresBackend(postgres_admin, TTL)
    found = backend.leftovers()
    assert ours(found, stale, young) == [stale]
    (leftover,) = [item for item in found if item.name == stale]
    assert leftover.reason == "template unused for longer than ttl"
    backend.remove(leftover)
    assert not backend.exists(stale)
    assert backend.exists(young)
    backend.close()


def test_a_clone_records_the_templates_use(
    postgres_admin: str, old_template: Callable[..., str]
) -> None:
    name = old_template("sweeptest1use")
    key = name.removeprefix(TEMPLATE_PREFIX)
    backend = PostgresBackend(postgres_admin, TTL)
    clone = backend.create(Template(key, "", Path()), Identity("/wt/use", "r"), "main")
    try:
        record = backend.marker(name)
        assert record is not None
        assert float(str(record["used"])) > time.time() - TTL
        assert ours(backend.leftovers(), name) == []
    finally:
        backend.drop(clone)
        backend.close()


def test_a_session_template_goes_when_its_session_is_dead(
    postgres_admin: str, old_template: Callable[..., str], state: Path
) -> None:
    dead = {"owner": "0123456789abcdef", "host": socket.gethostname(), "machine": machine()}
    session = old_template("sweeptest2run", used=0, basis=SESSION, **dead)
    tracked = old_template("sweeptest2git", used=0, basis=TRACKED, **dead)
    backend = PostgresBackend(postgres_admin, TTL)
    found = backend.leftovers()
    assert ours(found, session, tracked) == [session]
    backend.close()


def test_a_template_of_a_project_that_is_gone_is_swept(
    postgres_admin: str, old_template: Callable[..., str], tmp_path: Path
) -> None:
    here = {"host": socket.gethostname(), "machine": machine()}
    gone = old_template("sweeptest3gone", used=0, project=str(tmp_path / "gone"), **here)
    kept = old_template("sweeptest3here", used=0, project=str(tmp_path), **here)
    elsewhere = {**here, "machine": "another;pid:[1];mnt:[2]"}
    unknown = old_template("sweeptest3else", used=0, project=str(tmp_path / "gone"), **elsewhere)
    backend = PostgresBackend(postgres_admin, TTL)
    found = backend.leftovers()
    assert ours(found, gone, kept, unknown) == [gone]
    (leftover,) = [item for item in found if item.name == gone]
    assert leftover.reason == f"template of a project that is gone ({tmp_path / 'gone'})"
    backend.close()


def checkpoints_requested(admin: str) -> int:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as connection:
        row = connection.execute("SELECT checkpoints_req FROM pg_stat_bgwriter").fetchone()
    assert row is not None
    return int(row[0])


def test_a_template_from_the_size_limit_is_cloned_with_file_copy(
    postgres_admin: str, old_template: Callable[..., str]
) -> None:
    name = old_template("sweeptest4size", used=0)
    template = Template(name.removeprefix(TEMPLATE_PREFIX), "", Path())
    backend = PostgresBackend(postgres_admin, TTL, file_copy_from=0)  # every template is large
    before = checkpoints_requested(postgres_admin)
    clone = backend.create(template, Identity("/wt/size", "r"), "main")
    try:
        # FILE_COPY forces a checkpoint before and after copying the files; WAL_LOG none.
        assert checkpoints_requested(postgres_admin) >= before + 2
    finally:
        backend.drop(clone)
        backend.close()
