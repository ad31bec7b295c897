"""Merge integration timings: the conflict matrix of 10 branches on a repository of about 1,000
files, and the fast-forward case (a branch on the base's tip) cold versus served from the cache.

    python benchmarks/integrate.py [--repeats N]

Side by side in one run, several repeats, medians and ratios printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gatekeeper.integration.mergetree import verify
from gatekeeper.integration.outcome import Branch
from gatekeeper.integration.stack import Builder, conflict_matrix
from gatekeeper.integration.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests package holds git()

from tests.conftest import git  # noqa: E402

FILES = 1000
BRANCHES = 10
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}
PROJECT = """[project]
name = "bench"
version = "0"

[tool.pytest.ini_options]
pythonpath = ["."]

[tool.gatekeeper]
checks = ["tests"]
"""


def build(root: Path) -> Path:
    """A repository of FILES modules and BRANCHES branches; branch 1 and 2 edit the same line."""
    repo = root / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "pyproject.toml").write_text(PROJECT)
    (repo / ".gitignore").write_text(".gatekeeper/\n__pycache__/\n")
    (repo / "pkg/__init__.py").write_text("")
    for index in range(FILES):
        (repo / f"pkg/m{index:04d}.py").write_text(f"VALUE = {index}\n")
    (repo / "tests/test_m.py").write_text(
        "from pkg import m0001\n\n\ndef test_m() -> None:\n    assert m0001.VALUE == 1\n"
    )
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    for index in range(1, BRANCHES + 1):
        git(repo, "branch", f"b{index}", "main")
        target = 1 if index <= 2 else index * 10  # b1 and b2 conflict in pkg/m0001.py
        git(repo, "checkout", "-q", f"b{index}")
        (repo / f"pkg/m{target:04d}.py").write_text(f"VALUE = {target}  # b{index}\n")
        git(repo, "commit", "-q", "-am", f"b{index}")
    git(repo, "checkout", "-q", "main")
    return repo


def matrix_once(repo: Path) -> int:
    with Workspace.open(repo) as space:
        base = verify(repo, "main")
        branches = [Branch(f"b{i}", verify(repo, f"b{i}")) for i in range(1, BRANCHES + 1)]
        _, pairwise, _ = conflict_matrix(Builder(space, "main", base), branches)
    return len(pairwise)


def integrate_once(repo: Path, branch: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "integrate", branch, "--onto", "main"],
        cwd=repo,
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory(prefix="gatekeeper-bench-") as scratch:
        os.environ["GATEKEEPER_STATE_DIR"] = str(Path(scratch) / "state")
        ENV["GATEKEEPER_STATE_DIR"] = os.environ["GATEKEEPER_STATE_DIR"]
        repo = build(Path(scratch))
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            found = matrix_once(repo)
            timings.append(time.perf_counter() - started)
        pairs = BRANCHES * (BRANCHES - 1) // 2
        print(
            f"conflict matrix, {BRANCHES} branches, {FILES} files: {BRANCHES} merges onto "
            f"the base + {pairs} pairs, {found} conflicting pair(s)"
        )
        print(f"  median {statistics.median(timings):.3f}s over {repeats} runs")
        cold, cached = [], []
        for repeat in range(repeats):
            # A new branch on the base's tip with a new tree each repeat: nothing carried over.
            git(repo, "checkout", "-q", "-b", f"ff{repeat}", "main")
            (repo / "pkg/stamp.py").write_text(f"STAMP = {time.time_ns()}\n")
            git(repo, "add", "-A")
            git(repo, "commit", "-q", "-m", "stamp")
            git(repo, "checkout", "-q", "main")
            cold.append(integrate_once(repo, f"ff{repeat}"))
            cached.append(integrate_once(repo, f"ff{repeat}"))
        c, h = statistics.median(cold), statistics.median(cached)
        print(f"fast-forward case (branch on the base's tip), {repeats} repeats:")
        print(f"  cold gate {c:.2f}s, served from the cache {h:.2f}s, ratio {c / h:.1f}x")


if __name__ == "__main__":
    main()
