"""What bytecode keyed by content costs: the first gated run of a changed tree against a rerun
of the same tree.

Usage: ``python benchmarks/bytecode.py [--repeats N] [--checks tests] [-- PYTEST_ARGS...]``
       ``python benchmarks/bytecode.py --real click [--repeats N] [-- -n 2]``

A gated session sends bytecode to a folder of its content's own (gatekeeper/cache/bytecode.py), so
the first run of a changed tree compiles every module it imports after the session starts (the
project's, its tests', and anything else imported late, in every xdist worker from its start),
where classic ``__pycache__`` would recompile only the changed files. Each repeat:

- changed: a file no check reads gets new content (a new tree, so a new bytecode folder), then
  one gated run;
- warm: the same run again on the same tree, its bytecode folder now filled.

The runs carry ``--deselect`` of a test that does not exist: a selection, which the result cache
neither reuses nor stores, so every run runs its tests. The difference of the medians is the
extra time of a changed tree. Without ``--real`` the project is a small sample built here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from prepush import sample as sample_repository

ROOT = Path(__file__).resolve().parents[1]
# A selection that deselects nothing: every run runs the suite, nothing is stored.
SELECTION = ("--deselect", "tests/gatekeeper_bench_none.py::nothing")


def timed(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> float:
    """Seconds one gated run took; a run that fails aborts."""
    started = time.perf_counter()
    done = subprocess.run(list(argv), cwd=cwd, env=dict(env), capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{tail}")
    return seconds


def repeat(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], index: int
) -> tuple[float, float]:
    """One run of a changed tree, then a rerun of the same tree."""
    # Untracked, so in the tree id: a new tree, read by no check.
    (cwd / "gatekeeper-bench-marker.txt").write_text(f"content {index}\n")
    changed = timed(argv, cwd, env)
    return changed, timed(argv, cwd, env)


def target(real: str | None, folder: Path) -> tuple[Path, str, dict[str, str]]:
    """Where to run, with which interpreter, in which environment."""
    if real is None:
        worktree = sample_repository(folder, ["tests"]).worktree
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GIT_"))}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # what is measured is the writing of it
        return worktree, sys.executable, env
    sys.path.insert(0, str(ROOT))  # the tests package prepares real projects
    from tests.realprojects.workspace import ready

    checkout = ready(real, folder)
    print(f"{real} {checkout.project.version}")
    return checkout.root, str(checkout.venv / "bin" / "python"), checkout.env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--checks", default="tests")
    parser.add_argument("--real", help="a pinned project of tests/realprojects: click, pluggy")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gatekeeper-bench-bytecode-") as folder:
        cwd, python, env = target(args.real, Path(folder))
        gate = [python, "-m", "pytest", "--gatekeeper", f"--gatekeeper-checks={args.checks}"]
        command = [*gate, "-q", *SELECTION, *args.pytest_args]
        timed(command, cwd, env)  # warm-up: the interpreter's own caches, the tree id
        pairs = [repeat(command, cwd, env, index) for index in range(args.repeats)]
    changed, warm = [p[0] for p in pairs], [p[1] for p in pairs]
    extra = statistics.median(changed) - statistics.median(warm)
    print(f"checks:   {args.checks}  pytest args: {' '.join(args.pytest_args) or '(none)'}")
    print(f"changed:  median {statistics.median(changed):6.2f} s   runs " + _runs(changed))
    print(f"warm:     median {statistics.median(warm):6.2f} s   runs " + _runs(warm))
    print(f"extra:    {extra:+.2f} s for the first run of a changed tree")
    return 0


def _runs(values: Sequence[float]) -> str:
    return ", ".join(f"{s:.2f}" for s in values)


if __name__ == "__main__":
    raise SystemExit(main())
