"""Cold versus cached ``git push`` through the pre-push hook, side by side in one run.

Usage: ``python benchmarks/prepush.py [--repeats N] [--checks tests,lint,...]``

Builds a small sample project in a temporary directory (a repository, a linked worktree, a local
bare remote) with the hook installed by the interpreter running this script. Each repeat:

- cold: commit new content (a tree nobody judged) and push it: the hook checks it out in a
  temporary worktree and runs the whole gate;
- cached: commit nothing new (an empty commit, same tree) on a new branch and push that: the hook
  finds the pass the cold push stored and answers without a worktree or a test run.

Printed: the median of each, every run, and the ratio cached / cold. Both pushes must succeed.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests package holds the sample project and git()

from tests.conftest import git, make_project  # noqa: E402


def sample(folder: Path, checks: list[str]) -> Path:
    """The sample repository with a remote and a linked worktree; the worktree's path."""
    main = make_project(folder / "main", gatekeeper=f"\n[tool.gatekeeper]\nchecks = {checks}\n")
    git(folder, "init", "-q", "--bare", str(folder / "remote.git"))
    git(main, "remote", "add", "origin", str(folder / "remote.git"))
    worktree = folder / "feature"
    git(main, "worktree", "add", "-q", "-b", "feature", str(worktree))
    install = [sys.executable, "-m", "gatekeeper", "hook", "install"]
    subprocess.run(install, cwd=worktree, check=True, capture_output=True)
    return worktree


def push(worktree: Path, branch: str) -> tuple[float, str]:
    """Seconds one push took and the hook's messages (which say cold or cached)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PYTEST_"))}
    argv = ["git", "push", "-q", "origin", f"HEAD:refs/heads/{branch}"]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=worktree, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"push of {branch} failed:\n{done.stderr}")
    return seconds, done.stderr


def repeat(worktree: Path, index: int) -> tuple[float, float]:
    """One cold push of new content, then one cached push of the same tree elsewhere."""
    (worktree / "pkg" / f"extra{index}.py").write_text(f"VALUE = {index}\n")
    git(worktree, "add", "-A")
    git(worktree, "commit", "-q", "-m", f"new content {index}")
    cold, said = push(worktree, f"cold{index}")
    if "in a temporary worktree" not in said:
        raise SystemExit(f"the cold push was not gated:\n{said}")
    git(worktree, "commit", "-q", "--allow-empty", "-m", f"same tree {index}")
    cached, said = push(worktree, f"cached{index}")
    if "accepted from the cache" not in said:
        raise SystemExit(f"the cached push was not served from the cache:\n{said}")
    return cold, cached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--checks", default="tests,coverage,lint,types,complexity")
    args = parser.parse_args(argv)
    checks = args.checks.split(",")
    with tempfile.TemporaryDirectory(prefix="gatekeeper-bench-push-") as folder:
        worktree = sample(Path(folder), checks)
        pairs = [repeat(worktree, index) for index in range(args.repeats)]
    cold, cached = [p[0] for p in pairs], [p[1] for p in pairs]
    cold_median, cached_median = statistics.median(cold), statistics.median(cached)
    print(f"checks:   {', '.join(checks)}  ({args.repeats} repeats)")
    print(f"cold:     median {cold_median:6.2f} s   runs {', '.join(f'{s:.2f}' for s in cold)}")
    print(f"cached:   median {cached_median:6.2f} s   runs {', '.join(f'{s:.2f}' for s in cached)}")
    print(f"ratio:    cached / cold = {cached_median / cold_median:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
