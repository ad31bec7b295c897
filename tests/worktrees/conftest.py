"""A sample project for ``gatekeeper worktree``: a real git repository with an untracked ``.env``
(and a tracked ``.env.example`` that must never stand in for it), a database template, and a
test that starts a web server on a port fixture while using the worktree's database."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import git, make_project

GATEKEEPER = str(Path(sys.executable).parent / "gatekeeper")

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

# The suite of the sample project: a web server on the worker's port fixture and on the
# worktree's own `web` port, rows in the worktree's database; it waits until every suite
# running at the same time has bound its ports, so they provably coexist.
SERVER_TEST = """\
import http.server
import json
import os
import threading
import time
import urllib.request
from pathlib import Path


def rows(url, me):
    if url.startswith("sqlite:///"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        connection.execute("INSERT INTO items VALUES (?)", (me,))
        connection.commit()
        found = [r[0] for r in connection.execute("SELECT owner FROM items")]
        connection.close()
        return found
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("INSERT INTO items VALUES (%s)", (me,))
        return [r[0] for r in connection.execute("SELECT owner FROM items")]


def serve(port):
    handler = http.server.SimpleHTTPRequestHandler
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_server_and_database(gatekeeper_port):
    out = Path(os.environ["SAMPLE_OUT"])
    me = os.environ["GATEKEEPER_WORKTREE_NAME"]
    web = int(os.environ["GATEKEEPER_PORT_WEB"])
    servers = [serve(gatekeeper_port), serve(web)]
    try:
        for port in (gatekeeper_port, web):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/.env") as answer:
                assert answer.status == 200
        found = rows(os.environ["DATABASE_URL"], me)
        secret = Path(".env").read_text().strip()
        record = {"me": me, "ports": [gatekeeper_port, web], "rows": found, "secret": secret}
        (out / f"{me}.json").write_text(json.dumps(record))
        deadline = time.time() + 90
        while len(list(out.glob("*.json"))) < int(os.environ["SAMPLE_SUITES"]):
            assert time.time() < deadline, "the other suite never bound its ports"
            time.sleep(0.05)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    assert found == [me]
"""


def setup_commands() -> str:
    """A virtual environment for the worktree whose site-packages reach this test run's own
    (pytest, psycopg, gatekeeper): installed dependencies without a network."""
    site = sysconfig.get_paths()["purelib"]
    link = f"import site; site.addsitedir({site!r})"
    make = "import site; open(site.getsitepackages()[0] + '/deps.pth', 'w').write(LINK)"
    install = f"LINK={json.dumps(link)}\n{make}"
    return json.dumps(
        [f"{sys.executable} -m venv --without-pip .venv", f".venv/bin/python -c {_sh(install)}"]
    )


def _sh(text: str) -> str:
    import shlex

    return shlex.quote(text)


def sample_config(backend: str, setup: str | None = None) -> str:
    return (
        "\n[tool.gatekeeper.worktree]\n"
        'copy = [".env"]\n'
        'ports = ["web", "api"]\n'
        f"setup = {setup or setup_commands()}\n"
        'location = "../{repo}-wt/{name}"\n'
        "\n[tool.gatekeeper.database]\n"
        f'backend = "{backend}"\n'
        f'setup = "{sys.executable} migrate.py"\n'
        'inputs = ["migrate.py"]\n'
    )


SampleFactory = Callable[..., Path]


@pytest.fixture
def sample(tmp_path: Path) -> SampleFactory:
    """Factory: ``sample(backend, setup=None)``: a fresh clone's main checkout of the sample."""

    def create(backend: str = "sqlite", setup: str | None = None) -> Path:
        files = {
            "migrate.py": MIGRATE,
            "tests/test_server.py": SERVER_TEST,
            ".env.example": "SECRET=replace-me\n",
        }
        root = make_project(tmp_path / "sample", files, sample_config(backend, setup))
        (root / ".gitignore").write_text((root / ".gitignore").read_text() + ".env\n.venv/\n")
        git(root, "commit", "-qam", "ignore .env and .venv")
        (root / ".env").write_text("SECRET=the-real-one\n")
        return root

    return create


@pytest.fixture
def gk(child_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``gk(cwd, *args, env=None)``: run the real ``gatekeeper`` command line."""

    def call(
        cwd: Path, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [GATEKEEPER, *args],
            cwd=cwd,
            env={**child_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return call
