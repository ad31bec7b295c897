"""Acceptance: a session killed with SIGKILL while holding a PostgreSQL clone leaves nothing
the next ``gatekeeper sweep`` does not remove, and its ports are free again at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.resources import ports
from gatekeeper.resources.locks import ResourceError, acquire

# They use (and sweep) the one PostgreSQL server: never beside each other.
pytestmark = pytest.mark.xdist_group("postgres-server")

HOLDER_TEST = """\
import json
import os
import time
from pathlib import Path


def test_hold(gatekeeper_port, gatekeeper_database):
    record = {"port": gatekeeper_port, "database": gatekeeper_database.name}
    Path(os.environ["HOLD_OUT"]).write_text(json.dumps(record))
    time.sleep(120)
"""


def wait_for(path: Path, process: subprocess.Popen[bytes]) -> dict[str, object]:
    deadline = time.time() + 60
    while not path.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert path.exists(), f"the holder session never reported (exit {process.poll()})"
    time.sleep(0.1)  # the record is written in one call; give it a moment to land
    record = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(record, dict)
    return record


def database_exists(admin: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(admin) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return found.fetchone() is not None


def test_sigkilled_session_is_swept(
    worktrees: Callable[..., list[Path]],
    child_env: dict[str, str],
    postgres_admin: str,
    state: Path,
    tmp_path: Path,
) -> None:
    config = '\n[tool.gatekeeper.database]\nbackend = "postgres"\n'
    (tree,) = worktrees(1, {"tests/test_hold.py": HOLDER_TEST}, config)
    out = tmp_path / "hold.json"
    env = {**child_env, "GATEKEEPER_DATABASE_URL": postgres_admin, "HOLD_OUT": str(out)}
    holder = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_hold.py"],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        record = wait_for(out, holder)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    name, port = str(record["database"]), int(str(record["port"]))
    assert database_exists(postgres_admin, name)
    # The kernel dropped the dead session's flock: the port's lock can be taken at once.
    lease = acquire(ports.lock_path(port, state))
    assert lease is not None
    lease.release()

    gatekeeper = Path(sys.executable).parent / "gatekeeper"
    dry = subprocess.run(
        [str(gatekeeper), "sweep", "--dry-run"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert dry.returncode == 0, dry.stderr
    assert f"would remove postgres {name}" in dry.stdout
    assert database_exists(postgres_admin, name)
    swept = subprocess.run(
        [str(gatekeeper), "sweep"], cwd=tree, env=env, capture_output=True, text=True, check=False
    )
    assert swept.returncode == 0, swept.stderr
    assert f"removed postgres {name}" in swept.stdout
    assert not database_exists(postgres_admin, name)


def test_sweep_never_drops_an_unmarked_database(postgres_admin: str, state: Path) -> None:
    import psycopg

    from gatekeeper.resources.databases.base import Database
    from gatekeeper.resources.databases.postgres import PostgresBackend
    from gatekeeper.resources.sweep import sweep

    name = f"gk_not_ours_{os.getpid()}"
    with psycopg.connect(postgres_admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    backend = PostgresBackend(postgres_admin, 60.0)
    try:
        assert all(leftover.name != name for leftover in sweep([backend]))
        assert database_exists(postgres_admin, name)
        with pytest.raises(ResourceError, match="no gatekeeper marker"):
            backend.drop(Database("unused", name, "postgres"))
        assert database_exists(postgres_admin, name)
    finally:
        backend.close()
        with psycopg.connect(postgres_admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
