"""Acceptance: two worktrees of one repository run ``pytest -n 4`` at the same time, without
``--gatekeeper``; every worker gets its own port, database and basetemp."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# They use (and sweep) the one PostgreSQL server: never beside each other.
pytestmark = pytest.mark.xdist_group("postgres-server")

MIGRATE = """\
import os

url = os.environ["DATABASE_URL"]
if url.startswith("sqlite:///"):
    import sqlite3

    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    connection.execute("CREATE TABLE items (owner TEXT)")
    connection.commit()
    connection.close()
else:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE items (owner TEXT)")
"""

WORKER_TEST = """\
import json
import os
import socket
import time
from pathlib import Path

def own_rows(url, me):
    if url.startswith("sqlite:///"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        connection.execute("INSERT INTO items VALUES (?)", (me,))
        connection.commit()
        rows = [r[0] for r in connection.execute("SELECT owner FROM items")]
        connection.close()
        return rows
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("INSERT INTO items VALUES (%s)", (me,))
        return [r[0] for r in connection.execute("SELECT owner FROM items")]


def test_worker(gatekeeper_port, gatekeeper_database, gatekeeper_identity, tmp_path):
    out = Path(os.environ["ISO_OUT"])
    me = f"{Path(gatekeeper_identity.worktree).name}-{gatekeeper_identity.worker}"
    with socket.socket() as server:
        server.bind(("127.0.0.1", gatekeeper_port))  # fails the test if it is not free
        server.listen()
        rows = own_rows(gatekeeper_database.url, me)
        record = {
            "me": me,
            "port": gatekeeper_port,
            "env_port": os.environ["GATEKEEPER_PORT"],
            "database": gatekeeper_database.name,
            "backend": gatekeeper_database.backend,
            "rows": rows,
            "tmp": str(tmp_path),
            "run": gatekeeper_identity.run,
        }
        (out / f"{me}.json").write_text(json.dumps(record))
        # Hold the port until all eight workers have bound theirs: they coexist.
        deadline = time.time() + 90
        while len(list(out.glob("*.json"))) < 8 and time.time() < deadline:
            time.sleep(0.05)
        assert len(list(out.glob("*.json"))) == 8
    assert rows == [me]
"""


def run_two_worktrees(
    trees: list[Path], env: dict[str, str], out: Path
) -> list[subprocess.CompletedProcess[str]]:
    command = [sys.executable, "-m", "pytest", "-n", "4", "--dist", "each", "-q"]
    command += ["-p", "no:cacheprovider", "tests/test_iso.py"]
    running = [
        subprocess.Popen(
            command,
            cwd=tree,
            env={**env, "ISO_OUT": str(out)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for tree in trees
    ]
    done = []
    for process in running:
        stdout, _ = process.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, ""))
    return done


def check_records(out: Path, backend: str) -> list[dict[str, object]]:
    records = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    assert len(records) == 8
    assert len({r["port"] for r in records}) == 8
    assert all(str(r["port"]) == r["env_port"] for r in records)
    assert len({r["database"] for r in records}) == 8
    assert all(r["rows"] == [r["me"]] for r in records)
    assert all(r["backend"] == backend for r in records)
    assert len({r["tmp"] for r in records}) == 8
    assert len({r["run"] for r in records}) == 2  # one run per worktree, shared by its workers
    return records


def project_files(backend: str) -> tuple[dict[str, str], str]:
    config = (
        "\n[tool.gatekeeper.database]\n"
        f'backend = "{backend}"\n'
        f'setup = "{sys.executable} migrate.py"\n'
        'inputs = ["migrate.py"]\n'
    )
    return {"migrate.py": MIGRATE, "tests/test_iso.py": WORKER_TEST}, config


def test_two_worktrees_sqlite(
    worktrees: Callable[..., list[Path]], child_env: dict[str, str], state: Path, tmp_path: Path
) -> None:
    files, config = project_files("sqlite")
    trees = worktrees(2, files, config)
    out = tmp_path / "out"
    out.mkdir()
    for done in run_two_worktrees(trees, child_env, out):
        assert done.returncode == 0, done.stdout
    records = check_records(out, "sqlite")
    assert all(str(r["tmp"]).startswith(str(state / "basetemp")) for r in records)
    owners = state / "sqlite" / "owners"
    assert not owners.exists() or not list(owners.iterdir())


def test_two_worktrees_postgres(
    worktrees: Callable[..., list[Path]],
    child_env: dict[str, str],
    postgres_admin: str,
    tmp_path: Path,
) -> None:
    import psycopg

    files, config = project_files("postgres")
    trees = worktrees(2, files, config)
    out = tmp_path / "out"
    out.mkdir()
    env = {**child_env, "GATEKEEPER_DATABASE_URL": postgres_admin}
    for done in run_two_worktrees(trees, env, out):
        assert done.returncode == 0, done.stdout
    names = [str(r["database"]) for r in check_records(out, "postgres")]
    with psycopg.connect(postgres_admin) as connection:
        left = connection.execute(
            "SELECT datname FROM pg_database WHERE datname = ANY(%s)", (names,)
        ).fetchall()
    assert left == []


def test_plain_pytest_registers_the_fixtures(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures")
    result.stdout.fnmatch_lines(["*gatekeeper_port*", "*gatekeeper_database*"])
