"""The rules of ``gatekeeper worktree``: what is copied, what ``rm`` refuses and never removes,
what ``list`` reports, adopting a plain ``git worktree add``, and setup verification."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.errors import UsageError
from gatekeeper.resources.databases.sqlite import SqliteBackend
from gatekeeper.resources.sweep import sweep
from gatekeeper.worktrees import copying, setup_commands
from tests.conftest import git, make_project

Gk = Callable[..., subprocess.CompletedProcess[str]]

CONFIG = """
[tool.gatekeeper.worktree]
copy = [{copy}]
ports = ["web"]
location = "../{{repo}}-wt/{{name}}"

[tool.gatekeeper.database]
backend = "sqlite"
"""


def repo(tmp_path: Path, copy: str = "", files: dict[str, str] | None = None) -> Path:
    return make_project(tmp_path / "proj", files, CONFIG.format(copy=copy))


def commit(tree: Path, name: str, text: str) -> None:
    (tree / name).write_text(text)
    git(tree, "add", name)
    git(tree, "commit", "-qm", f"change {name}")


# -- copy ---------------------------------------------------------------------------------------


def test_a_missing_file_is_never_replaced_by_its_template(tmp_path: Path) -> None:
    root = repo(tmp_path, files={".env.example": "SECRET=template\n"})
    (root / ".env.example.local").write_text("x")
    with pytest.raises(UsageError, match=r"'\.env' matches no untracked file.*never copied"):
        copying.plan(root, [".env"])


def test_escapes_and_tracked_files_are_refused(tmp_path: Path) -> None:
    root = repo(tmp_path)
    outside = tmp_path / "secrets.env"
    outside.write_text("S=1")
    (root / ".env").symlink_to(outside)
    with pytest.raises(UsageError, match=r"symlink to .* outside the repository"):
        copying.plan(root, [".env"])
    for pattern in ("../secrets.env", "/etc/passwd", "~/.ssh/id_rsa"):
        with pytest.raises(UsageError, match="relative glob pattern inside the repository"):
            copying.plan(root, [pattern])
    with pytest.raises(UsageError, match="matches no untracked file"):
        copying.plan(root, ["pyproject.toml"])  # tracked: the checkout has it already


def test_globs_copy_real_untracked_files(tmp_path: Path) -> None:
    root = repo(tmp_path)
    (root / "config").mkdir()
    (root / "config" / "a.local").write_text("a")
    (root / "config" / "b.local").write_text("b")
    planned = copying.plan(root, ["config/*.local"])
    assert [p.relative for p in planned] == ["config/a.local", "config/b.local"]
    target = tmp_path / "target"
    target.mkdir()
    copied = copying.copy(planned, target)
    assert (target / "config" / "b.local").read_text() == "b"
    assert copied["config/a.local"] == copying.file_digest(root / "config" / "a.local")


# -- setup verification -------------------------------------------------------------------------


def test_a_venv_promise_that_is_not_kept_fails(tmp_path: Path) -> None:
    with pytest.raises(setup_commands.SetupError, match="exited 0 but the virtual environment"):
        setup_commands.run_all(["true -m venv .venv"], tmp_path, {}, ())
    assert list(setup_commands.promised_venvs("uv venv && virtualenv env2; x -m venv v3")) == [
        ".venv",
        "env2",
        "v3",
    ]


# -- rm -----------------------------------------------------------------------------------------


def test_rm_refuses_lost_work_unless_forced(tmp_path: Path, gk: Gk, state: Path) -> None:
    root = repo(tmp_path, copy='".env"')
    (root / ".env").write_text("S=1\n")
    assert gk(root, "worktree", "new", "w").returncode == 0
    tree = tmp_path / "proj-wt" / "w"
    (tree / "notes.txt").write_text("work")
    refused = gk(root, "worktree", "rm", "w")
    assert refused.returncode == 4 and "uncommitted changes (notes.txt)" in refused.stderr
    (tree / "notes.txt").unlink()
    commit(tree, "more.txt", "work")
    refused = gk(root, "worktree", "rm", "w", "--delete-branch")
    assert refused.returncode == 4 and "1 commit(s) on 'w' neither pushed" in refused.stderr
    assert tree.is_dir()
    forced = gk(root, "worktree", "rm", "w", "--delete-branch", "--force")
    assert forced.returncode == 0, forced.stderr
    assert not tree.exists() and git(root, "branch", "--list", "w") == ""


IGNORED_WORK = """
[tool.gatekeeper.worktree]
copy = [".env", "data/*.db"]
setup = ["{python} -m venv --without-pip .venv", "mkdir -p build && echo made > build/out.txt"]
location = "../{{repo}}-wt/{{name}}"
"""


def test_rm_refuses_changed_and_new_ignored_files_unless_forced(
    tmp_path: Path, gk: Gk, state: Path
) -> None:
    ignore = ".gatekeeper/\n__pycache__/\n.pytest_cache/\n.env\ndata/\nscratch/\nbuild/\n.venv/\n"
    config = IGNORED_WORK.format(python=sys.executable)
    root = make_project(tmp_path / "proj", {".gitignore": ignore}, config)
    (root / ".env").write_text("SECRET=1\n")
    (root / "data").mkdir()
    (root / "data" / "local.db").write_bytes(b"rows")
    made = gk(root, "worktree", "new", "w")
    assert made.returncode == 0, made.stderr
    tree = tmp_path / "proj-wt" / "w"
    (tree / ".env").write_text("SECRET=edited\n")  # copied by new, then changed
    (tree / "data" / "local.db").write_bytes(b"rows and more rows")  # copied, then grown
    (tree / "scratch").mkdir()
    (tree / "scratch" / "notes.txt").write_text("ideas")  # new, ignored
    # Regenerable, or gatekeeper's own: never the user's work.
    (tree / "pkg" / "__pycache__").mkdir()
    (tree / "pkg" / "__pycache__" / "add.cpython-311.pyc").write_bytes(b"\0")
    (tree / ".pytest_cache").mkdir()
    (tree / ".pytest_cache" / "lastfailed").write_text("{}")
    (tree / ".venv" / "installed.txt").write_text("a package")
    refused = gk(root, "worktree", "rm", "w")
    assert refused.returncode == 4, refused.stderr
    assert "ignored files not made by `new` or changed since" in refused.stderr
    assert "(.env, data/local.db, scratch/notes.txt)" in refused.stderr
    assert (tree / "scratch" / "notes.txt").is_file()
    (tree / ".env").write_text("SECRET=1\n")
    (tree / "data" / "local.db").write_bytes(b"rows")
    (tree / "scratch" / "notes.txt").unlink()
    done = gk(root, "worktree", "rm", "w")  # only what new made, unchanged, and caches: no force
    assert done.returncode == 0, done.stderr
    assert not tree.exists()


def test_rm_force_discards_ignored_work(tmp_path: Path, gk: Gk, state: Path) -> None:
    root = make_project(tmp_path / "proj", {".gitignore": "scratch/\n"}, CONFIG.format(copy=""))
    assert gk(root, "worktree", "new", "w").returncode == 0
    tree = tmp_path / "proj-wt" / "w"
    (tree / "scratch").mkdir()
    (tree / "scratch" / "notes.txt").write_text("ideas")
    refused = gk(root, "worktree", "rm", "w")
    assert refused.returncode == 4 and "(scratch/notes.txt)" in refused.stderr
    forced = gk(root, "worktree", "rm", "w", "--force")
    assert forced.returncode == 0, forced.stderr
    assert not tree.exists()


def test_rm_of_a_landed_branch_needs_no_force(tmp_path: Path, gk: Gk, state: Path) -> None:
    root = repo(tmp_path)
    assert gk(root, "worktree", "new", "w").returncode == 0
    commit(tmp_path / "proj-wt" / "w", "feature.txt", "done")
    git(root, "merge", "-q", "--ff-only", "w")  # landed on main
    done = gk(root, "worktree", "rm", "w", "--delete-branch")
    assert done.returncode == 0, done.stderr


def test_adopted_worktree_keeps_its_tree_and_branch(tmp_path: Path, gk: Gk, state: Path) -> None:
    root = repo(tmp_path)
    plain = tmp_path / "plain"
    git(root, "worktree", "add", "-q", str(plain), "-b", "plain")
    listed = json.loads(gk(root, "worktree", "list", "--json").stdout)
    assert [r["state"] for r in listed if r["name"] == "plain"] == ["unmanaged"]
    adopted = gk(root, "worktree", "adopt", str(plain), "--json")
    assert adopted.returncode == 0, adopted.stderr
    data = json.loads(adopted.stdout)
    assert set(data["ports"]) == {"web"} and data["database"]["backend"] == "sqlite"
    assert "GATEKEEPER_PORT_WEB" in (plain / ".gatekeeper" / "env").read_text()
    refused = gk(root, "worktree", "rm", "plain", "--delete-branch")
    assert refused.returncode == 4 and "was not created by gatekeeper" in refused.stderr
    done = gk(root, "worktree", "rm", "plain")
    assert done.returncode == 0, done.stderr
    assert "left alone: worktree" in done.stdout
    assert plain.is_dir() and not (plain / ".gatekeeper" / "env").exists()
    assert git(root, "branch", "--list", "plain").endswith("plain")
    assert not list((state / "sqlite" / "owners").iterdir())


def test_rm_never_touches_unmanaged_worktrees(tmp_path: Path, gk: Gk) -> None:
    root = repo(tmp_path)
    git(root, "worktree", "add", "-q", str(tmp_path / "other"), "-b", "other")
    done = gk(root, "worktree", "rm", "other", "--force")
    assert done.returncode == 4 and "not made or adopted by gatekeeper" in done.stderr
    assert (tmp_path / "other").is_dir()


def test_new_refuses_a_location_inside_the_checkout(tmp_path: Path, gk: Gk) -> None:
    root = repo(tmp_path)
    done = gk(root, "worktree", "new", "x", "--path", str(root / "sub"))
    assert done.returncode == 4 and "the project's tools would" in done.stderr
    assert git(root, "branch", "--list", "x") == ""


# -- list ---------------------------------------------------------------------------------------


def test_list_reports_conflicts_ahead_behind_and_the_last_gate(
    tmp_path: Path, gk: Gk, state: Path
) -> None:
    root = repo(tmp_path, files={"shared.txt": "base\n"})
    for name in ("one", "two", "three"):
        assert gk(root, "worktree", "new", name).returncode == 0
    wt = tmp_path / "proj-wt"
    commit(wt / "one", "shared.txt", "one\n")
    commit(wt / "two", "shared.txt", "two\n")
    commit(wt / "three", "other.txt", "three\n")
    commit(root, "shared.txt", "main moved\n")
    report = {"verdict": "passed", "git": {"head": git(wt / "three", "rev-parse", "HEAD")}}
    (wt / "three" / ".gatekeeper").mkdir(exist_ok=True)
    (wt / "three" / ".gatekeeper" / "report.json").write_text(json.dumps(report))
    rows = {r["name"]: r for r in json.loads(gk(root, "worktree", "list", "--json").stdout)}
    assert (rows["one"]["ahead"], rows["one"]["behind"]) == (1, 1)
    assert rows["one"]["conflicts_base"] is True and rows["three"]["conflicts_base"] is False
    assert rows["one"]["conflicts_with"] == ["two"] and rows["three"]["conflicts_with"] == []
    assert rows["three"]["gate"]["verdict"] == "passed" and not rows["three"]["gate"]["stale"]
    assert rows["one"]["gate"] is None
    table = gk(root, "worktree", "list").stdout
    assert "base main, two" in table and "passed" in table


# -- the sweep ------------------------------------------------------------------------------------


def test_the_sweep_keeps_a_worktree_database_until_the_worktree_is_gone(
    tmp_path: Path, gk: Gk, state: Path
) -> None:
    root = repo(tmp_path)
    assert gk(root, "worktree", "new", "w").returncode == 0
    backend = SqliteBackend(86400.0, state)
    assert sweep([backend], state) == []  # the worktree exists: its port and database stay
    assert len(list((state / "sqlite" / "owners").iterdir())) == 1
    git(root, "worktree", "remove", "--force", str(tmp_path / "proj-wt" / "w"))
    removed = sweep([backend], state)
    assert {leftover.backend for leftover in removed} >= {"sqlite", "port"}
    assert not list((state / "sqlite" / "owners").iterdir())


def test_rm_refuses_commits_made_on_a_detached_head(tmp_path: Path, gk: Gk, state: Path) -> None:
    root = repo(tmp_path)
    assert gk(root, "worktree", "new", "w").returncode == 0
    tree = tmp_path / "proj-wt" / "w"
    git(tree, "checkout", "-q", "--detach")
    commit(tree, "detached.txt", "work on no branch")
    refused = gk(root, "worktree", "rm", "w")
    assert refused.returncode == 4 and "1 commit(s)" in refused.stderr, refused.stderr
    assert (tree / "detached.txt").is_file()


def test_new_from_a_remote_base_does_not_track_it(tmp_path: Path, gk: Gk, state: Path) -> None:
    root = repo(tmp_path)
    git(tmp_path, "init", "-q", "--bare", str(tmp_path / "remote.git"))
    git(root, "remote", "add", "origin", str(tmp_path / "remote.git"))
    git(root, "push", "-q", "origin", "main")
    git(root, "fetch", "-q", "origin")
    made = gk(root, "worktree", "new", "w", "--base", "origin/main")
    assert made.returncode == 0, made.stderr
    upstream = subprocess.run(
        ["git", "-C", str(root), "config", "branch.w.merge"], capture_output=True, check=False
    )
    assert upstream.returncode == 1  # no upstream configured


def test_rm_accepts_the_branch_name_of_an_adopted_worktree(
    tmp_path: Path, gk: Gk, state: Path
) -> None:
    root = repo(tmp_path)
    plain = tmp_path / "plaindir"
    git(root, "worktree", "add", "-q", str(plain), "-b", "feature/topic")
    adopted = gk(root, "worktree", "adopt", str(plain))
    assert adopted.returncode == 0, adopted.stderr
    done = gk(root, "worktree", "rm", "feature/topic")
    assert done.returncode == 0, done.stderr
    assert not (plain / ".gatekeeper" / "env").exists()
    listed = json.loads(gk(root, "worktree", "list", "--json").stdout)
    assert [r["state"] for r in listed if r["name"] == "plaindir"] == ["unmanaged"]


# -- the base: the branch you are on; landed means in the local base too ------------------------

TESTS_ONLY = '\n[tool.gatekeeper]\nchecks = ["tests"]\n'


def cloned(tmp_path: Path) -> Path:
    """The sample with a remote whose HEAD is known, as after `git clone`: origin/main is the
    detected base."""
    root = make_project(tmp_path / "proj", None, CONFIG.format(copy="") + TESTS_ONLY)
    git(tmp_path, "init", "-q", "--bare", str(tmp_path / "remote.git"))
    git(root, "remote", "add", "origin", str(tmp_path / "remote.git"))
    git(root, "push", "-q", "origin", "main")
    git(root, "fetch", "-q", "origin")
    git(root, "remote", "set-head", "origin", "main")
    return root


def test_new_branches_from_the_branch_you_are_on_and_list_counts_main_too(
    tmp_path: Path, gk: Gk, state: Path
) -> None:
    root = cloned(tmp_path)
    commit(root, "baseline.txt", "committed on main, not pushed yet\n")
    made = gk(root, "worktree", "new", "w", "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["base"] == "main"
    assert (tmp_path / "proj-wt" / "w" / "baseline.txt").is_file()

    rows = {r["name"]: r for r in json.loads(gk(root, "worktree", "list", "--json").stdout)}
    main = rows["proj"]
    assert main["state"] == "main"
    assert (main["base"], main["ahead"], main["behind"]) == ("origin/main", 1, 0)
    assert (rows["w"]["base"], rows["w"]["ahead"], rows["w"]["behind"]) == ("main", 0, 0)
    (main_line,) = [
        line
        for line in gk(root, "worktree", "list").stdout.splitlines()[1:]
        if line.startswith("proj ")
    ]
    assert "+1/-0" in main_line


def test_rm_after_land_needs_no_force_though_the_base_is_the_remote(
    tmp_path: Path, gk: Gk, state: Path
) -> None:
    # `land` moves the local main; the remote's stays where it was until someone pushes.
    root = cloned(tmp_path)
    assert gk(root, "worktree", "new", "w", "--base", "origin/main").returncode == 0
    commit(tmp_path / "proj-wt" / "w", "feature.txt", "done\n")
    landed = gk(root, "land", "w")
    assert landed.returncode == 0, landed.stdout + landed.stderr
    done = gk(root, "worktree", "rm", "w", "--delete-branch")
    assert done.returncode == 0, done.stderr
    assert git(root, "branch", "--list", "w") == ""
