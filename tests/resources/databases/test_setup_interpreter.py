"""Database setup runs with the interpreter that runs gatekeeper first on PATH: a user who runs
``.venv/bin/pytest`` without activating the venv still means that venv's ``python``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import make_project

# The setup a project writes: plain `python`, and an import only the project's venv has.
MIGRATE = """\
import os
import sqlite3
import sys

import psycopg  # only in the project's venv

connection = sqlite3.connect(os.environ["DATABASE_URL"].removeprefix("sqlite:///"))
connection.execute("CREATE TABLE items (owner TEXT)")
connection.commit()
connection.close()
with open("interpreter.txt", "w") as out:
    out.write(sys.prefix)
"""

USES_DATABASE = """\
import sqlite3


def test_schema(gatekeeper_database):
    path = gatekeeper_database.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master")]
    assert tables == ["items"]
"""

CONFIG = '\n[tool.gatekeeper.database]\nbackend = "sqlite"\nsetup = "python migrate.py"\n'


def not_activated(child_env: dict[str, str]) -> dict[str, str]:
    """The environment of a shell where the venv was never activated: system dirs on PATH."""
    env = {k: v for k, v in child_env.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(("/usr/local/bin", "/usr/bin", "/bin"))
    return env


def test_setup_runs_the_venvs_python_without_activation(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    root = make_project(
        tmp_path / "proj", {"migrate.py": MIGRATE, "tests/test_db.py": USES_DATABASE}, CONFIG
    )
    pytest_script = Path(sys.executable).parent / "pytest"
    done = subprocess.run(
        [str(pytest_script), "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=root,
        env=not_activated(child_env),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (root / "interpreter.txt").read_text() == sys.prefix
