"""End to end: a session with a PostgreSQL database clones the built template while it starts;
its worker's fixture takes that clone; a clone nobody takes is dropped at the session's end;
``--gatekeeper-no-database-prepare`` turns it off."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_project

# They use (and sweep) the one PostgreSQL server: never beside each other.
pytestmark = pytest.mark.xdist_group("postgres-server")

MIGRATE = """\
import os

import psycopg

with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as connection:
    connection.execute("CREATE TABLE items (owner TEXT)")
"""

# Waits (an event: the clone exists) until the session's clone is ready, then asks for the
# database, or, in a session that never uses one, only waits.
AHEAD_TEST = """\
import json
import os
import time

import psycopg

from gatekeeper.resources.databases.postgres_prepared import pattern, preparer

ADMIN = os.environ["GATEKEEPER_DATABASE_URL"]


def wait_for_the_prepared_clone(identity):
    deadline = time.monotonic() + 60
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        while time.monotonic() < deadline:
            found = admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                (pattern(preparer(identity)),),
            ).fetchall()
            if found:
                return [row[0] for row in found]
            time.sleep(0.02)
    raise AssertionError("no clone was prepared")


def test_ahead(request, gatekeeper_identity):
    waits = os.environ.get("WAIT_FOR_CLONE", "1") == "1"
    prepared = wait_for_the_prepared_clone(gatekeeper_identity) if waits else []
    out = {"prepared": prepared}
    if os.environ["USE_DATABASE"] == "1":
        database = request.getfixturevalue("gatekeeper_database")
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            (comment,) = admin.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE datname = %s",
                (database.name,),
            ).fetchone()
        out["record"] = json.loads(comment.removeprefix("gatekeeper:"))
    with open(os.environ["AHEAD_OUT"], "w") as handle:
        json.dump(out, handle)
"""

PLAIN_TEST = """\
def test_uses(gatekeeper_database):
    assert gatekeeper_database.name
"""


def project(root: Path) -> Path:
    config = (
        '\n[tool.gatekeeper.database]\nbackend = "postgres"\n'
        f'setup = "{sys.executable} migrate.py"\ninputs = ["migrate.py"]\n'
    )
    files = {"migrate.py": MIGRATE, "tests/test_ahead.py": AHEAD_TEST}
    return make_project(root, {**files, "tests/test_plain.py": PLAIN_TEST}, config)


def run(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    return subprocess.run(
        [*command, *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )


def leftovers_of(admin: str, root: Path) -> list[str]:
    """gatekeeper's databases that name a worktree of this project in their record."""
    import psycopg

    with psycopg.connect(admin, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT datname FROM pg_database WHERE shobj_description(oid, 'pg_database') LIKE %s",
            (f"%{root.resolve()}%",),
        ).fetchall()
    return [row[0] for row in rows]


def test_a_worker_takes_the_clone_made_while_its_session_started(
    child_env: dict[str, str], postgres_admin: str, tmp_path: Path
) -> None:
    root = project(tmp_path / "proj")
    out = tmp_path / "ahead.json"
    env = {**child_env, "GATEKEEPER_DATABASE_URL": postgres_admin, "AHEAD_OUT": str(out)}
    first = run(root, env, "tests/test_plain.py")  # builds the template: nothing to clone yet
    assert first.returncode == 0, first.stdout + first.stderr

    used = run(root, {**env, "USE_DATABASE": "1"}, "tests/test_ahead.py")
    assert used.returncode == 0, used.stdout + used.stderr
    found = json.loads(out.read_text())
    assert found["record"]["prepared_as"] in found["prepared"]

    unused = run(root, {**env, "USE_DATABASE": "0"}, "tests/test_ahead.py")
    assert unused.returncode == 0, unused.stdout + unused.stderr
    assert json.loads(out.read_text())["prepared"]  # one was made, and dropped at the end:
    assert [name for name in leftovers_of(postgres_admin, root) if "_pre_" in name] == []

    off = run(
        root, env, "--gatekeeper-no-database-prepare", "tests/test_plain.py", "-p", "pytester"
    )
    assert off.returncode == 0, off.stdout + off.stderr
