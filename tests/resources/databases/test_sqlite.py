from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from gatekeeper.resources.databases.base import Template
from gatekeeper.resources.databases.sqlite import SqliteBackend
from gatekeeper.resources.identity import Identity
from gatekeeper.resources.locks import ResourceError, acquire

SETUP = (
    f"{sys.executable} -c \"import os,sqlite3; c=sqlite3.connect(os.environ['DATABASE_URL'][10:]);"
    " c.execute('CREATE TABLE t (x)'); c.commit(); open('built.log','a').write('x')\""
)


def rows(url: str) -> list[object]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        return [r[0] for r in connection.execute("SELECT x FROM t")]


def test_template_built_once_and_copies_are_isolated(state: Path, tmp_path: Path) -> None:
    backend = SqliteBackend(60.0)
    template = Template("built-once", SETUP, tmp_path)
    a = backend.create(template, Identity("/wt/a", "r", "gw0"), "main")
    b = backend.create(template, Identity("/wt/b", "r", "gw0"), "main")
    assert (tmp_path / "built.log").read_text() == "x"  # built once, copied twice
    with sqlite3.connect(a.url.removeprefix("sqlite:///")) as connection:
        connection.execute("INSERT INTO t VALUES (1)")
    assert rows(a.url) == [1]
    assert rows(b.url) == []
    backend.drop(a)
    backend.drop(b)
    assert not list((state / "sqlite" / "owners").iterdir())


def test_failing_setup_names_the_key_and_redacts(state: Path, tmp_path: Path) -> None:
    command = f"{sys.executable} -c \"print('postgresql://u:hunter2@h/db'); raise SystemExit(3)\""
    template = Template("k1", command, tmp_path)
    with pytest.raises(ResourceError, match=r"database\] setup") as caught:
        SqliteBackend(60.0).create(template, Identity("/wt/a", "r"), "main")
    assert "hunter2" not in str(caught.value)
    assert "exit status 3" in str(caught.value)


def test_dead_owner_copies_are_leftovers(state: Path, tmp_path: Path) -> None:
    backend = SqliteBackend(60.0)
    template = Template("k2", "", tmp_path)
    database = backend.create(template, Identity("/wt/a", "r"), "main")
    leftovers = backend.leftovers()  # no owner lock is held for that identity: dead
    assert [Path(left.name) for left in leftovers] == [Path(database.url[10:]).parent]
    backend.remove(leftovers[0])
    assert not Path(database.url[10:]).exists()


def test_half_built_templates_of_dead_builders_are_swept(state: Path, tmp_path: Path) -> None:
    backend = SqliteBackend(ttl=3600.0)
    templates = backend.base / "templates"
    templates.mkdir(parents=True)
    # What a builder killed mid-build leaves: its partial file, and the lock nobody holds.
    dead = templates / "aaaa.building-4242.sqlite3"
    sqlite3.connect(dead).close()
    (templates / "aaaa.lock").touch()
    # A builder still at work: its template's lock is held.
    alive = templates / "bbbb.building-4343.sqlite3"
    sqlite3.connect(alive).close()
    held = acquire(templates / "bbbb.lock")
    assert held is not None
    found = backend.leftovers()
    assert [(leftover.name, leftover.reason) for leftover in found] == [
        (str(dead), "half-built template, builder died")
    ]
    backend.remove(found[0])
    assert not dead.exists()
    assert alive.exists()
    held.release()


def test_templates_unused_for_ttl_are_swept(state: Path, tmp_path: Path) -> None:
    backend = SqliteBackend(ttl=3600.0)
    old = backend.template(Template("unused", "", tmp_path))
    fresh = backend.template(Template("used", "", tmp_path))
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    found = [leftover for leftover in backend.leftovers() if "unused" in leftover.reason]
    assert [(Path(leftover.name), leftover.reason) for leftover in found] == [
        (old, "template unused for longer than ttl")
    ]
    backend.template(Template("unused", "", tmp_path))  # used again before the sweep acts
    backend.remove(found[0])
    assert old.exists()  # re-checked: it was used since it was listed
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    held = acquire(old.with_suffix(".lock"))  # being copied right now
    assert held is not None
    backend.remove(found[0])
    assert old.exists()
    held.release()
    backend.remove(found[0])
    assert not old.exists() and fresh.exists()


TEMPLATE_PLUGIN = """\
import sqlite3

import gatekeeper


@gatekeeper.hookimpl
def gatekeeper_database_template(url, root):
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        connection.execute("CREATE TABLE filled_by_hook (x)")
"""


def test_a_plugin_fills_the_template_through_the_hook(state: Path, tmp_path: Path) -> None:
    from gatekeeper.gate import load_setup
    from gatekeeper.resources.databases.base import template_for

    (tmp_path / "fillplugin.py").write_text(TEMPLATE_PLUGIN)
    (tmp_path / "pyproject.toml").write_text('[tool.gatekeeper]\nplugins = ["fillplugin"]\n')
    filled, empty = load_setup(tmp_path), load_setup(_empty(tmp_path))
    template = template_for(filled.settings, filled.manager)
    bare = template_for(empty.settings, empty.manager)
    assert template.key != bare.key  # the filling plugin is part of the content key
    copy = SqliteBackend(60.0).create(template, Identity("/wt/a", "r", "gw0"), "main")
    with sqlite3.connect(copy.url.removeprefix("sqlite:///")) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master")]
    assert tables == ["filled_by_hook"]


def _empty(tmp_path: Path) -> Path:
    root = tmp_path / "bare"
    root.mkdir()
    return root
