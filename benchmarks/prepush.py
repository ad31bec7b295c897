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

FILES = {
    "pkg/__init__.py": '"""A tiny package."""\n\n\ndef add(a: int, b: int) -> int:\n'
    '    """Add two numbers."""\n    return a + b\n',
    "tests/test_add.py": "from pkg import add\n\n\ndef test_add() -> None:\n"
    "    assert add(1, 2) == 3\n",
    ".gitignore": ".gatekeeper/\n__pycache__/\n.mypy_cache/\n.ruff_cache/\n.pytest_cache/\n",
}
PYPROJECT = """\
[project]
name = "sample"
version = "0"

[tool.pytest.ini_options]
pythonpath = ["."]

[tool.gatekeeper]
checks = {checks}
"""


def git(cwd: Path, *args: str) -> str:
    """git as a user runs it (hooks on), without variables of a surrounding git."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PYTEST_"))}
    env.update(GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.invalid")
    env.update(GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.invalid")
    argv = ["git", *args]
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout.strip()


def sample(folder: Path, checks: list[str]) -> Path:
    """The sample repository with a remote and a linked worktree; the worktree's path."""
    main = folder / "main"
    files = {**FILES, "pyproject.toml": PYPROJECT.format(checks=checks)}
    for name, text in files.items():
        (main / name).parent.mkdir(parents=True, exist_ok=True)
        (main / name).write_text(text)
    git(main, "init", "-q", "-b", "main")
    git(main, "add", "-A")
    git(main, "commit", "-q", "-m", "initial")
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
