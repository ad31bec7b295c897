"""A process SIGKILLed between ``CREATE DATABASE`` and ``COMMENT ON DATABASE`` leaves a database
without its owner's comment. Its name carries gatekeeper's marker, so the sweep still finds it,
and removes it once nobody holds its creation lock; a live creator's is never touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.resources.databases.base import Leftover, Template, marked_name
from gatekeeper.resources.databases.postgres import PostgresBackend
from gatekeeper.resources.identity import Identity

# They use (and sweep) the one PostgreSQL server: never beside each other.
pytestmark = pytest.mark.xdist_group("postgres-server")

TTL = 3600.0

# The child: gatekeeper's own code path, unchanged. It makes a clone of a built template
# ("clone"), or builds the template first ("build").
CHILD = """\
import sys
from pathlib import Path

from gatekeeper.resources.databases.base import Template
from gatekeeper.resources.databases.postgres import PostgresBackend
from gatekeeper.resources.identity import Identity

admin, key, run = sys.argv[1:]
backend = PostgresBackend(admin, 3600.0)
backend.create(Template(key, "", Path()), Identity("/wt/killed", run), "main")
"""


@pytest.fixture
def backend(postgres_admin: str) -> Iterator[PostgresBackend]:
    opened = PostgresBackend(postgres_admin, TTL)
    yield opened
    opened.close()


@pytest.fixture
def comments_held(postgres_admin: str) -> Iterator[Any]:
    """A transaction holding pg_shdescription, where database comments live: every
    ``COMMENT ON DATABASE`` waits on it until released. Yields that connection, the only one
    that can read comments meanwhile."""
    import psycopg

    connection = psycopg.connect(postgres_admin)
    connection.execute("LOCK TABLE pg_catalog.pg_shdescription IN ACCESS EXCLUSIVE MODE")
    yield connection
    connection.close()


def wait_until(found: Any, what: str, process: subprocess.Popen[bytes] | None = None) -> Any:
    """Poll ``found()`` until it is truthy (the child dying first fails at once)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        assert process is None or process.poll() is None, f"the child exited before {what}"
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def blocked_comment(postgres_admin: str, application: str) -> int | None:
    """The server pid of the child's session while it waits to write a database comment."""
    import psycopg

    with psycopg.connect(postgres_admin, autocommit=True) as watcher:
        row = watcher.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s "
            "AND wait_event_type = 'Lock' AND query LIKE 'COMMENT ON DATABASE%%'",
            (application,),
        ).fetchone()
    return int(row[0]) if row else None


def session_gone(postgres_admin: str, pid: int) -> bool:
    import psycopg

    with psycopg.connect(postgres_admin, autocommit=True) as watcher:
        row = watcher.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,))
        return row.fetchone() is None


def comment_of(connection: Any, name: str) -> tuple[bool, str | None]:
    row = connection.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        (name,),
    ).fetchone()
    return (True, row[0]) if row else (False, None)


@pytest.mark.parametrize("stage", ["clone", "build"])
def test_a_kill_between_create_and_comment_is_swept(
    stage: str,
    postgres_admin: str,
    backend: PostgresBackend,
    comments_held: Any,
    tmp_path: Path,
) -> None:
    if backend.connection().info.server_version < 140000:
        pytest.skip("client_connection_check_interval, which abandons the comment, is 14+")
    key, run = f"kill{uuid.uuid4().hex[:12]}", uuid.uuid4().hex[:12]
    template = Template(key, "", tmp_path)
    if stage == "clone":
        comments_held.rollback()  # the template is built (and commented) first
        backend.template(template, Identity("/wt/builder", run))
        comments_held.execute("LOCK TABLE pg_catalog.pg_shdescription IN ACCESS EXCLUSIVE MODE")
    application = f"gk-kill-{key}"
    env = {
        **os.environ,
        "PGAPPNAME": application,
        # The child's server session checks its client while it waits, so once the child is
        # killed the waiting comment is abandoned, as if it had never been sent.
        "PGOPTIONS": "-c client_connection_check_interval=50",
    }
    child = subprocess.Popen([sys.executable, "-c", CHILD, postgres_admin, key, run], env=env)
    try:
        pid = wait_until(lambda: blocked_comment(postgres_admin, application), "COMMENT", child)
        killed = Identity("/wt/killed", run)
        expected = (
            marked_name(killed.worker, killed.key, "main")
            if stage == "clone"
            else marked_name("build", key, str(child.pid))
        )
        # The moment the issue is about: the database exists and says nothing of its owner.
        assert comment_of(comments_held, expected) == (True, None)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    wait_until(lambda: session_gone(postgres_admin, pid), "the killed session to end")
    comments_held.rollback()
    assert backend.comment(expected) == (True, None)  # left without an owner's comment

    found = [leftover for leftover in backend.leftovers() if leftover.name == expected]
    assert [leftover.reason for leftover in found] == [
        "its creator died before recording its owner"
    ]
    backend.remove(found[0])
    assert not backend.exists(expected)
    _drop_template(backend, key)


def _drop_template(backend: PostgresBackend, key: str) -> None:
    name = f"gk_tpl_{key}"
    if backend.exists(name):
        backend.remove(Leftover("postgres", name, "test over"))


def test_a_live_creators_unrecorded_database_is_never_swept(
    postgres_admin: str, backend: PostgresBackend
) -> None:
    import psycopg

    name = marked_name("main", uuid.uuid4().hex[:16], "live")
    creator = psycopg.connect(postgres_admin, autocommit=True)
    try:
        # What a live creator holds between its CREATE DATABASE and its COMMENT.
        creator.execute("SELECT pg_advisory_lock(%s)", (zlib.crc32(name.encode()),))
        creator.execute(f'CREATE DATABASE "{name}"')
        assert name not in [leftover.name for leftover in backend.leftovers()]
        backend.remove(Leftover("postgres", name, "listed by an older sweep"))
        assert backend.exists(name)
        creator.close()  # the creator dies: the server releases its lock
        found = wait_until(
            lambda: [left for left in backend.leftovers() if left.name == name], "the sweep"
        )
        backend.remove(found[0])
        assert not backend.exists(name)
    finally:
        creator.close()
        with psycopg.connect(postgres_admin, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_a_marked_name_with_somebody_elses_comment_is_never_swept(
    postgres_admin: str, backend: PostgresBackend
) -> None:
    import psycopg

    name = marked_name("main", uuid.uuid4().hex[:16], "theirs")
    lookalike = f"gk_main_{uuid.uuid4().hex[:16]}_mine_00000000"  # a tag that does not match
    with psycopg.connect(postgres_admin, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        admin.execute(f"""COMMENT ON DATABASE "{name}" IS 'reports for finance'""")
        admin.execute(f'CREATE DATABASE "{lookalike}"')
        try:
            listed = [leftover.name for leftover in backend.leftovers()]
            assert name not in listed and lookalike not in listed
            for other in (name, lookalike):
                backend.remove(Leftover("postgres", other, "listed by mistake"))
                assert backend.exists(other)
        finally:
            admin.execute(f'DROP DATABASE "{name}"')
            admin.execute(f'DROP DATABASE "{lookalike}"')
