"""A template is reused only where it is right: never across projects, and without ``inputs``
never after a change to anything the setup could read."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from gatekeeper.gate import load_setup
from gatekeeper.resources.databases.base import Template, template_for
from gatekeeper.resources.databases.sqlite import SqliteBackend
from gatekeeper.resources.databases.template_key import (
    EMPTY,
    INPUTS,
    SESSION,
    TRACKED,
    inputs_digest,
    reuse_advice,
)
from gatekeeper.resources.identity import Identity
from tests.conftest import make_project

MIGRATE = """\
import os
import sqlite3

connection = sqlite3.connect(os.environ["DATABASE_URL"].removeprefix("sqlite:///"))
connection.execute("CREATE TABLE {table} (x)")
connection.commit()
"""


def config(inputs: str = "") -> str:
    lines = ["", "[tool.gatekeeper.database]", f'setup = "{sys.executable} migrate.py"', inputs]
    return "\n".join(lines) + "\n"


def project(root: Path, table: str, inputs: str = "") -> Path:
    return make_project(root, {"migrate.py": MIGRATE.format(table=table)}, config(inputs))


def template(root: Path, run: str | None = None) -> Template:
    """The project's template, as the fixtures and commands get it from the loaded setup."""
    setup = load_setup(root)
    return template_for(setup.settings, setup.manager, run=run)


def tables(template: Template, worktree: str) -> list[str]:
    copy = SqliteBackend(60.0).create(template, Identity(worktree, "r", "gw0"), "main")
    with sqlite3.connect(copy.url.removeprefix("sqlite:///")) as connection:
        return [r[0] for r in connection.execute("SELECT name FROM sqlite_master")]


def test_two_projects_with_one_setup_command_get_their_own_schema(
    state: Path, tmp_path: Path
) -> None:
    first = template(project(tmp_path / "a", "t_a"))
    second = template(project(tmp_path / "b", "t"))
    assert first.key != second.key
    assert tables(first, "/wt/a") == ["t_a"]
    assert tables(second, "/wt/b") == ["t"]


def test_editing_the_migration_rebuilds_the_template(state: Path, tmp_path: Path) -> None:
    root = project(tmp_path / "a", "old")
    before = template(root)
    assert before.basis == TRACKED
    assert tables(before, "/wt/a") == ["old"]
    (root / "migrate.py").write_text(MIGRATE.format(table="new"))  # not even committed
    after = template(root)
    assert after.key != before.key
    assert tables(after, "/wt/a-again") == ["new"]
    assert template(root).key == after.key  # unchanged content: reused


def test_a_new_untracked_file_rebuilds_too(tmp_path: Path) -> None:
    root = project(tmp_path / "a", "t")
    before = template(root).key
    (root / "migrations").mkdir()
    (root / "migrations" / "0002.sql").write_text("CREATE TABLE u (x);")
    assert template(root).key != before


def test_with_inputs_only_they_rebuild_and_projects_still_differ(tmp_path: Path) -> None:
    inputs = 'inputs = ["migrate.py"]'
    root = project(tmp_path / "a", "t", inputs)
    before = template(root)
    assert before.basis == INPUTS and reuse_advice(INPUTS) == ""
    (root / "pkg" / "__init__.py").write_text("CHANGED = 1\n")
    assert template(root).key == before.key
    (root / "migrate.py").write_text(MIGRATE.format(table="t2"))
    assert template(root).key != before.key
    same_files = project(tmp_path / "b", "t", inputs)
    assert template(same_files).key != before.key


def test_worktrees_of_one_repository_share_the_template(tmp_path: Path) -> None:
    from tests.conftest import git

    root = project(tmp_path / "a", "t")
    git(root, "worktree", "add", "-q", str(tmp_path / "a2"), "-b", "other")
    assert template(tmp_path / "a2").key == template(root).key


def test_outside_git_the_template_serves_one_session(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "pyproject.toml").write_text(config())
    (root / "migrate.py").write_text(MIGRATE.format(table="t"))
    one = template(root, run="run1")
    assert one.basis == SESSION
    assert template(root, run="run1").key == one.key
    assert template(root, run="run2").key != one.key
    assert "inputs" in reuse_advice(SESSION) and "inputs" in reuse_advice(TRACKED)


def test_nothing_to_fill_needs_no_content(tmp_path: Path) -> None:
    root = make_project(tmp_path / "a", {}, "\n[tool.gatekeeper.database]\nttl = 60\n")
    empty = template(root)
    assert empty.basis == EMPTY and reuse_advice(EMPTY) == ""
    (root / "pkg" / "__init__.py").write_text("CHANGED = 1\n")
    assert template(root).key == empty.key


def test_inputs_digest_follows_content_and_refuses_a_pattern_that_matches_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "m.sql").write_text("one")
    first = inputs_digest(tmp_path, ["*.sql"])
    (tmp_path / "m.sql").write_text("two")
    assert inputs_digest(tmp_path, ["*.sql"]) != first
    with pytest.raises(Exception, match="matches no file"):
        inputs_digest(tmp_path, ["none/*.py"])


NO_INPUTS_TEST = """\
def test_uses_database(gatekeeper_database):
    assert gatekeeper_database.backend == "sqlite"
"""


def test_the_fixture_names_inputs_when_they_are_not_set(
    pytester: pytest.Pytester, state: Path
) -> None:
    make_project(pytester.path, {"migrate.py": MIGRATE.format(table="t")}, config())
    pytester.makepyfile(test_db=NO_INPUTS_TEST)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "test_db.py")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*TemplateWarning*inputs is not set*"])
