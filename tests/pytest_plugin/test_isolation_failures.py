"""What the isolation fixtures print when something goes wrong: never a secret, never a
traceback for bad configuration, and plain pytest never breaks because of them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gatekeeper.resources import tempdirs
from gatekeeper.resources.databases.base import MARKER
from gatekeeper.resources.identity import digest
from tests.conftest import make_project

# They use (and sweep) the one PostgreSQL server: never beside each other.
pytestmark = pytest.mark.xdist_group("postgres-server")

PASSWORD = "s3cret-pw-4711"


def with_password(admin: str) -> str:
    """The admin URL with a password (ignored by this machine's trust authentication)."""
    return admin.replace("postgres@", f"postgres:{PASSWORD}@", 1)


def test_a_failing_assertion_on_the_database_never_prints_its_password(
    pytester: pytest.Pytester, postgres_admin: str, state: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEKEEPER_DATABASE_URL", with_password(postgres_admin))
    pytester.makepyprojecttoml('[tool.gatekeeper.database]\nbackend = "postgres"\n')
    pytester.makepyfile(
        test_db="""
        def test_fails(gatekeeper_database):
            assert gatekeeper_database is None
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    output = result.stdout.str() + result.stderr.str()
    assert "Database(url=" in output  # the repr is shown...
    assert PASSWORD not in output  # ...without the password
    assert "postgres:***@" in output


def role_url(admin: str, role: str) -> str:
    return admin.replace("postgres@", f"{role}@", 1)


@pytest.fixture
def roles(postgres_admin: str) -> Iterator[Callable[[str, str], str]]:
    """Factory: ``roles(name, options)`` makes a login role and gives its admin URL; the roles
    and every database they own are gone afterwards."""
    import psycopg

    made: list[str] = []

    def make(name: str, options: str) -> str:
        with psycopg.connect(postgres_admin, autocommit=True) as connection:
            connection.execute(f"DROP ROLE IF EXISTS {name}")
            connection.execute(f"CREATE ROLE {name} LOGIN {options}")
        made.append(name)
        return role_url(postgres_admin, name)

    yield make
    with psycopg.connect(postgres_admin, autocommit=True) as connection:
        for name in made:
            owned = connection.execute(
                "SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
                "WHERE r.rolname = %s",
                (name,),
            ).fetchall()
            for (database,) in owned:
                # A template it built too (PostgreSQL refuses to drop one still marked so).
                connection.execute(f'ALTER DATABASE "{database}" IS_TEMPLATE false')
                connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            connection.execute(f"DROP ROLE IF EXISTS {name}")


POSTGRES_CONFIG = '\n[tool.gatekeeper.database]\nbackend = "postgres"\n'


def postgres_project(pytester: pytest.Pytester, body: str) -> None:
    pytester.makepyprojecttoml(POSTGRES_CONFIG)
    pytester.makepyfile(test_db=body)


@pytest.fixture
def foreign_leftover(postgres_admin: str) -> Iterator[str]:
    """An expired, marked clone owned by the superuser: other roles may not drop it."""
    import psycopg

    name = "gk_foreign_expired_leftover"
    marker = MARKER + json.dumps({"kind": "clone", "owner": "gone", "expires": 1.0})
    with psycopg.connect(postgres_admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
        connection.execute(f"COMMENT ON DATABASE {name} IS {quote(marker)}")
    yield name
    with psycopg.connect(postgres_admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def test_a_leftover_the_sweep_cannot_remove_is_reported_and_the_session_goes_on(
    pytester: pytest.Pytester,
    roles: Callable[[str, str], str],
    foreign_leftover: str,
    state: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEKEEPER_DATABASE_URL", roles("gk_test_limited", "CREATEDB"))
    postgres_project(
        pytester, "def test_uses(gatekeeper_database):\n    assert gatekeeper_database.name\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    output = result.stdout.str()
    assert f"could not sweep postgres {foreign_leftover} (time-to-live passed)" in output
    assert "SweepWarning" in output
    assert "Traceback" not in output


def marked_database(url: str, name: str) -> None:
    """A database carrying gatekeeper's marker, expired long ago, created through ``url``."""
    import psycopg

    marker = MARKER + json.dumps({"kind": "clone", "owner": "gone", "expires": 1.0})
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
        connection.execute(f"COMMENT ON DATABASE {name} IS {quote(marker)}")


def databases(admin: str, prefix: str) -> list[str]:
    import psycopg

    with psycopg.connect(admin) as connection:
        rows = connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY datname",
            (prefix + "%",),
        ).fetchall()
    return [row[0] for row in rows]


def test_the_sweep_goes_past_leftovers_it_cannot_remove_and_fails_at_the_end(
    tmp_path: Path,
    roles: Callable[[str, str], str],
    postgres_admin: str,
    child_env: dict[str, str],
) -> None:
    import psycopg

    sweeper = roles("gk_test_sweeper", "CREATEDB")
    # Sorted by name, the leftover the sweeper may drop lies between two it may not.
    foreign = ["gk_sweep_a_foreign", "gk_sweep_c_foreign"]
    for name in foreign:
        marked_database(postgres_admin, name)
    marked_database(sweeper, "gk_sweep_b_own")
    root = make_project(tmp_path / "p", gatekeeper=POSTGRES_CONFIG)
    try:
        swept = subprocess.run(
            [str(Path(sys.executable).parent / "gatekeeper"), "sweep"],
            cwd=root,
            env={**child_env, "GATEKEEPER_DATABASE_URL": sweeper},
            capture_output=True,
            text=True,
            check=False,
        )
        assert databases(postgres_admin, "gk_sweep_") == foreign
    finally:
        with psycopg.connect(postgres_admin, autocommit=True) as connection:
            for name in foreign:
                connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    assert swept.returncode == 1, swept.stdout + swept.stderr
    assert "removed postgres gk_sweep_b_own (time-to-live passed)" in swept.stdout
    for name in foreign:
        assert f"could not remove postgres {name} (time-to-live passed): " in swept.stderr
        assert "must be owner of database" in swept.stderr
    assert "Traceback" not in swept.stderr


def test_a_role_without_createdb_gets_one_paragraph(
    pytester: pytest.Pytester,
    roles: Callable[[str, str], str],
    state: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEKEEPER_DATABASE_URL", roles("gk_test_nocreatedb", "NOCREATEDB"))
    postgres_project(pytester, "def test_uses(gatekeeper_database):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert "gatekeeper database: PostgreSQL at" in output
    assert "permission denied to create database" in output
    assert "needs CREATEDB" in output
    # Once in the error itself (pytest's short summary may repeat it, depending on its width):
    # never twice through a chained "During handling of the above exception".
    reported = output.split("short test summary info")[0]
    assert reported.count("permission denied to create database") == 1
    assert "During handling of the above exception" not in output
    for noise in ("Traceback", "During handling", "psycopg.errors", "raise "):
        assert noise not in output


TMP_TEST = "def test_tmp(tmp_path):\n    (tmp_path / 'f').write_text('x')\n"


def plain_pytest(pytester: pytest.Pytester) -> pytest.RunResult:
    """pytest in a child process without the ``--basetemp`` pytester would add, nor the
    ``PYTEST_DEBUG_TEMPROOT`` it sets (which would take the basetemp out of the state dir)."""
    unset = ("env", "-u", "PYTEST_DEBUG_TEMPROOT")
    return pytester.run(*unset, sys.executable, "-m", "pytest", "-p", "no:cacheprovider")


def test_plain_pytest_falls_back_when_the_state_dir_cannot_be_made(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("GATEKEEPER_STATE_DIR", str(blocker / "state"))
    pytester.makepyfile(test_tmp=TMP_TEST)
    result = plain_pytest(pytester)
    assert result.ret == 0, result.stdout.str()
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    assert "gatekeeper kept pytest's own basetemp" in output


def test_plain_pytest_falls_back_from_a_state_dir_others_may_write(
    pytester: pytest.Pytester, state: Path
) -> None:
    state.mkdir(mode=0o700)
    state.chmod(0o777)
    pytester.makepyfile(test_tmp=TMP_TEST)
    result = plain_pytest(pytester)
    assert result.ret == 0, result.stdout.str()
    assert "not writable by group or others" in result.stdout.str()
    assert not (state / "basetemp").exists()


def test_the_fixtures_refuse_a_state_dir_others_may_write(
    pytester: pytest.Pytester, state: Path
) -> None:
    state.mkdir(mode=0o700)
    state.chmod(0o777)
    pytester.makepyfile(test_db="def test_db(gatekeeper_database):\n    pass\n")
    result = plain_pytest(pytester)
    assert result.ret == 1, result.stdout.str()
    output = result.stdout.str()
    assert "gatekeeper database: gatekeeper's state directory" in output
    assert "Traceback" not in output


def test_tmp_path_retention_count_is_honoured(pytester: pytest.Pytester, state: Path) -> None:
    pytester.makeini("[pytest]\ntmp_path_retention_count = 1\n")
    pytester.makepyfile(test_tmp=TMP_TEST)
    folder = tempdirs.root(state) / digest(str(pytester.path.resolve()))[:12]
    for run in ("a", "b", "c", "d"):
        claimed = tempdirs.claim(pytester.path, run, state)
        claimed.held.release()
    result = plain_pytest(pytester)
    assert result.ret == 0, result.stdout.str()
    assert len(list(folder.glob("*.lock"))) == 2  # the newest old run, and this run


PORT_TEST = "def test_port(gatekeeper_port):\n    pass\n"


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (21000, 20000, "is not a range of unprivileged ports"),
        (1, 2, "is not a range of unprivileged ports"),
    ],
)
def test_a_bad_port_range_is_one_paragraph(
    pytester: pytest.Pytester, state: Path, first: int, last: int, expected: str
) -> None:
    pytester.makepyprojecttoml(f"[tool.gatekeeper.ports]\nfirst = {first}\nlast = {last}\n")
    pytester.makepyfile(test_port=PORT_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert f"gatekeeper port: [tool.gatekeeper.ports] first={first} last={last}" in output
    assert expected in output
    for noise in ("Traceback", "During handling", "raise "):
        assert noise not in output


def test_an_exhausted_port_range_is_one_paragraph(pytester: pytest.Pytester, state: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        pytester.makepyprojecttoml(f"[tool.gatekeeper.ports]\nfirst = {port}\nlast = {port}\n")
        pytester.makepyfile(test_port=PORT_TEST)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert f"gatekeeper port: no free port in {port}-{port}" in output
    assert "[tool.gatekeeper.ports]" in output
    for noise in ("Traceback", "During handling", "raise "):
        assert noise not in output
