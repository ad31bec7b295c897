"""The per-worktree basetemp keeps pytest's own conventions: ``PYTEST_DEBUG_TEMPROOT``,
``tmp_path_retention_policy``, nothing made by a run that only collects, and nothing in the state
dir from the runs pytester starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gatekeeper.resources.identity import digest

# Each test writes where its tmp_path was, then passes or fails as the run asks.
TMP_TEST = """\
import os
from pathlib import Path


def test_tmp(tmp_path):
    (tmp_path / "work.txt").write_text("x")
    Path(os.environ["TMP_OUT"]).write_text(str(tmp_path))
    assert os.environ.get("TMP_FAIL") != "1"
"""

INNER_TEST = """\
pytest_plugins = ["pytester"]


def test_inner_runs(pytester):
    pytester.makepyfile(test_x="def test_tmp(tmp_path):\\n    assert tmp_path.is_dir()\\n")
    for _ in range(3):
        pytester.inline_run("-p", "no:cacheprovider").assertoutcome(passed=1)
"""


def project(tmp_path: Path, ini: str = "", test: str = TMP_TEST) -> Path:
    root = tmp_path / "p"
    root.mkdir()
    (root / "pytest.ini").write_text(f"[pytest]\n{ini}")
    (root / "test_tmp.py").write_text(test)
    return root


def pytest_in(
    root: Path, env: dict[str, str], *args: str, fail: bool = False
) -> subprocess.CompletedProcess[str]:
    out = root.parent / "tmp_path.txt"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=root,
        env={**env, "TMP_OUT": str(out), "TMP_FAIL": "1" if fail else "0"},
        capture_output=True,
        text=True,
        check=False,
    )


def runs_of(folder: Path) -> list[str]:
    """The run directories and lock files in a worktree's basetemp folder."""
    return sorted(p.name for p in folder.iterdir() if p.name != "worktree")


def test_pytest_debug_temproot_is_honoured(
    tmp_path: Path, state: Path, child_env: dict[str, str]
) -> None:
    root = project(tmp_path)
    temproot = tmp_path / "temproot"
    temproot.mkdir()
    done = pytest_in(root, {**child_env, "PYTEST_DEBUG_TEMPROOT": str(temproot)})
    assert done.returncode == 0, done.stdout
    used = Path((tmp_path / "tmp_path.txt").read_text())
    assert used.is_relative_to(temproot), used
    assert (used / "work.txt").is_file()
    assert not (state / "basetemp").exists()


def test_retention_policy_failed_removes_a_passing_run_and_keeps_a_failing_one(
    tmp_path: Path, state: Path, child_env: dict[str, str]
) -> None:
    root = project(tmp_path, "tmp_path_retention_policy = failed\n")
    folder = state / "basetemp" / digest(str(root.resolve()))[:12]
    failed = pytest_in(root, child_env, fail=True)
    assert failed.returncode == 1, failed.stdout
    kept = Path((tmp_path / "tmp_path.txt").read_text())
    assert (kept / "work.txt").is_file()  # a failing run keeps its directories
    before = runs_of(folder)
    passed = pytest_in(root, child_env)
    assert passed.returncode == 0, passed.stdout
    assert not Path((tmp_path / "tmp_path.txt").read_text()).exists()
    assert runs_of(folder) == before  # nothing left of the passing run, not even its lock
    assert (kept / "work.txt").is_file()


def test_retention_policy_none_keeps_nothing(
    tmp_path: Path, state: Path, child_env: dict[str, str]
) -> None:
    root = project(tmp_path, "tmp_path_retention_policy = none\n")
    folder = state / "basetemp" / digest(str(root.resolve()))[:12]
    done = pytest_in(root, child_env, fail=True)
    assert done.returncode == 1, done.stdout
    assert not Path((tmp_path / "tmp_path.txt").read_text()).exists()
    assert runs_of(folder) == []


def test_collect_only_makes_nothing_in_the_state_dir(
    tmp_path: Path, state: Path, child_env: dict[str, str]
) -> None:
    root = project(tmp_path)
    done = pytest_in(root, child_env, "--collect-only", "-q")
    assert done.returncode == 0, done.stdout
    assert "test_tmp.py::test_tmp" in done.stdout
    assert not (state / "basetemp").exists()
    assert not any(state.rglob("*.lock"))


def test_pytester_runs_put_nothing_into_the_state_dir(
    tmp_path: Path, state: Path, child_env: dict[str, str]
) -> None:
    root = project(tmp_path, test=INNER_TEST)
    done = pytest_in(root, child_env)
    assert done.returncode == 0, done.stdout
    folders = [p for p in (state / "basetemp").iterdir() if p.is_dir()]
    assert [p.name for p in folders] == [digest(str(root.resolve()))[:12]]  # the outer run's
