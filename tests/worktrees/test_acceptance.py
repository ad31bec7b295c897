"""Acceptance of ``gatekeeper worktree``: from a fresh clone of a sample project (a ``.env``, a
PostgreSQL database, a web server in its tests), ``new a`` and ``new b`` give two ready worktrees
whose suites run at the same time without collisions; ``list`` shows both; ``rm`` leaves nothing
behind. A failing setup command stops ``new`` and ``rm`` cleans up the half-made worktree."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.githooks import install
from gatekeeper.resources import locks
from tests.conftest import git
from tests.worktrees.conftest import SampleFactory

# They use (and sweep) the one PostgreSQL server: never beside each other.
pytestmark = pytest.mark.xdist_group("postgres-server")

Gk = Callable[..., subprocess.CompletedProcess[str]]


def run_suites(trees: list[Path], env: dict[str, str], out: Path) -> list[tuple[int, str]]:
    """Both suites at once, each with its worktree's environment file loaded by the shell."""
    script = "set -a; . .gatekeeper/env; set +a; exec .venv/bin/python -m pytest -q tests"
    running = [
        subprocess.Popen(
            ["sh", "-c", script],
            cwd=tree,
            env={**env, "SAMPLE_OUT": str(out), "SAMPLE_SUITES": str(len(trees))},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for tree in trees
    ]
    return [(p.wait(timeout=300), p.communicate()[0]) for p in running]


def databases(admin: str) -> set[str]:
    import psycopg

    with psycopg.connect(admin) as connection:
        rows = connection.execute("SELECT datname FROM pg_database").fetchall()
    return {row[0] for row in rows}


def test_two_ready_worktrees_run_together_and_leave_nothing(
    sample: SampleFactory,
    gk: Gk,
    child_env: dict[str, str],
    postgres_admin: str,
    state: Path,
    tmp_path: Path,
) -> None:
    root = sample("postgres")
    env = {"GATEKEEPER_DATABASE_URL": postgres_admin}
    made = {}
    for name in ("a", "b"):
        done = gk(root, "worktree", "new", name, "--json", env=env)
        assert done.returncode == 0, done.stderr
        made[name] = json.loads(done.stdout)
    trees = [Path(str(made[n]["path"])) for n in ("a", "b")]
    assert [t.parent.name for t in trees] == ["sample-wt", "sample-wt"]  # beside, not inside
    ports = [set(dict(made[n]["ports"]).values()) for n in ("a", "b")]
    assert len(ports[0] | ports[1]) == 4
    names = {str(dict(made[n]["database"])["name"]) for n in ("a", "b")}
    assert len(names) == 2 and names <= databases(postgres_admin)
    assert all((t / ".env").read_text() == "SECRET=the-real-one\n" for t in trees)
    assert all((t / ".venv" / "pyvenv.cfg").is_file() for t in trees)
    assert install.is_ours(install.hooks_dir(root) / "pre-push")

    out = tmp_path / "out"
    out.mkdir()
    for code, output in run_suites(trees, {**child_env, **env}, out):
        assert code == 0, output
    records = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    assert [r["rows"] for r in records] == [["a"], ["b"]]
    assert len({port for r in records for port in r["ports"]}) == 4
    assert {r["secret"] for r in records} == {"SECRET=the-real-one"}

    listed = gk(root, "worktree", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["a"]["state"] == rows["b"]["state"] == "ready"
    assert rows["a"]["ports"] == made["a"]["ports"]

    for name in ("a", "b"):
        done = gk(root, "worktree", "rm", name, "--delete-branch", env=env)
        assert done.returncode == 0, done.stderr
    # Only the project's shared template may remain (kept, like the test fixtures', for reuse).
    # Only the shared template (a cache, as the fixtures keep it) may stay of what this made.
    assert not names & databases(postgres_admin)
    assert not any(t.exists() for t in trees)
    assert git(root, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert git(root, "branch", "--list", "a", "b") == ""
    reserved = ports[0] | ports[1]
    assert not any((state / "ports" / f"{port}.lock").exists() for port in reserved)
    # What remains are the suites' own per-worker port files: released, unheld, empty.
    for path in (state / "ports").glob("*.lock"):
        assert not locks.is_held(path) and locks.read_record(path) == {}
    assert not list((state / "named").iterdir())
    assert not list(
        (Path(git(root, "rev-parse", "--git-common-dir")).resolve()).glob("gatekeeper/worktrees/*")
    )
    assert (
        git(root, "status", "--porcelain") == "?? .env" or git(root, "status", "--porcelain") == ""
    )


def test_failing_setup_stops_new_and_rm_cleans_up(
    sample: SampleFactory, gk: Gk, state: Path
) -> None:
    root = sample(
        "sqlite",
        setup='["echo installing the deps", "echo no such package >&2; exit 7", "touch never"]',
    )
    done = gk(root, "worktree", "new", "c")
    assert done.returncode == 1
    assert "exit status 7" in done.stderr and "no such package" in done.stderr
    assert "gatekeeper worktree rm c --delete-branch" in done.stderr
    tree = root.parent / "sample-wt" / "c"
    assert tree.is_dir() and not (tree / "never").exists()
    listed = json.loads(gk(root, "worktree", "list", "--json").stdout)
    assert [row["state"] for row in listed if row["name"] == "c"] == ["failed"]

    removed = gk(root, "worktree", "rm", "c", "--delete-branch")
    assert removed.returncode == 0, removed.stderr
    assert not tree.exists()
    assert git(root, "branch", "--list", "c") == ""
    assert not list((state / "sqlite" / "owners").iterdir())
    assert not list((state / "ports").glob("*.lock"))
