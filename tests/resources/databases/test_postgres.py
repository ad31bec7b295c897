"""PostgreSQL backend: templates of an old content key are swept once past their time-to-live,
never the current one, never a template whose clone lock is held."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest

from gatekeeper.resources.databases.base import MARKER, Leftover
from gatekeeper.resources.databases.postgres import TEMPLATE_PREFIX, PostgresBackend

# They use (and sweep) the one PostgreSQL server: never beside each other.
pytestmark = pytest.mark.xdist_group("postgres-server")

TTL = 3600.0


@pytest.fixture
def old_template(postgres_admin: str) -> Iterator[Callable[[str], str]]:
    """Factory: a built template of ``key``, marked as created two time-to-lives ago."""
    import psycopg

    made: list[str] = []

    def make(key: str) -> str:
        name = f"{TEMPLATE_PREFIX}{key}"
        record = {"kind": "template", "created": time.time() - 2 * TTL, "expires": None}
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


def test_old_templates_of_other_keys_are_swept(
    postgres_admin: str, old_template: Callable[[str], str]
) -> None:
    stale = old_template("sweeptest0old")
    current = old_template("sweeptest0new")
    backend = PostgresBackend(postgres_admin, TTL, current="sweeptest0new")
    found = backend.leftovers()
    assert ours(found, stale, current) == [stale]
    (leftover,) = [item for item in found if item.name == stale]
    assert leftover.reason == "template of an old key, older than ttl"
    backend.remove(leftover)
    assert not backend.exists(stale)
    assert backend.exists(current)
    backend.close()


def test_without_a_current_key_no_template_is_swept(
    postgres_admin: str, old_template: Callable[[str], str]
) -> None:
    stale = old_template("sweeptest1old")
    backend = PostgresBackend(postgres_admin, TTL, current=None)
    assert ours(backend.leftovers(), stale) == []
    backend.close()


def test_a_young_template_of_another_key_is_kept(postgres_admin: str) -> None:
    backend = PostgresBackend(postgres_admin, 10 * 365 * 86400.0, current="sweeptest2new")
    assert not [
        leftover for leftover in backend.leftovers() if leftover.name.startswith(TEMPLATE_PREFIX)
    ]
    backend.close()
