"""Acceptance: two worktrees of one repository run ``pytest -n 4`` at the same time, without
``--gatekeeper``; every worker gets its own port, database and basetemp. Beside them a second
project on the same machine, with the same setup command and another schema, runs too: each
sees only its own schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git, make_project

# They use (and sweep) the one PostgreSQL server: never beside each other.
pytestmark = pytest.mark.xdist_group("postgres-server")

MIGRATE = """\
import os

url = os.environ["DATABASE_URL"]
if url.startswith("sqlite:///"):
    import sqlite3

    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    connection.execute("CREATE TABLE {table} (owner TEXT)")
    connection.commit()
    connection.close()
else:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE {table} (owner TEXT)")
"""

WORKER_TEST = """\
import json
import os
import socket
import time
from pathlib import Path

TABLE = "{table}"


def own_rows(url, me):
    if url.startswith("sqlite:///"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        connection.execute(f"INSERT INTO {{TABLE}} VALUES (?)", (me,))
        connection.commit()
        rows = [r[0] for r in connection.execute(f"SELECT owner FROM {{TABLE}}")]
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master")]
        connection.close()
        return rows, tables
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"INSERT INTO {{TABLE}} VALUES (%s)", (me,))
        rows = [r[0] for r in connection.execute(f"SELECT owner FROM {{TABLE}}")]
        found = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        return rows, [r[0] for r in found]


def test_worker(gatekeeper_port, gatekeeper_database, gatekeeper_identity, tmp_path):
    out = Path(os.environ["ISO_OUT"])
    expected = int(os.environ["ISO_EXPECT"])
    me = f"{{Path(gatekeeper_identity.worktree).name}}-{{gatekeeper_identity.worker}}"
    with socket.socket() as server:
        server.bind(("127.0.0.1", gatekeeper_port))  # fails the test if it is not free
        server.listen()
        rows, tables = own_rows(gatekeeper_database.url, me)
        record = {{
            "me": me,
            "port": gatekeeper_port,
            "env_port": os.environ["GATEKEEPER_PORT"],
            "database": gatekeeper_database.name,
            "backend": gatekeeper_database.backend,
            "rows": rows,
            "tables": tables,
            "tmp": str(tmp_path),
            "run": gatekeeper_identity.run,
        }}
        (out / f"{{me}}.json").write_text(json.dumps(record))
        # Hold the port until every worker of this project has bound its own: they coexist.
        deadline = time.time() + 90
        while len(list(out.glob("*.json"))) < expected and time.time() < deadline:
            time.sleep(0.05)
        assert len(list(out.glob("*.json"))) == expected
    assert rows == [me]
    assert tables == [TABLE]
"""

# Project A: two worktrees with four workers each. Project B, on the same machine at the same
# time: one worktree with two workers, the same setup command, another schema.
SUITES = (("items", 2, 4), ("orders", 1, 2))


def run_suites(suites: list[tuple[Path, int, Path, int]], env: dict[str, str]) -> list[str]:
    """Run ``pytest -n WORKERS`` in each tree at once (tree, workers, out dir, records the
    project's workers wait for); returns the output of each run that failed."""
    running = []
    for tree, workers, out, expect in suites:
        command = [sys.executable, "-m", "pytest", "-n", str(workers), "--dist", "each", "-q"]
        command += ["-p", "no:cacheprovider", "tests/test_iso.py"]
        process = subprocess.Popen(
            command,
            cwd=tree,
            env={**env, "ISO_OUT": str(out), "ISO_EXPECT": str(expect)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        running.append(process)
    failed = []
    for process in running:
        stdout, _ = process.communicate(timeout=300)
        if process.returncode != 0:
            failed.append(stdout)
    return failed


def check_records(
    out: Path, backend: str, table: str, count: int, runs: int
) -> list[dict[str, object]]:
    records = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    assert len(records) == count
    for field in ("port", "database", "tmp"):
        assert len({r[field] for r in records}) == count, field
    assert len({r["run"] for r in records}) == runs  # one run per worktree, shared by its workers
    seen = [(str(r["port"]), r["rows"], r["tables"], r["backend"]) for r in records]
    # Each worker: the port it was given is the one exported, only its own row, and its own
    # project's schema (and nothing else) in its database.
    assert seen == [(r["env_port"], [r["me"]], [table], backend) for r in records]
    return records


def project_files(backend: str, table: str) -> tuple[dict[str, str], str]:
    # The same setup command in every project, and no `inputs`: the default must keep
    # projects, and schemas, apart.
    config = f'\n[tool.gatekeeper.database]\nbackend = "{backend}"\nsetup = "python migrate.py"\n'
    files = {
        "migrate.py": MIGRATE.format(table=table),
        "tests/test_iso.py": WORKER_TEST.format(table=table),
    }
    return files, config


def run_projects(
    backend: str, tmp_path: Path, env: dict[str, str]
) -> list[list[dict[str, object]]]:
    """Every suite of :data:`SUITES` at once, each project a repository of its own; the
    records of each project's workers, checked."""
    suites: list[tuple[Path, int, Path, int]] = []
    checks: list[tuple[Path, str, int, int]] = []
    for table, trees, workers in SUITES:
        files, config = project_files(backend, table)
        repository = make_project(tmp_path / table / "wt0", files, config)
        paths = [repository]
        for index in range(1, trees):
            paths.append(tmp_path / table / f"wt{index}")
            git(repository, "worktree", "add", "-q", str(paths[-1]), "-b", f"branch{index}")
        out = tmp_path / table / "out"
        out.mkdir()
        suites.extend((path, workers, out, trees * workers) for path in paths)
        checks.append((out, table, trees * workers, trees))
    failed = run_suites(suites, env)
    assert not failed, "\n\n".join(failed)
    return [check_records(out, backend, table, count, runs) for out, table, count, runs in checks]


def test_two_worktrees_sqlite(child_env: dict[str, str], state: Path, tmp_path: Path) -> None:
    for records in run_projects("sqlite", tmp_path, child_env):
        assert all(str(r["tmp"]).startswith(str(state / "basetemp")) for r in records)
    owners = state / "sqlite" / "owners"
    assert not owners.exists() or not list(owners.iterdir())


def test_two_worktrees_postgres(
    child_env: dict[str, str], postgres_admin: str, tmp_path: Path
) -> None:
    import psycopg

    env = {**child_env, "GATEKEEPER_DATABASE_URL": postgres_admin}
    projects = run_projects("postgres", tmp_path, env)
    names = [str(r["database"]) for records in projects for r in records]
    with psycopg.connect(postgres_admin) as connection:
        left = connection.execute(
            "SELECT datname FROM pg_database WHERE datname = ANY(%s)", (names,)
        ).fetchall()
    assert left == []


def test_plain_pytest_registers_the_fixtures(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures")
    result.stdout.fnmatch_lines(["*gatekeeper_port*", "*gatekeeper_database*"])
