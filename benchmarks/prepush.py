"""Cold versus cached ``git push`` through the pre-push hook, side by side in one run.

Usage: ``python benchmarks/prepush.py [--repeats N] [--checks tests,lint,...]``
       ``python benchmarks/prepush.py --real click [--repeats N]``

Builds a small sample project in a temporary directory (a repository, a linked worktree, a local
bare remote) with the hook installed by the interpreter running this script. ``--real NAME``
instead fetches, verifies and adopts one of the pinned projects of tests/realprojects (click,
pluggy) with its own venv and local bare remote, as the tests do, and installs the hook with
that venv's gatekeeper (its checks are the adopted project's, so ``--checks`` does not apply).
Each repeat:

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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests package holds the sample project and git()

from tests.conftest import git, make_project  # noqa: E402


@dataclass(frozen=True)
class Target:
    """Where the pushes are made from, and the environment of the shell that makes them."""

    worktree: Path
    env: Mapping[str, str]


def shell(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) without variables of a surrounding git or pytest."""
    given = os.environ if env is None else env
    return {k: v for k, v in given.items() if not k.startswith(("GIT_", "PYTEST_"))}


def sample(folder: Path, checks: list[str]) -> Target:
    """The sample repository with a remote and a linked worktree, pushed from the worktree."""
    main = make_project(folder / "main", gatekeeper=f"\n[tool.gatekeeper]\nchecks = {checks}\n")
    git(folder, "init", "-q", "--bare", str(folder / "remote.git"))
    git(main, "remote", "add", "origin", str(folder / "remote.git"))
    worktree = folder / "feature"
    git(main, "worktree", "add", "-q", "-b", "feature", str(worktree))
    install = [sys.executable, "-m", "gatekeeper", "hook", "install"]
    subprocess.run(install, cwd=worktree, check=True, capture_output=True)
    return Target(worktree, shell())


def real(name: str, folder: Path) -> Target:
    """A checkout of the pinned project ``name``, prepared as tests/realprojects does it, with
    the hook installed by its venv's gatekeeper; pushed from the checkout, in its venv."""
    from tests.realprojects.workspace import ready

    checkout = ready(name, folder)
    installed = checkout.gatekeeper("hook", "install")
    if installed.returncode != 0:
        raise SystemExit(f"gatekeeper hook install failed:\n{installed.stdout}")
    print(f"{name} {checkout.project.version}")
    return Target(checkout.root, checkout.env)


def push(target: Target, branch: str) -> tuple[float, str]:
    """Seconds one push took and the hook's messages (which say cold or cached)."""
    argv = ["git", "push", "-q", "origin", f"HEAD:refs/heads/{branch}"]
    started = time.perf_counter()
    done = subprocess.run(
        argv,
        cwd=target.worktree,
        env=shell(target.env),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"push of {branch} failed:\n{done.stderr}")
    return seconds, done.stderr


def repeat(target: Target, index: int) -> tuple[float, float]:
    """One cold push of new content, then one cached push of the same tree elsewhere."""
    worktree = target.worktree
    # A file no check reads: the tree is new, so the whole gate runs, and judges what it did.
    (worktree / f"bench-{index}.txt").write_text(f"new content {index}\n")
    git(worktree, "add", "-A")
    git(worktree, "commit", "-q", "-m", f"new content {index}")
    cold, said = push(target, f"cold{index}")
    if "in a temporary worktree" not in said:
        raise SystemExit(f"the cold push was not gated:\n{said}")
    git(worktree, "commit", "-q", "--allow-empty", "-m", f"same tree {index}")
    cached, said = push(target, f"cached{index}")
    if "accepted from the cache" not in said:
        raise SystemExit(f"the cached push was not served from the cache:\n{said}")
    return cold, cached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--checks", default="tests,coverage,lint,types,complexity")
    parser.add_argument("--real", help="a pinned project of tests/realprojects: click, pluggy")
    args = parser.parse_args(argv)
    checks = args.checks.split(",")
    with tempfile.TemporaryDirectory(prefix="gatekeeper-bench-push-") as folder:
        if args.real:
            target = real(args.real, Path(folder))
        else:
            target = sample(Path(folder), checks)
            print(f"checks:   {', '.join(checks)}")
        pairs = [repeat(target, index) for index in range(args.repeats)]
    cold, cached = [p[0] for p in pairs], [p[1] for p in pairs]
    cold_median, cached_median = statistics.median(cold), statistics.median(cached)
    print(f"repeats:  {args.repeats}")
    print(f"cold:     median {cold_median:6.2f} s   runs {', '.join(f'{s:.2f}' for s in cold)}")
    print(f"cached:   median {cached_median:6.2f} s   runs {', '.join(f'{s:.2f}' for s in cached)}")
    print(f"ratio:    cached / cold = {cached_median / cold_median:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
